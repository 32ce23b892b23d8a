//! JWT handling against a fixed dev key set: header decode, the unverified claims peek that
//! picks the issuer, signature and claim validation, and the groups/scopes read from verified
//! claims. Arbitrary bytes must give a principal or an error, never a panic.
//!
//! The first byte picks the mode: raw token text (`Bearer` header and bare token), or claims
//! signed with the dev key (so validation goes past the signature), or an arbitrary header
//! segment spliced onto a signed token.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use portcullis::config::Config;
use portcullis::identity::{Authenticator, dev::DevKey};

const AUD: &str = "https://gw.example/mcp";
const ISS: &str = "urn:fuzz:issuer";

struct Fixture {
    auth: Authenticator,
    key: DevKey,
    rt: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("portcullis-fuzz-jwt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let text = format!(
            r#"
[listen]
address = "127.0.0.1:0"
public_url = "{AUD}"
[auth]
mode = "oidc"
required_scopes = ["mcp"]
dangerous_no_policy = true
[[auth.issuers]]
issuer = "{ISS}"
dev_key_file = "key.pem"
groups_claim = "realm.roles"
"#
        );
        let cfg = Config::parse(&text, "fuzz.toml", &dir).expect("fuzz config");
        let egress = portcullis::egress::Egress::from_config(&cfg.network);
        let auth = portcullis::gateway::authenticator(&cfg, egress).expect("authenticator");
        let key = DevKey::load_or_create(&dir.join("key.pem")).expect("dev key");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Fixture { auth, key, rt }
    })
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn check(f: &Fixture, token: &str) {
    if let Ok(p) = f.rt.block_on(f.auth.validate(token)) {
        // Only a token our key signed can validate.
        assert_eq!(p.issuer, ISS);
        assert!(!p.subject.is_empty());
    }
    let header = format!("Bearer {token}");
    let _ = f.rt.block_on(f.auth.authenticate(Some(&header), None));
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let Ok(token) = std::str::from_utf8(rest) else {
                return;
            };
            check(f, token);
            let _ = f.rt.block_on(f.auth.authenticate(Some(token), Some(token)));
        }
        1 => {
            let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) else {
                return;
            };
            if let Ok(token) = f.key.sign(&claims) {
                check(f, &token);
            }
        }
        _ => {
            // `<header JSON>\n<claims JSON>`: a forged header on a signed payload.
            let mut parts = rest.splitn(2, |b| *b == b'\n');
            let header = parts.next().unwrap_or_default();
            let Some(claims) = parts
                .next()
                .and_then(|c| serde_json::from_slice::<serde_json::Value>(c).ok())
            else {
                return;
            };
            let Ok(signed) = f.key.sign(&claims) else {
                return;
            };
            let mut segs = signed.splitn(2, '.');
            let _ = segs.next();
            let tail = segs.next().unwrap_or_default();
            let token = format!("{}.{tail}", b64(header));
            if let Ok(p) = f.rt.block_on(f.auth.validate(&token)) {
                // The signature covers the header: a changed header must not validate.
                let original = signed.split('.').next().unwrap_or_default();
                assert_eq!(
                    b64(header),
                    original,
                    "forged header accepted for {}",
                    p.key()
                );
            }
        }
    }
});
