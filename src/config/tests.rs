use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "test.toml", Path::new("/tmp"))
}

const BASE: &str = r#"
[listen]
address = "127.0.0.1:0"
[auth]
mode = "anonymous"
dangerous_allow_anonymous = true
"#;

#[test]
fn quickstart_parses() {
    let cfg = Config::quickstart().unwrap();
    assert_eq!(cfg.backends.len(), 1);
    assert!(
        !cfg.warnings().is_empty(),
        "quickstart's anonymous mode must be warned about"
    );
}

#[test]
fn unknown_key_names_line_and_key() {
    let err = parse(&format!("{BASE}\n[naming]\nstrategi = \"prefix\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("test.toml:9:"), "{err}");
    assert!(err.contains("strategi"), "{err}");
}

#[test]
fn auth_is_required_and_anonymous_needs_dangerous_flag() {
    let err = parse("[listen]\naddress = \"127.0.0.1:0\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`auth`"), "{err}");
    let err = parse("[listen]\naddress = \"127.0.0.1:0\"\n[auth]\nmode = \"anonymous\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("dangerous_allow_anonymous"), "{err}");
}

#[test]
fn plaintext_refused_off_loopback() {
    let text = BASE.replace("127.0.0.1:0", "0.0.0.0:8443");
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("dangerous_plaintext"), "{err}");
    let ok = text.replace("[auth]", "dangerous_plaintext = true\n[auth]");
    let cfg = parse(&ok).unwrap();
    assert!(
        cfg.warnings()
            .iter()
            .any(|w| w.contains("dangerous_plaintext"))
    );
}

#[test]
fn backend_errors_point_at_the_backend() {
    let text = format!("{BASE}\n[[backend]]\nname = \"a\"\nurl = \"ftp://x\"\n");
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("backend[0].url"), "{err}");
    assert!(err.contains("test.toml:8"), "{err}");
    let text = format!(
        "{BASE}\n[[backend]]\nname = \"a\"\ncommand=[\"x\"]\n[[backend]]\nname = \"a\"\ncommand=[\"y\"]\n"
    );
    assert!(
        parse(&text)
            .unwrap_err()
            .to_string()
            .contains("duplicate backend name `a`")
    );
    let text = format!("{BASE}\n[naming]\nrename = {{ \"gitlab/x\" = \"y\" }}\n");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("unknown backend `gitlab` in rename rule"),
        "{err}"
    );
}

#[test]
fn secrets_resolve_by_reference() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.txt"), "hunter2\n").unwrap();
    let v = SecretOrValue::Ref(SecretRef::File("s.txt".into()));
    assert_eq!(v.resolve(dir.path()).unwrap(), "hunter2");
    let v = SecretOrValue::Ref(SecretRef::Env("PORTCULLIS_TEST_SURELY_UNSET".into()));
    assert!(v.resolve(dir.path()).is_err());
}

#[test]
fn oidc_without_policy_needs_the_dangerous_flag() {
    let text = "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:1/mcp\"\n[auth]\nmode = \"oidc\"\n[[auth.issuers]]\nissuer = \"urn:x\"\njwks_url = \"http://idp.invalid/jwks\"\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(
        err.contains("dangerous_no_policy") && err.contains("[policy]"),
        "{err}"
    );
    let ok = text.replace(
        "mode = \"oidc\"",
        "mode = \"oidc\"\ndangerous_no_policy = true",
    );
    let cfg = parse(&ok).unwrap();
    assert!(
        cfg.warnings()
            .iter()
            .any(|w| w.contains("dangerous_no_policy"))
    );
}

#[test]
fn integrity_defaults_to_enforce_and_approval() {
    let cfg = parse(BASE).unwrap();
    assert_eq!(cfg.integrity.mode, crate::integrity::config::Mode::Enforce);
    assert_eq!(
        cfg.integrity.new_items,
        crate::integrity::config::NewItems::Approve
    );
    assert!(
        !cfg.warnings().iter().any(|w| w.contains("integrity")),
        "{:?}",
        cfg.warnings()
    );
}

#[test]
fn weaker_integrity_and_floating_package_versions_are_warned_about() {
    let text = format!(
        "{BASE}\n[integrity]\nnew_items = \"trust_on_first_use\"\n\n[[backend]]\nname = \"mem\"\n\
         command = [\"npx\", \"-y\", \"@modelcontextprotocol/server-memory\"]\n\
         env = {{ PATH = \"/usr/bin:/bin\" }}\n\
         integrity = {{ mode = \"warn\" }}\n\n[[backend]]\nname = \"pinned\"\n\
         command = [\"npx\", \"-y\", \"@modelcontextprotocol/server-memory@2025.9.25\"]\n\
         env = {{ PATH = \"/usr/bin:/bin\" }}\n"
    );
    let w = parse(&text).unwrap().warnings();
    let has = |s: &str| w.iter().any(|x| x.contains(s));
    assert!(has("trust_on_first_use"), "{w:?}");
    assert!(has("backend `mem` has integrity mode \"warn\""), "{w:?}");
    assert!(
        has(
            "backend `mem` runs package `@modelcontextprotocol/server-memory` without an exact version"
        ),
        "{w:?}"
    );
    assert!(!has("backend `pinned` runs package"), "{w:?}");
}

#[test]
fn overrides_and_tool_lists_parse_per_backend() {
    let text = format!(
        "{BASE}\n[[backend]]\nname = \"b\"\ncommand = [\"/x\"]\nallow_tools = [\"a\", \"b\"]\n\
         deny_tools = [\"b\"]\n[backend.overrides.a]\ndescription = \"short\"\n\
         annotations = {{ destructiveHint = true }}\n"
    );
    let cfg = parse(&text).unwrap();
    let b = cfg.backends[0].get_ref();
    assert_eq!(
        b.allow_tools.as_deref(),
        Some(&["a".to_owned(), "b".to_owned()][..])
    );
    let mut def = serde_json::json!({ "name": "a", "description": "long", "annotations": { "readOnlyHint": true } });
    b.overrides["a"].apply(&mut def);
    assert_eq!(
        def,
        serde_json::json!({ "name": "a", "description": "short", "annotations": { "readOnlyHint": true, "destructiveHint": true } })
    );
    let err = parse(&format!("{BASE}\n[integrity]\nmode = \"strict\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("strict"), "{err}");
}

#[test]
fn a_bare_program_needs_the_backends_own_path() {
    let text = format!(
        "{BASE}\n[[backend]]\nname = \"files\"\nenv = {{ NODE_ENV = \"production\" }}\n\
         command = [\"node\", \"server.js\"]\n"
    );
    let line = text.lines().position(|l| l.starts_with("command")).unwrap() + 1;
    let e = parse(&text).unwrap_err().to_string();
    assert!(
        e.contains(&format!(":{line}: key `backend[0].command`")),
        "{e}"
    );
    assert!(e.contains("backend `files` runs `node`"), "{e}");
    assert!(
        e.contains("absolute path") && e.contains("`env.PATH`"),
        "{e}"
    );
    // With a PATH of its own, or a path, or the gateway's own executable, it is fine.
    for ok in [
        "env = { PATH = \"/usr/bin\" }\ncommand = [\"node\"]",
        "command = [\"/usr/bin/node\"]",
        "command = [\"./bin/server\"]",
        "command = [\"$PORTCULLIS\", \"demo-server\"]",
    ] {
        let text = format!("{BASE}\n[[backend]]\nname = \"files\"\n{ok}\n");
        assert!(parse(&text).is_ok(), "{ok}: {:?}", parse(&text).err());
    }
}

#[test]
fn an_advertised_address_is_a_scheme_a_host_and_a_port() {
    use crate::config::cluster::check_advertise_url;
    check_advertise_url("https://gw-1.internal:8443").unwrap();
    check_advertise_url("http://10.0.0.7:8080").unwrap();
    for bad in [
        "gw-1:8443",
        "ftp://gw-1",
        "https://gw-1:8443/mcp",
        "https://user@gw-1:8443",
        "https://gw-1:8443?x=1",
    ] {
        assert!(check_advertise_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_poisoning_classifier_is_on_unless_turned_off() {
    use crate::config::integrity::Classifier;
    assert_eq!(parse(BASE).unwrap().integrity.classifier, Classifier::On);
    let off = parse(&format!("{BASE}\n[integrity]\nclassifier = \"off\"\n")).unwrap();
    assert_eq!(off.integrity.classifier, Classifier::Off);
    let err = parse(&format!("{BASE}\n[integrity]\nclassifier = \"maybe\"\n"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("maybe") && err.contains("`on` or `off`"),
        "{err}"
    );
}
