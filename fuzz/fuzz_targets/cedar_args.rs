//! Cedar entities and context built from arbitrary tool arguments (and arbitrary token claims),
//! through `PolicyEngine::authorize` with the shipped schema, tool schemas and example policies
//! of `policies/`. Never a panic; and the shipped `files-no-parent-segments` rule holds for
//! whatever the arguments are.
//!
//! Input: byte 0 picks the tool of `policies/tools.json`, byte 1 the caller's groups and the
//! pin/findings state, the rest is the JSON arguments (also used as the caller's claims).
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use portcullis::identity::Principal;
use portcullis::policy::{Action, PolicyEngine, RequestEnv, ResourceRef};
use serde_json::Value;

const SCHEMAS: &[(&str, &str)] = &[
    (
        "portcullis.cedarschema",
        include_str!("../../policies/portcullis.cedarschema"),
    ),
    (
        "tools.cedarschema",
        include_str!("../../policies/tools.cedarschema"),
    ),
];
const POLICIES: &[(&str, &str)] = &[
    ("base.cedar", include_str!("../../policies/base.cedar")),
    ("files.cedar", include_str!("../../policies/files.cedar")),
    ("hours.cedar", include_str!("../../policies/hours.cedar")),
    ("memory.cedar", include_str!("../../policies/memory.cedar")),
];
const TOOLS: &str = include_str!("../../policies/tools.json");

struct Fixture {
    engine: PolicyEngine,
    tools: Vec<Value>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let own = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect()
        };
        let engine = PolicyEngine::from_sources(&own(SCHEMAS), &own(POLICIES))
            .unwrap_or_else(|e| panic!("shipped policies do not load: {e}"));
        let tools: Vec<Value> = serde_json::from_str(TOOLS).expect("policies/tools.json");
        Fixture { engine, tools }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let [pick, flags, rest @ ..] = data else {
        return;
    };
    let Ok(args) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let Some(def) = f.tools.get(usize::from(*pick) % f.tools.len()) else {
        return;
    };
    let name = def.get("name").and_then(Value::as_str).unwrap_or("x__y");
    let (backend, original) = name.split_once("__").unwrap_or(("demo", name));
    let mut groups = Vec::new();
    if flags & 1 != 0 {
        groups.push("admins".to_owned());
    }
    if flags & 2 != 0 {
        groups.push("eng".to_owned());
    }
    let principal = Principal {
        issuer: "https://idp.example.com".into(),
        subject: "alice".into(),
        groups,
        scopes: vec!["mcp".into()],
        claims: args.clone(),
        anonymous: false,
    };
    let findings = if flags & 8 != 0 {
        vec!["shadowing".to_owned()]
    } else {
        Vec::new()
    };
    let tool = ResourceRef::Tool {
        exposed: name,
        original,
        backend,
        definition: def,
        pinned: flags & 4 != 0,
        findings: &findings,
    };
    // A Tuesday at 10:00 UTC, inside business hours, so `hours.cedar` does not hide the rest.
    let env = RequestEnv {
        now: UNIX_EPOCH + Duration::from_secs(1_764_669_600),
        client_address: "127.0.0.1:5000".into(),
        client_name: "fuzz".into(),
        client_version: "1".into(),
        protocol_version: "2025-11-25".into(),
    };
    let d = f
        .engine
        .authorize(&principal, Action::CallTool, tool, Some(&args), &env);
    if backend == "files"
        && let Some(path) = args.get("path").and_then(Value::as_str)
        && path.contains("..")
    {
        assert!(!d.allowed, "`..` in path allowed: {args} -> {d:?}");
    }
    let _ = f.engine.entities_json(&principal, tool, Some(&args));
    let _ = f.engine.visible_tools(&principal, &[tool]);
    let prompt = ResourceRef::Prompt {
        exposed: name,
        original,
        backend,
    };
    let _ = f
        .engine
        .authorize(&principal, Action::GetPrompt, prompt, Some(&args), &env);
});
