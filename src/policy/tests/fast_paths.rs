//! The fast paths of the engine agree with Cedar: list filtering (per-policy outcomes shared
//! between tools) against whole-slice partial evaluation, on the shipped policies and on
//! random policy sets; skipped schema checks and cached callers never change a decision.

use super::*;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[usize::try_from(self.next() % v.len() as u64).unwrap()]
    }
}

fn shipped_engine() -> PolicyEngine {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    PolicyEngine::load(&PolicySources {
        schema: root.join("portcullis.cedarschema"),
        policies: root,
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn shipped_tools() -> Vec<(String, String, Value)> {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/tools.json"),
    )
    .unwrap();
    let defs: Vec<Value> = serde_json::from_str(&text).unwrap();
    defs.into_iter()
        .map(|d| {
            let name = d["name"].as_str().unwrap().to_owned();
            let backend = name.split("__").next().unwrap().to_owned();
            (name, backend, d)
        })
        .collect()
}

fn test_principals() -> Vec<Principal> {
    let mut anon = principal("anon", &[]);
    anon.issuer = String::new();
    let mut dept = principal("dora", &["g1", "sales"]);
    dept.claims = json!({ "sub": "dora", "department": "d1", "level": "7" });
    vec![
        principal("ann", &["admins"]),
        principal("eve", &["eng"]),
        principal("max", &["eng", "admins"]),
        principal("sam", &["sales"]),
        principal("nog", &[]),
        anon,
        dept,
    ]
}

/// Every tool as listed, plus unpinned and with-findings variants.
fn tool_variants<'a>(
    defs: &'a [(String, String, Value)],
    findings: &'a [String],
) -> Vec<ResourceRef<'a>> {
    let mut out = Vec::new();
    for (name, backend, def) in defs {
        for (pinned, f) in [(true, &[][..]), (false, &[][..]), (true, findings)] {
            out.push(ResourceRef::Tool {
                exposed: name,
                original: name,
                backend,
                definition: def,
                pinned,
                findings: f,
            });
        }
    }
    out
}

/// The per-policy, shared-outcome list filtering gives Cedar's partial decision over each
/// tool's whole slice, for the shipped policies and tools.
#[test]
fn list_filtering_agrees_with_partial_evaluation_on_shipped_policies() {
    let e = shipped_engine();
    let defs = shipped_tools();
    assert_eq!(defs.len(), 29);
    let findings = vec!["shadowing".to_owned()];
    let tools = tool_variants(&defs, &findings);
    let mut shown = 0;
    let mut hidden = 0;
    for p in test_principals() {
        e.clear_caches();
        let reference = e.visible_tools_reference(&p, &tools);
        e.clear_caches();
        let fast = e.visible_tools(&p, &tools);
        assert_eq!(fast, reference, "principal {:?}", p.groups);
        // Cached answers, and one tool at a time (nothing shared between tools).
        assert_eq!(e.visible_tools(&p, &tools), reference);
        e.clear_caches();
        let alone: Vec<bool> = tools.iter().map(|t| e.may_ever_call(&p, *t)).collect();
        assert_eq!(alone, reference, "principal {:?}", p.groups);
        shown += reference.iter().filter(|v| **v).count();
        hidden += reference.iter().filter(|v| !**v).count();
    }
    // Both answers occur, so the comparison means something.
    assert!(shown > 20 && hidden > 20, "{shown} shown, {hidden} hidden");
}

const CONDITIONS: &[&str] = &[
    "",
    "when { resource.read_only }",
    "when { resource.destructive }",
    "unless { resource.read_only }",
    "when { !resource.findings.isEmpty() }",
    "when { resource.pinned && resource.open_world }",
    "when { resource.backend == \"b1\" }",
    "when { resource.name like \"*t1*\" }",
    "when { resource.original_name == \"b0__t0\" }",
    "when { resource in Backend::\"b2\" }",
    "when { resource == Tool::\"b1__t2\" }",
    "when { context.now.hour >= 8 }",
    "when { context.now.hour >= 8 && resource.read_only }",
    "when { resource.read_only && context.now.hour >= 8 }",
    "when { resource.read_only || context.now.hour >= 8 }",
    "unless { resource.destructive || context.now.weekday <= 5 }",
    "when { context.args.hasTag(\"path\") && context.args.getTag(\"path\") like \"/srv/*\" }",
    "when { principal.iss != \"\" }",
    "when { principal in Group::\"eng\" }",
    "unless { principal in Group::\"admins\" }",
    "when { context.now.unix * 10000000000 > 0 }",
    "when { resource.read_only && context.now.unix * 10000000000 > 0 }",
    "when { principal.hasTag(\"department\") && principal.getTag(\"department\") == \"d1\" }",
    "when { principal.hasTag(\"level\") && principal.getTag(\"level\") == \"7\" && context.now.hour < 20 }",
    "when { false }",
    "when { resource.destructive && principal in Group::\"sales\" }",
];

const PRINCIPALS: &[&str] = &[
    "principal",
    "principal",
    "principal in Group::\"eng\"",
    "principal in Group::\"admins\"",
    "principal in Group::\"sales\"",
    "principal == User::\"https://idp.example.com|eve\"",
    "principal is User",
    "principal is User in Group::\"g1\"",
];

const ACTIONS: &[&str] = &[
    "action in Action::\"call_tool\"",
    "action in Action::\"call_tool\"",
    "action",
    "action == Action::\"call_tool\"",
    "action == Action::\"get_prompt\"",
];

const RESOURCES: &[&str] = &[
    "resource",
    "resource",
    "resource in Backend::\"b0\"",
    "resource in Backend::\"b1\"",
    "resource == Tool::\"b0__t1\"",
    "resource == Tool::\"b1__t2\"",
    "resource is Tool",
    "resource is Tool in Backend::\"b2\"",
];

fn random_policies(rng: &mut Rng, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let effect = if rng.next() % 3 == 0 {
            "forbid"
        } else {
            "permit"
        };
        let action = rng.pick(ACTIONS);
        // `resource is Tool` scopes fit only actions on tools.
        let resource = if action.contains("get_prompt") {
            "resource"
        } else {
            rng.pick(RESOURCES)
        };
        let mut cond = rng.pick(CONDITIONS).to_owned();
        if action.contains("get_prompt") || action == "action" {
            // Keep the validator happy: only tool attributes on tool actions.
            if cond.contains("resource") {
                cond = "when { context.now.hour >= 8 }".into();
            }
        }
        out.push_str(&format!(
            "@id(\"r{i}\") {effect}({}, {action}, {resource}) {cond};\n",
            rng.pick(PRINCIPALS)
        ));
    }
    out
}

fn random_tools(rng: &mut Rng) -> Vec<(String, String, Value, bool, Vec<String>)> {
    let mut out = Vec::new();
    for b in 0..4 {
        for t in 0..5 {
            let hint = |rng: &mut Rng| match rng.next() % 3 {
                0 => Value::Null,
                1 => Value::Bool(true),
                _ => Value::Bool(false),
            };
            let def = json!({ "annotations": {
                "readOnlyHint": hint(rng), "destructiveHint": hint(rng),
                "openWorldHint": hint(rng) } });
            let pinned = rng.next() % 4 != 0;
            let findings = if rng.next() % 6 == 0 {
                vec!["poisoned".to_owned()]
            } else {
                Vec::new()
            };
            out.push((
                format!("b{b}__t{t}"),
                format!("b{b}"),
                def,
                pinned,
                findings,
            ));
        }
    }
    out
}

/// Randomized policy sets: list filtering agrees with Cedar's partial decision over each
/// tool's whole slice, and decisions with Cedar over the whole policy set.
#[test]
fn fast_paths_agree_with_cedar_on_random_policy_sets() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut compared = 0;
    let mut shown = 0;
    let mut open_scopes = 0;
    for round in 0..40 {
        let text = random_policies(&mut rng, 4 + round % 12);
        let e = match PolicyEngine::from_sources(
            &[("portcullis.cedarschema".to_owned(), SCHEMA.to_owned())],
            &[("p.cedar".to_owned(), text.clone())],
        ) {
            Ok(e) => e,
            Err(err) => panic!("generated policies must validate: {err}\n{text}"),
        };
        open_scopes += usize::from(e.open_scopes);
        let all = PolicySet::from_policies(e.policies.iter().map(|p| p.policy.clone())).unwrap();
        let specs = random_tools(&mut rng);
        let tools: Vec<ResourceRef<'_>> = specs
            .iter()
            .map(|(n, b, d, pinned, f)| ResourceRef::Tool {
                exposed: n,
                original: n,
                backend: b,
                definition: d,
                pinned: *pinned,
                findings: f,
            })
            .collect();
        for p in test_principals() {
            e.clear_caches();
            let reference = e.visible_tools_reference(&p, &tools);
            e.clear_caches();
            assert_eq!(
                e.visible_tools(&p, &tools),
                reference,
                "{text}\n{:?}",
                p.groups
            );
            shown += reference.iter().filter(|v| **v).count();
            compared += reference.len();
            for (t, hour) in tools.iter().zip([3u64, 9, 12, 21].iter().cycle()) {
                let env = RequestEnv {
                    now: std::time::UNIX_EPOCH
                        + std::time::Duration::from_secs(1_767_571_200 + hour * 3600),
                    ..RequestEnv::now()
                };
                let args = json!({ "path": if hour % 2 == 0 { "/srv/x" } else { "/etc/x" } });
                let d = e.authorize(&p, Action::CallTool, *t, Some(&args), &env);
                let prepared = e
                    .prepare(&p, Action::CallTool, t, Some(&args), &env)
                    .unwrap_or_else(|d| panic!("{d:?}"));
                let r = e
                    .authorizer
                    .is_authorized(&prepared.request, &all, &prepared.entities);
                let mut reasons: Vec<String> =
                    r.diagnostics().reason().map(ToString::to_string).collect();
                let mut got = d.reasons.clone();
                reasons.sort();
                got.sort();
                assert_eq!(
                    d.allowed,
                    r.decision() == cedar_policy::Decision::Allow,
                    "{text}\n{:?} {}",
                    p.groups,
                    t.id()
                );
                assert_eq!(got, reasons, "{text}");
                assert_eq!(d.errors.len(), r.diagnostics().errors().count(), "{text}");
                // A decision never contradicts the list: allowed implies visible.
                if d.allowed {
                    assert!(e.may_ever_call(&p, *t), "{text}\n{}", t.id());
                }
            }
        }
    }
    assert!(
        compared > 1000 && shown > 100 && shown < compared,
        "{shown}/{compared}"
    );
    // Both list-filtering paths ran: scope-free evaluation, and the shared store (conditions
    // that name a target entity).
    assert!(open_scopes > 5 && open_scopes < 35, "{open_scopes} of 40");
}

/// The schema check skipped for repeated requests is still done for each new resource type.
#[test]
fn skipped_schema_checks_are_per_action_and_resource_type() {
    let e = engine(r#"@id("all") permit(principal, action, resource);"#);
    let p = principal("eve", &["eng"]);
    let def = json!({});
    let env = RequestEnv::now();
    for _ in 0..2 {
        assert!(
            e.authorize(
                &p,
                Action::CallTool,
                tool("demo__echo", "demo", &def, true),
                None,
                &env
            )
            .allowed
        );
        let prompt = ResourceRef::Prompt {
            exposed: "demo__greet",
            original: "greet",
            backend: "demo",
        };
        let d = e.authorize(&p, Action::CallTool, prompt, None, &env);
        assert!(!d.allowed, "{d:?}");
        assert!(!d.errors.is_empty(), "{d:?}");
        assert!(
            e.authorize(&p, Action::GetPrompt, prompt, None, &env)
                .allowed
        );
    }
}

/// The caller cache notices changed groups and claims for the same subject.
#[test]
fn changed_caller_facts_are_not_served_from_cache() {
    let e = engine(
        r#"@id("eng") permit(principal in Group::"eng", action in Action::"call_tool", resource);
@id("d1") forbid(principal, action, resource) when { principal.hasTag("department") && principal.getTag("department") == "d1" };"#,
    );
    let def = json!({});
    let env = RequestEnv::now();
    let t = tool("demo__echo", "demo", &def, true);
    let mut p = principal("eve", &["eng"]);
    assert!(e.authorize(&p, Action::CallTool, t, None, &env).allowed);
    assert!(e.may_ever_call(&p, t));
    p.claims = json!({ "sub": "eve", "department": "d1" });
    assert!(!e.authorize(&p, Action::CallTool, t, None, &env).allowed);
    assert!(!e.may_ever_call(&p, t));
    p.claims = json!({ "sub": "eve" });
    p.groups = vec!["sales".into()];
    assert!(!e.authorize(&p, Action::CallTool, t, None, &env).allowed);
    assert!(!e.may_ever_call(&p, t));
}
