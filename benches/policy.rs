//! Policy decision speed: one `authorize` with 10, 100 and 1,000 policies, and filtering a
//! 500-tool list with `visible_tools` (Cedar partial evaluation per tool).
//!
//! The policy sets look like a real deployment's: a handful of broad rules (read-only for
//! everyone, destructive for admins, business hours), then per-backend and per-tool rules on
//! groups, arguments and time. `unscoped` repeats the 1,000-policy case with every policy's
//! resource left open, the worst case for the engine's scope index.
//!
//! Run: `cargo bench --bench policy`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::identity::Principal;
use portcullis::policy::{Action, PolicyEngine, RequestEnv, ResourceRef};
use serde_json::{Value, json};

const SCHEMA: &str = include_str!("../policies/portcullis.cedarschema");
const BACKENDS: usize = 20;
const TOOLS_PER_BACKEND: usize = 25;

fn tool_name(b: usize, t: usize) -> String {
    format!("b{b}__tool{t}")
}

fn policies(n: usize, scoped: bool) -> String {
    let mut p = String::from(
        r#"
@id("read-only") permit(principal, action in Action::"call_tool", resource) when { resource.read_only && principal.iss != "" };
@id("admins") permit(principal in Group::"admins", action in Action::"call_tool", resource);
@id("destructive") forbid(principal, action in Action::"call_tool", resource) when { resource.destructive } unless { principal in Group::"admins" };
@id("findings") forbid(principal, action in Action::"call_tool", resource) when { !resource.findings.isEmpty() };
@id("hours") forbid(principal, action in Action::"call_tool", resource) unless { resource.read_only || (context.now.weekday <= 5 && context.now.hour >= 8 && context.now.hour < 18) };
"#,
    );
    for i in 5..n {
        let b = i % BACKENDS;
        let t = (i / BACKENDS) % TOOLS_PER_BACKEND;
        let g = i % 37;
        let res = |scope: String| if scoped { scope } else { "resource".into() };
        let rule = match i % 4 {
            0 => format!(
                "@id(\"p{i}\") forbid(principal, action, {}) unless {{ principal in Group::\"g{g}\" || principal in Group::\"eng\" }};",
                res(format!("resource in Backend::\"b{b}\""))
            ),
            1 => format!(
                "@id(\"p{i}\") permit(principal in Group::\"g{g}\", action in Action::\"call_tool\", {}) when {{ context.now.hour >= 6 }};",
                res(format!("resource == Tool::\"{}\"", tool_name(b, t)))
            ),
            2 => format!(
                "@id(\"p{i}\") permit(principal, action in Action::\"call_tool\", {}) when {{ context.args.hasTag(\"path\") && context.args.getTag(\"path\") like \"/srv/{g}/*\" }};",
                res(format!("resource == Tool::\"{}\"", tool_name(b, t)))
            ),
            _ => format!(
                "@id(\"p{i}\") forbid(principal, action in Action::\"call_tool\", {}) when {{ principal.hasTag(\"department\") && principal.getTag(\"department\") == \"d{g}\" }};",
                res(format!("resource == Tool::\"{}\"", tool_name(b, t)))
            ),
        };
        p.push_str(&rule);
        p.push('\n');
    }
    p
}

fn engine(n: usize, scoped: bool) -> PolicyEngine {
    match PolicyEngine::from_sources(
        &[("portcullis.cedarschema".into(), SCHEMA.into())],
        &[("bench.cedar".into(), policies(n, scoped))],
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench policies do not validate:\n{e}");
            std::process::exit(1)
        }
    }
}

fn principal() -> Principal {
    Principal {
        issuer: "https://idp.example.com".into(),
        subject: "alice".into(),
        groups: vec!["eng".into(), "g3".into(), "staff".into()],
        scopes: vec!["openid".into(), "mcp".into()],
        claims: json!({
            "iss": "https://idp.example.com", "sub": "alice", "aud": "https://mcp.example.com/mcp",
            "exp": 1_900_000_000, "iat": 1_800_000_000, "email": "alice@example.com",
            "department": "d7", "groups": ["eng", "g3", "staff"], "scope": "openid mcp",
            "realm_access": { "roles": ["user", "dev"] }
        }),
        anonymous: false,
    }
}

fn definition(i: usize) -> Value {
    json!({
        "name": format!("tool{i}"),
        "inputSchema": { "type": "object", "properties": { "path": { "type": "string" } } },
        "annotations": { "readOnlyHint": i % 3 == 0, "destructiveHint": i % 5 == 0 }
    })
}

fn bench(c: &mut Criterion) {
    let p = principal();
    let env = RequestEnv {
        client_address: "203.0.113.7".into(),
        client_name: "claude-code".into(),
        client_version: "2.1.0".into(),
        protocol_version: "2025-11-25".into(),
        // Monday noon UTC, inside the business-hours window, so results do not depend on when
        // the benchmark runs.
        now: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_614_400),
    };
    let def = definition(1);
    let args = json!({ "path": "/srv/3/report.txt", "limit": 10, "opts": { "recursive": true } });
    let name = tool_name(3, 0);
    let target = ResourceRef::Tool {
        exposed: &name,
        original: "tool0",
        backend: "b3",
        definition: &def,
        pinned: true,
        findings: &[],
    };
    // A tool whose policies read `context.args`: the arguments entity is built per request.
    let args_name = tool_name(2, 1);
    let args_target = ResourceRef::Tool {
        exposed: &args_name,
        original: "tool1",
        backend: "b2",
        definition: &def,
        pinned: true,
        findings: &[],
    };
    let args22 = json!({ "path": "/srv/22/report.txt", "limit": 10 });
    let mut g = c.benchmark_group("authorize");
    for (label, n, scoped) in [
        ("10", 10, true),
        ("100", 100, true),
        ("1000", 1000, true),
        ("1000_unscoped", 1000, false),
    ] {
        let e = engine(n, scoped);
        g.bench_function(label, |b| {
            b.iter(|| {
                black_box(e.authorize(black_box(&p), Action::CallTool, target, Some(&args), &env))
            })
        });
        if n >= 100 && scoped {
            let d = e.authorize(&p, Action::CallTool, args_target, Some(&args22), &env);
            if !d.allowed {
                eprintln!("the args case should be allowed: {d:?}");
                std::process::exit(1);
            }
            g.bench_function(format!("{label}_args_policy"), |b| {
                b.iter(|| {
                    black_box(e.authorize(
                        black_box(&p),
                        Action::CallTool,
                        args_target,
                        Some(&args22),
                        &env,
                    ))
                })
            });
        }
    }
    g.finish();

    let defs: Vec<(String, String, Value)> = (0..BACKENDS * TOOLS_PER_BACKEND)
        .map(|i| {
            (
                tool_name(i % BACKENDS, i / BACKENDS),
                format!("b{}", i % BACKENDS),
                definition(i),
            )
        })
        .collect();
    let tools: Vec<ResourceRef<'_>> = defs
        .iter()
        .map(|(n, b, d)| ResourceRef::Tool {
            exposed: n,
            original: n,
            backend: b,
            definition: d,
            pinned: true,
            findings: &[],
        })
        .collect();
    let mut g = c.benchmark_group("filter_500_tools");
    g.sample_size(20);
    for (label, n) in [("100", 100), ("1000", 1000)] {
        let e = engine(n, true);
        // Cold: no cached slices, caller or answers (a fresh engine after a reload).
        g.bench_function(format!("{label}_cold"), |b| {
            b.iter(|| {
                e.clear_caches();
                black_box(e.visible_tools(black_box(&p), &tools))
            })
        });
        // Warm: the same caller lists again (answers cached per engine).
        g.bench_function(format!("{label}_warm"), |b| {
            b.iter(|| black_box(e.visible_tools(black_box(&p), &tools)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
