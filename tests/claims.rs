//! How the gateway reads a token's claims and header, through the real binary with tokens
//! signed by the trusted (dev) key (issue 15, finding 12, and RFC 9068 `typ`).
//!
//! - `scope` / `scp` as a string is space-delimited (RFC 6749 §3.3): `"x,mcp"` is one scope.
//! - the groups claim as a string is ONE group: `"x,eng"` is not in `eng`.
//! - a `crit` header names extensions the gateway must understand; it understands none, so any
//!   `crit` is refused (RFC 7515 §4.1.11).
//! - `exp`, `nbf` and `iat` must be NumericDates: JSON numbers ≥ 0 (fractions allowed, RFC 7519
//!   §2); a string, a boolean, null or a negative number is refused, and a fractional `iat` in
//!   the future is as future as an integer one.
//! - `typ`: a token explicitly typed as something other than an access token is refused; with
//!   `require_at_jwt = true` only `at+jwt` (RFC 9068) is accepted.
//!
//! Every refusal is a 401 naming the claim, recorded as `auth_failure`, and the next request is
//! served.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use portcullis::identity::dev;
use serde_json::{Value, json};

const PUBLIC_URL: &str = "http://127.0.0.1:1/mcp";
const ISSUER: &str = "urn:test:lenient";
const STRICT: &str = "urn:test:strict";

const POLICIES: &str = r#"
@id("eng-may-call")
permit (principal in Group::"eng", action in Action::"call_tool", resource);
"#;

struct Setup {
    gw: Gateway,
    lenient_pem: String,
    strict_pem: String,
}

/// A gateway trusting the lenient issuer, and with `strict` the one that sets
/// `require_at_jwt` as well.
fn setup(strict: bool) -> Setup {
    let dir = policy_dir(POLICIES);
    dev::DevKey::load_or_create(&dir.path().join("lenient.pem")).unwrap();
    dev::DevKey::load_or_create(&dir.path().join("strict.pem")).unwrap();
    let lenient_pem = std::fs::read_to_string(dir.path().join("lenient.pem")).unwrap();
    let strict_pem = std::fs::read_to_string(dir.path().join("strict.pem")).unwrap();
    let config = format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "{PUBLIC_URL}"

[auth]
mode = "oidc"
required_scopes = ["mcp"]

[[auth.issuers]]
issuer = "{ISSUER}"
dev_key_file = "lenient.pem"
leeway_secs = 5

{strict}
[policy]
schema = "policies/portcullis.cedarschema"
policies = "policies"

[audit]
file = "audit.jsonl"
fsync = "never"

{TOFU}

[[backend]]
name = "demo"
command = [{demo}, "demo-server"]
"#,
        demo = serde_json::to_string(&portcullis_bin().display().to_string()).unwrap(),
        strict = if strict {
            format!(
                "[[auth.issuers]]\nissuer = \"{STRICT}\"\ndev_key_file = \"strict.pem\"\n\
                 leeway_secs = 5\nrequire_at_jwt = true\n"
            )
        } else {
            String::new()
        },
    );
    let gw = start_gateway_in(&config, dir);
    Setup {
        gw,
        lenient_pem,
        strict_pem,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Setup {
    /// A token of `issuer` whose claims are good ones with `claims` merged over them (a `null`
    /// value removes the claim), and whose header is ES256 with `header` merged over it.
    fn token(&self, issuer: &str, claims: Value, header: Value) -> String {
        let n = now();
        let mut c = json!({
            "iss": issuer, "aud": PUBLIC_URL, "sub": "alice",
            "iat": n, "nbf": n, "exp": n + 600, "scope": "mcp", "groups": ["eng"],
        });
        for (k, v) in claims.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        let mut h = json!({"alg": "ES256", "typ": "at+jwt"});
        for (k, v) in header.as_object().unwrap() {
            if v.is_null() {
                h.as_object_mut().unwrap().remove(k);
            } else {
                h[k] = v.clone();
            }
        }
        let pem = if issuer == STRICT {
            &self.strict_pem
        } else {
            &self.lenient_pem
        };
        sign_raw(&h, &c, pem)
    }

    fn trail(&self) -> Vec<Value> {
        std::fs::read_to_string(self.gw.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Wait (bounded) for an `auth_failure` record after `seen` whose reason contains `needle`.
    fn recorded_failure(&self, seen: usize, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.trail().iter().skip(seen).any(|r| {
                r["kind"] == "auth_failure"
                    && r["reason"].as_str().is_some_and(|s| s.contains(needle))
            }) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no auth_failure with {needle:?}; trail:\n{:#?}",
                self.trail().into_iter().skip(seen).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Sign `header` and `claims` exactly as given (jsonwebtoken's `Header` cannot carry every
/// field a test needs, e.g. an unknown `crit` extension).
fn sign_raw(header: &Value, claims: &Value, pem: &str) -> String {
    use base64::Engine;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let message = format!("{}.{}", b64(header), b64(claims));
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::ES256)
        .unwrap();
    format!("{message}.{sig}")
}

struct Reply {
    status: u16,
    challenge: String,
    body: String,
}

/// `initialize` with `token`.
async fn initialize(url: &str, token: &str) -> Reply {
    let msg = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "claims-test", "version": "0"}}});
    let resp = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(msg.to_string())
        .send()
        .await
        .unwrap();
    Reply {
        status: resp.status().as_u16(),
        challenge: resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: resp.text().await.unwrap(),
    }
}

/// Whether the principal of `token` may call `demo__echo` (Cedar: only group `eng` may).
async fn may_call(url: &str, token: &str) -> bool {
    let mut c = RawClient::new(url).with_token(token);
    c.initialize().await;
    let m = c
        .request(
            "tools/call",
            json!({"name": "demo__echo", "arguments": {"message": "hi"}}),
        )
        .await;
    if m["result"]["content"][0]["text"] == "hi" {
        return true;
    }
    assert_eq!(
        m["error"]["code"], -32003,
        "neither allowed nor denied: {m}"
    );
    false
}

/// Each token is refused with 401 `invalid_token` naming the problem, recorded as
/// `auth_failure`, and the next good token is served.
async fn assert_refused(s: &Setup, cases: &[(String, &str)]) {
    let url = &s.gw.url;
    for (token, needle) in cases {
        let seen = s.trail().len();
        let r = initialize(url, token).await;
        assert_eq!(r.status, 401, "{needle}: {}", r.body);
        assert!(
            r.challenge.contains("error=\"invalid_token\""),
            "{needle}: {}",
            r.challenge
        );
        assert!(r.body.contains(needle), "{needle:?} not in {}", r.body);
        s.recorded_failure(seen, needle);
        let good = s.token(ISSUER, json!({}), json!({}));
        assert!(may_call(url, &good).await, "not serving after {needle}");
    }
}

async fn assert_accepted(s: &Setup, tokens: &[String]) {
    for token in tokens {
        let r = initialize(&s.gw.url, token).await;
        assert_eq!(r.status, 200, "{}: {}", r.body, payload_and_header(token));
    }
}

#[test]
fn a_string_groups_claim_is_one_group_and_scopes_split_on_spaces_only() {
    let s = setup(false);
    let url = s.gw.url.clone();
    runtime().block_on(async {
        let t = |claims: Value| s.token(ISSUER, claims, json!({}));
        // Baseline: the good token is served and its principal is in `eng`.
        assert!(may_call(&url, &t(json!({}))).await);

        // Groups: a string is one group, whatever it contains; an array is a list.
        for (groups, allowed) in [
            (json!("x,eng"), false),
            (json!("x eng"), false),
            (json!(" eng"), false),
            (json!("eng"), true),
            (json!(["x", "eng"]), true),
            (json!(["x,eng"]), false),
        ] {
            let token = t(json!({ "groups": groups }));
            assert_eq!(may_call(&url, &token).await, allowed, "groups {groups}");
        }

        // Scopes: space-delimited only; `scp` as array or string too.
        for (claims, ok) in [
            (json!({"scope": "x,mcp"}), false),
            (json!({"scope": "mcp,x"}), false),
            (json!({"scope": "x mcp"}), true),
            (json!({"scope": null, "scp": ["mcp"]}), true),
            (json!({"scope": null, "scp": "read mcp"}), true),
            (json!({"scope": null, "scp": "read,mcp"}), false),
        ] {
            let r = initialize(&url, &t(claims.clone())).await;
            if ok {
                assert_eq!(r.status, 200, "{claims}: {}", r.body);
            } else {
                assert_eq!(r.status, 403, "{claims}: {}", r.body);
                assert!(
                    r.challenge.contains("insufficient_scope"),
                    "{}",
                    r.challenge
                );
            }
        }
    });
}

#[test]
fn crit_headers_and_malformed_time_claims_are_refused() {
    let s = setup(false);
    runtime().block_on(async {
        let t = |claims: Value| s.token(ISSUER, claims, json!({}));
        let h = |header: Value| s.token(ISSUER, json!({}), header);
        let n = now() as f64;
        assert_refused(
            &s,
            &[
                (
                    h(json!({"crit": ["urn:example:bound"], "urn:example:bound": true})),
                    "`crit`",
                ),
                (h(json!({"crit": ["b64"], "b64": false})), "`b64`"),
                (t(json!({"iat": n + 3600.5})), "`iat` is in the future"),
                (
                    t(json!({"iat": format!("{}", now())})),
                    "`iat` is not a NumericDate",
                ),
                (t(json!({"iat": -1})), "`iat` is not a NumericDate"),
                (t(json!({"iat": true})), "`iat` is not a NumericDate"),
                (
                    t(json!({"exp": format!("{}", now() + 600)})),
                    "`exp` is not a NumericDate",
                ),
                (t(json!({"exp": -5.5})), "`exp` is not a NumericDate"),
                (t(json!({"nbf": [1]})), "`nbf` is not a NumericDate"),
                (t(json!({"nbf": n + 3600.25})), "`nbf`"),
            ],
        )
        .await;
        // Fractional NumericDates are NumericDates (RFC 7519 §2).
        assert_accepted(
            &s,
            &[t(
                json!({"iat": n - 10.25, "nbf": n - 1.5, "exp": n + 600.75}),
            )],
        )
        .await;
    });
}

#[test]
fn token_types_other_than_access_tokens_are_refused_and_at_jwt_can_be_required() {
    let s = setup(true);
    runtime().block_on(async {
        let typ = |issuer: &str, typ: Value| s.token(issuer, json!({}), json!({ "typ": typ }));
        assert_refused(
            &s,
            &[
                (typ(ISSUER, json!("dpop+jwt")), "`dpop+jwt`"),
                (typ(ISSUER, json!("logout+jwt")), "`logout+jwt`"),
                (typ(STRICT, json!("JWT")), "`at+jwt`"),
                (typ(STRICT, Value::Null), "`at+jwt`"),
            ],
        )
        .await;
        assert_accepted(
            &s,
            &[
                typ(ISSUER, json!("JWT")),
                typ(ISSUER, Value::Null),
                typ(ISSUER, json!("application/at+jwt")),
                typ(STRICT, json!("at+jwt")),
                typ(STRICT, json!("application/AT+JWT")),
            ],
        )
        .await;
    });
}

fn payload_and_header(token: &str) -> String {
    use base64::Engine;
    token
        .split('.')
        .take(2)
        .map(|p| {
            String::from_utf8_lossy(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .unwrap(),
            )
            .into_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
