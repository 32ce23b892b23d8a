use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cedar_policy::{PolicySet, Schema};
use serde_json::{Value, json};

use super::testing::parse_utc;
use super::*;
use crate::config::Config;
use crate::identity::Principal;

const SCHEMA: &str = include_str!("../../../policies/portcullis.cedarschema");

fn principal(sub: &str, groups: &[&str]) -> Principal {
    Principal {
        issuer: "https://idp.example.com".into(),
        subject: sub.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        scopes: vec!["mcp".into()],
        claims: json!({ "sub": sub, "email": format!("{sub}@example.com"),
                        "realm_access": { "roles": ["r1"] }, "level": 3 }),
        anonymous: false,
    }
}

fn engine(policies: &str) -> PolicyEngine {
    engine_with(&[], policies)
}

fn engine_with(extra_schema: &[&str], policies: &str) -> PolicyEngine {
    let mut schemas = vec![("portcullis.cedarschema".to_owned(), SCHEMA.to_owned())];
    for (i, s) in extra_schema.iter().enumerate() {
        schemas.push((format!("extra{i}.cedarschema"), (*s).to_owned()));
    }
    PolicyEngine::from_sources(&schemas, &[("p.cedar".to_owned(), policies.to_owned())])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn env_at(t: &str) -> RequestEnv {
    RequestEnv {
        now: parse_utc(t).unwrap(),
        ..RequestEnv::now()
    }
}

fn read_file_def() -> Value {
    json!({
        "name": "read_text_file",
        "inputSchema": {
            "type": "object",
            "properties": {
                "path": { "type": "string" },
                "tail": { "type": "number" },
                "head": { "type": "integer" },
                "opts": { "type": "object", "properties": { "follow": { "type": "boolean" } },
                          "required": ["follow"] },
                "tags": { "type": "array", "items": { "type": "string" } },
                "mixed": { "anyOf": [{ "type": "string" }, { "type": "integer" }] }
            },
            "required": ["path"]
        },
        "annotations": { "readOnlyHint": true, "openWorldHint": false }
    })
}

fn tool<'a>(name: &'a str, backend: &'a str, def: &'a Value, pinned: bool) -> ResourceRef<'a> {
    ResourceRef::Tool {
        exposed: name,
        original: name,
        backend,
        definition: def,
        pinned,
        findings: &[],
    }
}

#[test]
fn default_deny_and_permit_reasons() {
    let e = engine(
        r#"@id("eng-echo") permit(principal in Group::"eng", action in Action::"call_tool", resource == Tool::"demo__echo");"#,
    );
    let def = json!({});
    let env = RequestEnv::now();
    let d = e.authorize(
        &principal("alice", &["eng"]),
        Action::CallTool,
        tool("demo__echo", "demo", &def, true),
        None,
        &env,
    );
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.reasons, vec!["eng-echo".to_owned()]);
    let d = e.authorize(
        &principal("bob", &["sales"]),
        Action::CallTool,
        tool("demo__echo", "demo", &def, true),
        None,
        &env,
    );
    assert!(!d.allowed);
    assert!(d.reasons.is_empty());
    let d = e.authorize(
        &principal("alice", &["eng"]),
        Action::CallTool,
        tool("demo__add", "demo", &def, true),
        None,
        &env,
    );
    assert!(!d.allowed, "other tools are not permitted");
}

#[test]
fn forbid_wins_and_is_the_reason() {
    let e = engine(
        r#"
        @id("all") permit(principal, action, resource);
        @id("no-destructive") forbid(principal, action in Action::"call_tool", resource) when { resource.destructive };
        "#,
    );
    let ro = json!({ "annotations": { "readOnlyHint": true } });
    let env = RequestEnv::now();
    let p = principal("alice", &[]);
    let d = e.authorize(&p, Action::CallTool, tool("t", "b", &ro, true), None, &env);
    assert!(d.allowed);
    // Unpinned: annotations are not trusted, so the tool counts as destructive.
    let d = e.authorize(&p, Action::CallTool, tool("t", "b", &ro, false), None, &env);
    assert!(!d.allowed);
    assert_eq!(d.reasons, vec!["no-destructive".to_owned()]);
}

#[test]
fn annotations_follow_mcp_defaults() {
    let t = ToolTraits::from_definition(&json!({}), true);
    assert_eq!(
        t,
        ToolTraits {
            read_only: false,
            destructive: true,
            idempotent: false,
            open_world: true
        }
    );
    let t = ToolTraits::from_definition(
        &json!({ "annotations": { "readOnlyHint": true, "openWorldHint": false } }),
        true,
    );
    assert!(t.read_only && !t.destructive && t.idempotent && !t.open_world);
    let t = ToolTraits::from_definition(
        &json!({ "annotations": { "readOnlyHint": true, "destructiveHint": false } }),
        false,
    );
    assert!(!t.read_only && t.destructive, "unpinned is conservative");
}

#[test]
fn claims_and_arguments_are_string_tags() {
    let e = engine(
        r#"
        @id("claims") permit(principal, action in Action::"call_tool", resource)
        when { principal.hasTag("email") && principal.getTag("email") like "*@example.com"
               && principal.hasTag("realm_access.roles")
               && principal.getTag("realm_access.roles") == "[\"r1\"]"
               && principal.hasTag("level") && principal.getTag("level") == "3"
               && context.args.hasTag("opts.depth") && context.args.getTag("opts.depth") == "2"
               && context.args.hasTag("list") && context.args.getTag("list") == "[1,2]"
               && context.args.hasTag("path") && context.args.getTag("path") like "/srv/*" };
        "#,
    );
    let def = json!({});
    let args = json!({ "path": "/srv/x", "opts": { "depth": 2 }, "list": [1, 2] });
    let d = e.authorize(
        &principal("alice", &[]),
        Action::CallTool,
        tool("t", "b", &def, true),
        Some(&args),
        &RequestEnv::now(),
    );
    assert!(d.allowed, "{d:?}");
    let args = json!({ "path": "/etc/x", "opts": { "depth": 2 }, "list": [1, 2] });
    let d = e.authorize(
        &principal("alice", &[]),
        Action::CallTool,
        tool("t", "b", &def, true),
        Some(&args),
        &RequestEnv::now(),
    );
    assert!(!d.allowed);
    // A dotted key that collides with a nested object is refused.
    let args = json!({ "opts.depth": "2", "opts": { "depth": 9 } });
    let d = e.authorize(
        &principal("alice", &[]),
        Action::CallTool,
        tool("t", "b", &def, true),
        Some(&args),
        &RequestEnv::now(),
    );
    assert!(!d.allowed);
    assert!(
        d.errors.join(" ").contains("`opts.depth` is given twice"),
        "{d:?}"
    );
}

#[test]
fn entities_conform_to_the_schema() {
    let e = engine("permit(principal, action, resource);");
    let def = read_file_def();
    let v = e
        .entities_json(
            &principal("alice", &["eng", "admins"]),
            tool("files__read_text_file", "files", &def, true),
            Some(&json!({ "path": "/srv/public/a", "n": 1, "deep": { "a": { "b": true } } })),
        )
        .unwrap();
    let text = v.to_string();
    assert!(text.contains("https://idp.example.com|alice"), "{text}");
    assert!(text.contains("deep.a.b"), "{text}");
}

#[test]
fn schema_fragment_maps_json_schema_types() {
    let def = read_file_def();
    let frag = schema_fragment(&[("files__read_text_file".into(), def)]);
    assert!(
        frag.contains(r#"action "call_tool:files__read_text_file" in [Action::"call_tool"]"#),
        "{frag}"
    );
    assert!(frag.contains(r#""path": String"#), "{frag}");
    assert!(frag.contains(r#""head"?: Long"#), "{frag}");
    assert!(frag.contains(r#""tags"?: Set<String>"#), "{frag}");
    assert!(frag.contains(r#""follow": Bool"#), "{frag}");
    assert!(!frag.contains("tail"), "numbers are left out: {frag}");
    assert!(!frag.contains("mixed"), "anyOf is left out: {frag}");
    // The fragment is valid together with the base schema.
    let (_s, _) = Schema::from_cedarschema_str(&format!("{SCHEMA}\n{frag}")).unwrap();
    // Odd names are quoted.
    let frag = schema_fragment(&[(
        "we\"ird".into(),
        json!({ "inputSchema": { "type": "object", "properties": { "a-b c": { "type": "string" } } } }),
    )]);
    let _ = Schema::from_cedarschema_str(&format!("{SCHEMA}\n{frag}")).unwrap();
}

#[test]
fn typed_arguments_are_validated_and_checked() {
    let def = read_file_def();
    let frag = schema_fragment(&[("files__read_text_file".into(), def.clone())]);
    let e = engine_with(
        &[&frag],
        r#"
        @id("public-reads") permit(principal, action == Action::"call_tool:files__read_text_file", resource)
        when { context.arguments.path like "/srv/public/*"
               && (if context.arguments has head then context.arguments.head < 100 else true) };
        "#,
    );
    assert_eq!(
        e.typed_tools().collect::<Vec<_>>(),
        vec!["files__read_text_file"]
    );
    let p = principal("alice", &[]);
    let env = RequestEnv::now();
    let t = tool("files__read_text_file", "files", &def, true);
    let ok = json!({ "path": "/srv/public/a.txt", "tail": 1.5, "extra": "dropped" });
    let d = e.authorize(&p, Action::CallTool, t, Some(&ok), &env);
    assert!(d.allowed, "{d:?}");
    let d = e.authorize(
        &p,
        Action::CallTool,
        t,
        Some(&json!({ "path": "/etc/passwd" })),
        &env,
    );
    assert!(!d.allowed);
    let d = e.authorize(
        &p,
        Action::CallTool,
        t,
        Some(&json!({ "path": "/srv/public/a", "head": 1000 })),
        &env,
    );
    assert!(!d.allowed);
    // Violations of the typed schema are denied with a reason saying so.
    for (args, what) in [
        (json!({ "path": 7 }), "`path` must be a string"),
        (json!({}), "`path` is required"),
        (
            json!({ "path": "/srv/public/a", "head": "x" }),
            "`head` must be an integer",
        ),
        (
            json!({ "path": "/srv/public/a", "opts": {} }),
            "`opts.follow` is required",
        ),
        (
            json!({ "path": "/srv/public/a", "tags": [1] }),
            "`tags[0]` must be a string",
        ),
    ] {
        let d = e.authorize(&p, Action::CallTool, t, Some(&args), &env);
        assert!(!d.allowed, "{args}");
        let msg = d.errors.join(" ");
        assert!(msg.contains("typed schema"), "{msg}");
        assert!(msg.contains(what), "{what} not in {msg}");
    }
}

#[test]
fn typed_policy_mistakes_are_caught_by_the_validator() {
    let frag = schema_fragment(&[("files__read_text_file".into(), read_file_def())]);
    let schemas = vec![
        ("portcullis.cedarschema".to_owned(), SCHEMA.to_owned()),
        ("tools.cedarschema".to_owned(), frag),
    ];
    let text = "// header\n\npermit(principal, action == Action::\"call_tool:files__read_text_file\", resource)\nwhen { context.arguments.pth like \"/srv/*\" };\n";
    let err = PolicyEngine::from_sources(&schemas, &[("x.cedar".into(), text.into())])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("x.cedar:4:"), "{err}");
    assert!(err.contains("pth"), "{err}");
}

#[test]
fn errors_name_file_and_line() {
    let schemas = vec![("portcullis.cedarschema".to_owned(), SCHEMA.to_owned())];
    // Parse error.
    let err = PolicyEngine::from_sources(
        &schemas,
        &[
            (
                "ok.cedar".into(),
                "permit(principal, action, resource);".into(),
            ),
            (
                "bad.cedar".into(),
                "\n\npermit(principal, action, resource)\nwhen { true }".into(),
            ),
        ],
    )
    .unwrap_err();
    let d = err.diagnostics();
    assert_eq!(d.len(), 1, "{err}");
    assert_eq!(d[0].file, "bad.cedar", "{err}");
    assert!(d[0].line >= 3, "{err}");
    // Strict validation: unknown attribute, on line 3.
    let err = PolicyEngine::from_sources(
        &schemas,
        &[(
            "v.cedar".into(),
            "permit(principal, action, resource);\n\npermit(principal, action in Action::\"call_tool\", resource) when { resource.nam == \"x\" };".into(),
        )],
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("v.cedar:3:"), "{err}");
    assert!(err.contains("nam"), "{err}");
    // Unknown entity type.
    let err = PolicyEngine::from_sources(
        &schemas,
        &[(
            "u.cedar".into(),
            "permit(principal == Usr::\"x\", action, resource);".into(),
        )],
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("u.cedar:1:"), "{err}");
    // Schema errors name the schema part and line.
    let err = PolicyEngine::from_sources(
        &[
            ("portcullis.cedarschema".to_owned(), SCHEMA.to_owned()),
            (
                "more.cedarschema".to_owned(),
                "\n\nentity Foo {\n  a: Strin,\n};\n".to_owned(),
            ),
        ],
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("more.cedarschema:"), "{err}");
    // Duplicate ids.
    let err = PolicyEngine::from_sources(
        &schemas,
        &[(
            "d.cedar".into(),
            "@id(\"a\") permit(principal, action, resource);\n@id(\"a\") forbid(principal, action, resource);".into(),
        )],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("d.cedar:2: duplicate policy id `a`"), "{err}");
    // Templates are refused.
    let err = PolicyEngine::from_sources(
        &schemas,
        &[(
            "t.cedar".into(),
            "permit(principal == ?principal, action, resource);".into(),
        )],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("t.cedar:1:") && err.contains("templates"),
        "{err}"
    );
}

#[test]
fn ids_default_to_file_and_line() {
    let e = engine(
        "\n\npermit(principal, action, resource);\n// x\npermit(principal, action, resource);\n",
    );
    assert!(e.policy_info("p.cedar:3").is_some());
    assert!(e.policy_info("p.cedar:5").is_some());
    let d = e.authorize(
        &principal("a", &[]),
        Action::ReadResource,
        ResourceRef::Resource {
            uri: "demo://x",
            backend: "demo",
        },
        None,
        &RequestEnv::now(),
    );
    assert!(d.allowed);
    let mut r = d.reasons.clone();
    r.sort();
    assert_eq!(r, vec!["p.cedar:3".to_owned(), "p.cedar:5".to_owned()]);
}

#[test]
fn time_window_and_weekday() {
    let e = engine(
        r#"@id("hours") permit(principal, action in Action::"call_tool", resource)
           when { context.now.weekday <= 5 && context.now.hour >= 8 && context.now.hour < 18 };"#,
    );
    let def = json!({});
    let p = principal("a", &[]);
    let call = |t: &str| {
        e.authorize(
            &p,
            Action::CallTool,
            tool("t", "b", &def, true),
            None,
            &env_at(t),
        )
        .allowed
    };
    assert!(call("2026-03-02T10:00:00Z"), "Monday 10:00");
    assert!(!call("2026-03-02T18:00:00Z"), "Monday 18:00");
    assert!(!call("2026-03-02T07:59:59Z"), "Monday 07:59");
    assert!(!call("2026-03-07T10:00:00Z"), "Saturday");
    assert!(call("2026-03-06T17:59:00Z"), "Friday 17:59");
    assert_eq!(utc_parts(parse_utc("1970-01-01T00:00:00Z").unwrap()).3, 4);
    assert_eq!(
        utc_parts(parse_utc("2026-03-08T23:59:00Z").unwrap()),
        (1_773_014_340, 23, 59, 7)
    );
    assert!(parse_utc("2026-13-01T00:00:00Z").is_err());
    assert!(parse_utc("2026-01-01 00:00:00").is_err());
}

#[test]
fn prompts_resources_and_complete() {
    let e = engine(
        r#"
        permit(principal, action == Action::"get_prompt", resource in Backend::"demo");
        permit(principal, action in [Action::"read_resource", Action::"subscribe_resource"], resource)
          when { resource.uri like "demo://public/*" };
        permit(principal, action == Action::"complete", resource is Prompt);
        "#,
    );
    let p = principal("a", &[]);
    let env = RequestEnv::now();
    let prompt = |b| ResourceRef::Prompt {
        exposed: "demo__greet",
        original: "greet",
        backend: b,
    };
    assert!(
        e.authorize(&p, Action::GetPrompt, prompt("demo"), None, &env)
            .allowed
    );
    assert!(
        !e.authorize(&p, Action::GetPrompt, prompt("other"), None, &env)
            .allowed
    );
    assert!(
        e.authorize(&p, Action::Complete, prompt("other"), None, &env)
            .allowed
    );
    let res = |u| ResourceRef::Resource {
        uri: u,
        backend: "demo",
    };
    assert!(
        e.authorize(
            &p,
            Action::SubscribeResource,
            res("demo://public/a"),
            None,
            &env
        )
        .allowed
    );
    assert!(
        !e.authorize(
            &p,
            Action::ReadResource,
            res("demo://private/a"),
            None,
            &env
        )
        .allowed
    );
    assert!(
        !e.authorize(&p, Action::Complete, res("demo://public/a"), None, &env)
            .allowed
    );
}

#[test]
fn may_ever_call_uses_partial_evaluation() {
    let frag = schema_fragment(&[("files__read_text_file".into(), read_file_def())]);
    let e = engine_with(
        &[&frag],
        r#"
        @id("hours") permit(principal in Group::"eng", action in Action::"call_tool", resource in Backend::"demo")
          when { context.now.hour >= 8 && context.now.hour < 18 };
        @id("public") permit(principal, action == Action::"call_tool:files__read_text_file", resource)
          when { context.arguments.path like "/srv/public/*" };
        @id("never-fail") forbid(principal, action, resource == Tool::"demo__fail");
        @id("never-sales") forbid(principal in Group::"sales", action, resource in Backend::"files")
          when { principal.sub != "" };
        "#,
    );
    let def = read_file_def();
    let empty = json!({});
    let eng = principal("alice", &["eng"]);
    let sales = principal("sam", &["sales"]);
    assert!(e.may_ever_call(&eng, tool("demo__echo", "demo", &empty, true)));
    assert!(!e.may_ever_call(&sales, tool("demo__echo", "demo", &empty, true)));
    assert!(!e.may_ever_call(&eng, tool("demo__fail", "demo", &empty, true)));
    assert!(e.may_ever_call(&eng, tool("files__read_text_file", "files", &def, true)));
    assert!(!e.may_ever_call(&sales, tool("files__read_text_file", "files", &def, true)));
    assert!(!e.may_ever_call(&eng, tool("files__write_file", "files", &empty, true)));
    let tools = [
        tool("demo__echo", "demo", &empty, true),
        tool("demo__fail", "demo", &empty, true),
        tool("files__read_text_file", "files", &def, true),
    ];
    assert_eq!(e.visible_tools(&eng, &tools), vec![true, false, true]);
}

#[test]
fn explain_lists_every_satisfied_policy() {
    let e = engine(
        r#"
        @id("p1") permit(principal, action, resource);
        @id("p2") permit(principal in Group::"eng", action, resource);
        @id("f1") forbid(principal, action, resource) when { context.client.name == "evil" };
        @id("err") permit(principal, action, resource) when { context.now.unix * 9223372036854775807 > 0 };
        @id("other") permit(principal, action, resource == Tool::"zzz");
        "#,
    );
    let def = json!({});
    let mut env = RequestEnv::now();
    let ex = e.explain(
        &principal("a", &["eng"]),
        Action::CallTool,
        tool("t", "b", &def, true),
        None,
        &env,
    );
    assert!(ex.decision.allowed);
    assert_eq!(ex.considered, 4, "`other` is out of scope");
    let ids: Vec<&str> = ex.permits.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ex.errored.len(), 1, "{:?}", ex.errored);
    assert_eq!(ex.decision.errors.len(), 1);
    env.client_name = "evil".into();
    let ex = e.explain(
        &principal("a", &["eng"]),
        Action::CallTool,
        tool("t", "b", &def, true),
        None,
        &env,
    );
    assert!(!ex.decision.allowed);
    assert_eq!(ex.decision.reasons, vec!["f1".to_owned()]);
    assert_eq!(ex.forbids.len(), 1);
    assert_eq!(ex.permits.len(), 2);
    let text = testing::render_explanation(&ex);
    assert!(text.contains("f1 (p.cedar:4)"), "{text}");
    assert!(text.contains("forbid always wins"), "{text}");
}

#[test]
fn each_clients_context_is_its_own_within_one_second() {
    // Contexts are cached per second by client facts: interleaved callers with different
    // facts in the same second must each be decided on their own.
    let e = engine(
        r#"
        @id("p") permit(principal, action, resource);
        @id("f") forbid(principal, action, resource) when { context.client.name == "evil" };
        "#,
    );
    let def = json!({});
    let now = std::time::SystemTime::now();
    let env = |name: &str| RequestEnv {
        now,
        client_name: name.into(),
        ..RequestEnv::now()
    };
    let p = principal("a", &["eng"]);
    for name in ["good", "evil", "good", "evil", "other"] {
        let d = e.authorize(
            &p,
            Action::CallTool,
            tool("t", "b", &def, true),
            None,
            &env(name),
        );
        assert_eq!(d.allowed, name != "evil", "client `{name}`: {d:?}");
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn store_reloads_atomically_and_keeps_the_old_engine_on_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "portcullis.cedarschema", SCHEMA);
    write(
        dir.path(),
        "a.cedar",
        "@id(\"one\") permit(principal, action, resource);",
    );
    let sources = PolicySources {
        schema: dir.path().join("portcullis.cedarschema"),
        policies: dir.path().to_path_buf(),
    };
    let store = Arc::new(PolicyStore::open(sources).unwrap());
    let before = store.engine();
    assert_eq!(before.len(), 1);
    assert!(!store.reload_if_changed().unwrap(), "nothing changed");

    // An invalid change is refused and the old engine stays.
    write(
        dir.path(),
        "b.cedar",
        "permit(principal, action, resource) when { resource.nope };",
    );
    let err = store.reload().unwrap_err().to_string();
    assert!(err.starts_with("b.cedar:1:"), "{err}");
    assert!(Arc::ptr_eq(&before, &store.engine()));

    // A valid change is picked up by the watcher.
    write(
        dir.path(),
        "b.cedar",
        "@id(\"two\") forbid(principal, action, resource);",
    );
    let _w = store.spawn_watcher(Duration::from_millis(20));
    let mut swapped = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if store.engine().len() == 2 {
            swapped = true;
            break;
        }
    }
    assert!(swapped, "the watcher did not reload");
    // The engine a decision loaded earlier is untouched.
    assert_eq!(before.len(), 1);
}

#[test]
fn missing_files_are_an_error() {
    let err = PolicyStore::open(PolicySources {
        schema: PathBuf::from("/nonexistent/portcullis.cedarschema"),
        policies: PathBuf::from("/nonexistent"),
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent"), "{err}");
}

#[test]
fn shipped_policies_validate_and_their_tests_pass() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies");
    let engine = PolicyEngine::load(&PolicySources {
        schema: root.join("portcullis.cedarschema"),
        policies: root.clone(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(engine.len() >= 5);
    let files = testing::find_test_files(&root.join("tests")).unwrap();
    assert!(files.len() >= 4, "{files:?}");
    let results = testing::run(&engine, &files).unwrap();
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    for f in &files {
        let cases = testing::load_cases(f).unwrap();
        assert!(
            cases
                .iter()
                .any(|c| c.expect == Some(testing::Expect::Deny)),
            "{} has no deny case",
            f.display()
        );
    }
}

#[test]
fn config_policy_section() {
    let base = "[listen]\naddress = \"127.0.0.1:0\"\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n";
    let cfg = Config::parse(base, "t.toml", std::path::Path::new("/etc/pc")).unwrap();
    assert!(
        PolicySources::from_config(cfg.policy.as_ref().map(|p| p.get_ref()), &cfg.base_dir)
            .is_none()
    );
    let cfg = Config::parse(
        &format!("{base}[policy]\n"),
        "t.toml",
        std::path::Path::new("/etc/pc"),
    )
    .unwrap();
    let (s, every) =
        PolicySources::from_config(cfg.policy.as_ref().map(|p| p.get_ref()), &cfg.base_dir)
            .unwrap();
    assert_eq!(
        s.schema,
        PathBuf::from("/etc/pc/policies/portcullis.cedarschema")
    );
    assert_eq!(s.policies, PathBuf::from("/etc/pc/policies"));
    assert_eq!(every, Some(Duration::from_secs(2)));
    let err = Config::parse(
        &format!("{base}[policy]\nreload = 3\n"),
        "t.toml",
        std::path::Path::new("/"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("t.toml:7:") && err.contains("reload"),
        "{err}"
    );
}

mod fast_paths;
