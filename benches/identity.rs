//! Access-token validation with the real validator (`Authenticator::validate`), which every
//! request to the MCP endpoint pays: header and unverified-claims peek, issuer and key lookup,
//! signature, then `iss`/`aud`/`exp`/`nbf`/`iat` and the principal's groups and scopes.
//! ES256 (P-256, the dev key `portcullis token mint` uses) and RS256 (RSA 2048, what most
//! IdPs issue, from a JWKS file).
//!
//! Run: `cargo bench --bench identity`.
// A benchmark is a harness: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis::config::Config;
use portcullis::identity::dev;
use serde_json::json;

const AUDIENCE: &str = "https://mcp.example.com/mcp";
const ES_ISSUER: &str = "urn:bench:es256";
const RS_ISSUER: &str = "https://idp.example.com";

/// A fresh RSA 2048 key: its JWKS (written to `dir/jwks.json`) and its signing key.
fn rsa_key(dir: &Path) -> EncodingKey {
    let b64url = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let kp = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let public = PublicKeyComponents::<Vec<u8>>::from(kp.public_key());
    let jwks = json!({"keys": [{
        "kty": "RSA", "n": b64url(&public.n), "e": b64url(&public.e),
        "kid": "bench-rsa", "alg": "RS256", "use": "sig"
    }]});
    std::fs::write(dir.join("jwks.json"), jwks.to_string()).unwrap();
    let der = kp.as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
}

fn claims(issuer: &str) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // A token as an enterprise IdP issues it: a dozen claims, nested roles, a few groups.
    json!({
        "iss": issuer, "aud": AUDIENCE, "sub": "alice@example.com", "iat": now, "nbf": now,
        "exp": now + 3600, "jti": "6f1c0e4a-3b7d-4d8e-9a2f-1c5b7e9d0a3f",
        "scope": "openid profile mcp", "email": "alice@example.com", "name": "Alice Example",
        "groups": ["eng", "platform", "oncall"], "department": "d7",
        "realm_access": { "roles": ["user", "dev"] }
    })
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "{AUDIENCE}"
[auth]
mode = "oidc"
dangerous_no_policy = true
[[auth.issuers]]
issuer = "{ES_ISSUER}"
dev_key_file = "es256.pem"
[[auth.issuers]]
issuer = "{RS_ISSUER}"
jwks_file = "jwks.json"
"#
    );
    let rsa = rsa_key(dir.path());
    let es = dev::DevKey::load_or_create(&dir.path().join("es256.pem")).unwrap();
    let cfg = Config::parse(&text, "bench.toml", dir.path()).unwrap();
    let egress = portcullis::egress::Egress::from_config(&cfg.network);
    let auth = portcullis::gateway::authenticator(&cfg, egress).unwrap();
    let es_token = es.sign(&claims(ES_ISSUER)).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench-rsa".into());
    let rs_token = jsonwebtoken::encode(&header, &claims(RS_ISSUER), &rsa).unwrap();

    // Keys are static here, so validation never awaits; a current-thread runtime only polls.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (name, token) in [("es256", &es_token), ("rs256", &rs_token)] {
        if let Err(e) = rt.block_on(auth.validate(token)) {
            eprintln!("the {name} bench token does not validate: {e}");
            std::process::exit(1);
        }
    }
    let mut g = c.benchmark_group("validate");
    for (name, token) in [("es256", &es_token), ("rs256", &rs_token)] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(rt.block_on(auth.validate(black_box(token)))))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
