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
    let text = "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:1/mcp\"\n[auth]\nmode = \"oidc\"\n[[auth.issuers]]\nissuer = \"urn:x\"\njwks_url = \"http://127.0.0.1:1/jwks\"\n";
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
