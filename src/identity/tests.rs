use super::*;
use std::path::Path;

const AUD: &str = "https://gw.example/mcp";
const ISS: &str = "urn:test:issuer";

fn setup(extra: &str) -> (tempfile::TempDir, Authenticator, dev::DevKey) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "{AUD}"
[auth]
mode = "oidc"
dangerous_no_policy = true
{extra}
[[auth.issuers]]
issuer = "{ISS}"
dev_key_file = "key.pem"
groups_claim = "realm.roles"
"#
    );
    let cfg = Config::parse(&text, "t.toml", dir.path()).unwrap();
    let auth = Authenticator::new(
        cfg.auth.as_ref().map(|a| a.get_ref()),
        cfg.listen.get_ref().public_url.as_deref(),
        &cfg.base_dir,
        crate::egress::Egress::from_config(&cfg.network),
    )
    .unwrap();
    let key = dev::DevKey::load_or_create(&dir.path().join("key.pem")).unwrap();
    (dir, auth, key)
}

fn claims(over: Value) -> Value {
    let now = now_secs();
    let mut c = json!({"iss": ISS, "aud": AUD, "sub": "alice", "iat": now, "exp": now + 300,
                       "realm": {"roles": ["eng", "ops"]}, "scope": "mcp read"});
    for (k, v) in over.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[test]
fn valid_token_gives_a_principal() {
    let (_d, auth, key) = setup("");
    let tok = key.sign(&claims(json!({}))).unwrap();
    let p = rt().block_on(auth.validate(&tok)).unwrap();
    assert_eq!(p.key(), format!("{ISS}|alice"));
    assert_eq!(p.groups, vec!["eng", "ops"]);
    assert_eq!(p.scopes, vec!["mcp", "read"]);
}

#[test]
fn rejection_catalogue() {
    let (_d, auth, key) = setup("");
    let rt = rt();
    let now = now_secs();
    let check = |tok: &str, want: fn(&AuthError) -> bool| {
        let err = rt.block_on(auth.validate(tok)).unwrap_err();
        assert!(want(&err), "unexpected error {err:?}");
    };
    check(
        &key.sign(&claims(json!({"exp": now - 3600}))).unwrap(),
        |e| matches!(e, AuthError::Invalid(m) if m.contains("expired")),
    );
    check(
        &key.sign(&claims(json!({"nbf": now + 3600}))).unwrap(),
        |e| matches!(e, AuthError::Invalid(m) if m.contains("not valid yet")),
    );
    check(
        &key.sign(&claims(json!({"iat": now + 3600}))).unwrap(),
        |e| matches!(e, AuthError::Invalid(m) if m.contains("iat")),
    );
    check(
        &key.sign(&claims(json!({"aud": "https://other/mcp"})))
            .unwrap(),
        |e| matches!(e, AuthError::Invalid(m) if m.contains("audience")),
    );
    check(
        &key.sign(&claims(json!({"aud": null}))).unwrap(),
        |e| matches!(e, AuthError::Invalid(m) if m.contains("aud")),
    );
    check(
        &key.sign(&claims(json!({"iss": "urn:evil"}))).unwrap(),
        |e| matches!(e, AuthError::UnknownIssuer(_)),
    );
    check(&key.sign(&claims(json!({"sub": null}))).unwrap(), |e| {
        matches!(e, AuthError::Invalid(_))
    });
    // alg: none
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(json!({})))
    );
    check(
        &none,
        |e| matches!(e, AuthError::Algorithm(a) if a == "none"),
    );
    // HS256 "signed" with the public key as secret: refused by the allowlist before any key use.
    let pubkey = serde_json::to_vec(&key.jwks()).unwrap();
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims(json!({})),
        &jsonwebtoken::EncodingKey::from_secret(&pubkey),
    )
    .unwrap();
    check(
        &hs,
        |e| matches!(e, AuthError::Algorithm(a) if a == "HS256"),
    );
    // Tampered payload keeps the signature of the original.
    let good = key.sign(&claims(json!({}))).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&claims(json!({"sub": "mallory"}))),
        parts[2]
    );
    check(
        &tampered,
        |e| matches!(e, AuthError::Invalid(m) if m.contains("signature")),
    );
    // Unknown kid (a static key set is never refetched).
    let mut h = jsonwebtoken::Header::new(Algorithm::ES256);
    h.kid = Some("nope".into());
    let other =
        dev::DevKey::load_or_create(&tempfile::tempdir().unwrap().path().join("k.pem")).unwrap();
    let _ = &other;
    let forged = format!(
        "{}.{}.{}",
        b64(&json!({"alg":"ES256","kid":"nope"})),
        parts[1],
        parts[2]
    );
    check(
        &forged,
        |e| matches!(e, AuthError::UnknownKey(k) if k == "nope"),
    );
    check("not-a-jwt", |e| matches!(e, AuthError::Malformed(_)));
}

#[test]
fn another_key_with_our_kid_does_not_verify() {
    let (_d, auth, key) = setup("");
    let dir = tempfile::tempdir().unwrap();
    let other = dev::DevKey::load_or_create(&dir.path().join("k.pem")).unwrap();
    let tok = other.sign(&claims(json!({}))).unwrap();
    // Re-label the other key's token with our kid: the signature must still fail.
    let parts: Vec<&str> = tok.split('.').collect();
    let relabeled = format!(
        "{}.{}.{}",
        b64(&json!({"alg":"ES256","kid": key.kid()})),
        parts[1],
        parts[2]
    );
    let err = rt().block_on(auth.validate(&relabeled)).unwrap_err();
    assert!(matches!(err, AuthError::Invalid(_)), "{err:?}");
}

#[test]
fn header_and_scope_rules() {
    let (_d, auth, key) = setup("required_scopes = [\"mcp\", \"admin\"]");
    let rt = rt();
    let tok = key.sign(&claims(json!({}))).unwrap();
    assert_eq!(
        rt.block_on(auth.authenticate(None, None)).unwrap_err(),
        AuthError::Missing
    );
    assert_eq!(
        rt.block_on(auth.authenticate(Some("Basic abc"), None))
            .unwrap_err(),
        AuthError::NotBearer
    );
    assert_eq!(
        rt.block_on(auth.authenticate(Some(&format!("Bearer {tok}")), Some("access_token=x")))
            .unwrap_err(),
        AuthError::TokenInQuery
    );
    let long = "a".repeat(10_000);
    assert_eq!(
        rt.block_on(auth.authenticate(Some(&format!("Bearer {long}")), None))
            .unwrap_err(),
        AuthError::TooLong(8192)
    );
    let err = rt
        .block_on(auth.authenticate(Some(&format!("Bearer {tok}")), None))
        .unwrap_err();
    assert_eq!(err, AuthError::InsufficientScope(vec!["admin".into()]));
    assert!(err.is_forbidden());
    let ch = auth.challenge(&err);
    assert!(
        ch.contains("error=\"insufficient_scope\"") && ch.contains("scope=\"admin\""),
        "{ch}"
    );
    assert!(
        ch.contains(
            "resource_metadata=\"https://gw.example/.well-known/oauth-protected-resource/mcp\""
        ),
        "{ch}"
    );
}

#[test]
fn metadata_follows_rfc9728() {
    let (_d, auth, _) = setup("");
    let m = auth.resource_metadata();
    assert_eq!(m["resource"], AUD);
    assert_eq!(m["authorization_servers"], json!([ISS]));
    assert_eq!(
        metadata_url_for("https://h:8443/mcp").unwrap(),
        "https://h:8443/.well-known/oauth-protected-resource/mcp"
    );
    let _ = Path::new("");
}

#[test]
fn a_verified_token_is_cached_only_until_it_expires() {
    let (_d, auth, key) = setup("");
    let rt = rt();
    // Expired 29 s ago: still inside the 30 s leeway for one more second.
    let tok = key
        .sign(&claims(json!({ "exp": now_secs() - 29 })))
        .unwrap();
    let first = rt.block_on(auth.validate(&tok)).unwrap();
    assert_eq!(auth.verified.lock().unwrap().len(), 1);
    let again = rt.block_on(auth.validate(&tok)).unwrap();
    assert_eq!(first, again);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    match rt.block_on(auth.validate(&tok)) {
        Err(AuthError::Invalid(m)) => assert!(m.contains("expired"), "{m}"),
        other => panic!("a cached token outlived its exp: {other:?}"),
    }
}

#[test]
fn a_key_set_change_sends_cached_tokens_back_to_full_verification() {
    let (_d, auth, key) = setup("");
    let rt = rt();
    let tok = key.sign(&claims(json!({}))).unwrap();
    rt.block_on(auth.validate(&tok)).unwrap();
    // The IdP drops the key (as a JWKS refresh would install a new set).
    let issuer = &auth.issuers[0];
    *issuer.keys.write().unwrap() = Keys::default();
    issuer
        .generation
        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    assert!(matches!(
        rt.block_on(auth.validate(&tok)),
        Err(AuthError::UnknownKey(_))
    ));
}

#[test]
fn a_cached_token_is_not_a_different_token() {
    let (_d, auth, key) = setup("");
    let rt = rt();
    let tok = key.sign(&claims(json!({}))).unwrap();
    rt.block_on(auth.validate(&tok)).unwrap();
    // Same header and claims, signature bytes changed: not in the cache, and refused.
    let mut forged = tok.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert!(rt.block_on(auth.validate(&forged)).is_err());
}

#[test]
fn a_challenge_is_a_valid_header_whatever_the_token_held() {
    let (_d, auth, _) = setup("");
    for err in [
        AuthError::UnknownIssuer("https://idp.example/é\"\\\n".into()),
        claims::check_crit(&json!({"crit": ["b64"]})).unwrap_err(),
    ] {
        let ch = auth.challenge(&err);
        assert!(
            http::HeaderValue::from_str(&ch).is_ok_and(|v| v.to_str().is_ok()),
            "{ch:?}"
        );
        assert!(ch.contains("error=\"invalid_token\""), "{ch}");
    }
}
