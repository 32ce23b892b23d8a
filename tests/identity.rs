//! Identity end to end: the real `portcullis` binary in front of a real OpenID Provider
//! (`tests/oidc/provider.mjs`, npm `oidc-provider` 9.x on 127.0.0.1), real backends (the demo
//! stdio server and the rmcp `auth-echo` fixture over Streamable HTTP) and real clients (the
//! Python `mcp` SDK, and a small reqwest client where a test needs concurrency or exact headers).
//!
//! What these tests pin down: a valid token is served; each HTTP backend receives a token
//! exchanged (RFC 8693) for its own audience and never the caller's token, on every request;
//! exchanges are cached and single-flight per (caller, backend); a key rotation at the IdP is
//! picked up on the first unknown `kid`; the gateway keeps serving on cached keys and exchanged
//! tokens while the IdP is down; every kind of bad token is refused with the right status and
//! challenge and the gateway serves the next good request; RFC 9728 metadata names this resource
//! and its issuer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use common::*;
use serde_json::{Value, json};

/// The gateway's canonical resource URI: the audience tokens are issued for. `start_gateway`
/// replaces the listen port, so the port here is only part of a string; the path sets the MCP
/// endpoint and 127.0.0.1 keeps the Host check satisfied for requests to the real port.
const PUBLIC_URL: &str = "http://127.0.0.1:1/mcp";
const METADATA_URL: &str = "http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp";
/// Audiences of the two `auth-echo` backends.
const AUD_A: &str = "https://backend-a.example/mcp";
const AUD_B: &str = "https://backend-b.example/mcp";
const ACCEPT: &str = "application/json, text/event-stream";

// ---------------------------------------------------------------------------------------------
// The IdP.

struct Idp {
    proc: Proc,
    issuer: String,
    token_endpoint: String,
    keys: tempfile::TempDir,
}

fn start_idp() -> Idp {
    let d = deps();
    let keys = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&d.node22);
    cmd.arg(d.root.join("tests/oidc/provider.mjs"))
        .args(["--port", "0", "--keys"])
        .arg(keys.path())
        .env("PORTCULLIS_NODE_MODULES", &d.node_modules);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("issuer ", Duration::from_secs(60));
    let issuer = line.trim_start_matches("issuer ").trim().to_owned();
    let discovery = http_get(&format!("{issuer}/.well-known/openid-configuration"));
    assert_eq!(discovery.status, 200, "IdP discovery: {}", discovery.body);
    let doc: Value = serde_json::from_str(&discovery.body).unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    let token_endpoint = doc["token_endpoint"].as_str().unwrap().to_owned();
    Idp {
        proc,
        issuer,
        token_endpoint,
        keys,
    }
}

impl Idp {
    /// A user token from the test grant. `extra`: `scope`, `expires_in`, `not_before`, ...
    fn login(&self, sub: &str, resource: &str, extra: &[(&str, &str)]) -> String {
        let mut form = vec![
            ("grant_type", "urn:portcullis:test:login"),
            ("sub", sub),
            ("resource", resource),
        ];
        form.extend_from_slice(extra);
        let resp = block(async {
            client()
                .post(&self.token_endpoint)
                .basic_auth("test-client", Some("test-secret"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(&form)
                        .finish(),
                )
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let doc: Value = serde_json::from_str(&resp).unwrap();
        doc["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {sub} failed: {doc}"))
            .to_owned()
    }

    /// A token for `sub` with the `mcp` scope, for this gateway.
    fn user(&self, sub: &str) -> String {
        self.login(sub, PUBLIC_URL, &[("scope", "mcp")])
    }

    /// Sign an arbitrary payload (and header overrides) with the IdP's current key.
    fn sign(&self, payload: Value, header: Value) -> String {
        let r = http_post_json(
            &format!("{}/test/sign", self.issuer),
            &json!({ "payload": payload, "header": header }),
        );
        assert_eq!(r.status, 200, "/test/sign: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    /// Claims of a good token for this gateway, to be varied by the caller.
    fn claims(&self, sub: &str) -> Value {
        let now = now();
        json!({
            "iss": self.issuer, "sub": sub, "aud": PUBLIC_URL,
            "iat": now, "exp": now + 600, "scope": "mcp",
        })
    }

    fn exchanges(&self) -> u64 {
        let r = http_get(&format!("{}/test/stats", self.issuer));
        assert_eq!(r.status, 200, "/test/stats: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        v["exchanges"].as_u64().unwrap()
    }

    fn rotate(&self) -> String {
        let r = http_post_json(&format!("{}/test/rotate", self.issuer), &json!({}));
        assert_eq!(r.status, 200, "/test/rotate: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        v["kid"].as_str().unwrap().to_owned()
    }

    /// The public key as SPKI PEM: the text an `alg` confusion attack uses as HMAC secret.
    fn public_pem(&self) -> String {
        let d = deps();
        let out = Command::new(&d.node22)
            .arg("-e")
            .arg(
                "const c=require('crypto');process.stdout.write(c.createPublicKey(\
                 require('fs').readFileSync(process.argv[1])).export({type:'spki',format:'pem'}))",
            )
            .arg(self.keys.path().join("private-key.pem"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Backends and gateway config.

/// An `auth-echo` backend (`conformance-server` crate) on a free port, and its MCP URL.
fn start_auth_echo() -> (Proc, String) {
    let bin = conformance_server_bin().with_file_name("auth-echo");
    assert!(bin.exists(), "auth-echo not built at {}", bin.display());
    let mut cmd = Command::new(bin);
    cmd.args(["--port", "0"]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(30));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

fn demo_backend() -> String {
    format!(
        "[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n",
        toml_str(&portcullis_bin().display().to_string())
    )
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Two `auth-echo` backends, each with its own token exchange: `a` authenticates to the token
/// endpoint with HTTP Basic and asks for an `audience`; `b` posts its credentials in the form and
/// names the same value as both `audience` and `resource`. Upstream sessions are per client
/// session, so the client's DELETE ends them too and every request of their life (DELETE
/// included) is checked for its credential.
fn exchange_backends(idp: &Idp, url_a: &str, url_b: &str) -> String {
    format!(
        r#"
[[backend]]
name = "a"
url = {url_a}
upstream_sessions = "per_session"
auth = {{ type = "token_exchange", token_endpoint = {te}, client_id = "portcullis", client_secret = "portcullis-secret", client_auth = "basic", audience = {aud_a} }}

[[backend]]
name = "b"
url = {url_b}
upstream_sessions = "per_session"
auth = {{ type = "token_exchange", token_endpoint = {te}, client_id = "portcullis", client_secret = "portcullis-secret", client_auth = "post", audience = {aud_b}, resource = {aud_b} }}
"#,
        url_a = toml_str(url_a),
        url_b = toml_str(url_b),
        te = toml_str(&idp.token_endpoint),
        aud_a = toml_str(AUD_A),
        aud_b = toml_str(AUD_B),
    )
}

/// A gateway config trusting `idp`. `auth_extra` goes in `[auth]`, `issuer_extra` in the issuer.
fn config(idp: &Idp, auth_extra: &str, issuer_extra: &str, backends: &str) -> String {
    format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "{PUBLIC_URL}"

[auth]
mode = "oidc"
dangerous_no_policy = true
{auth_extra}

[[auth.issuers]]
issuer = {issuer}
{issuer_extra}

{backends}
{ALLOW_LOOPBACK}
{TOFU}
"#,
        issuer = toml_str(&idp.issuer),
    )
}

// ---------------------------------------------------------------------------------------------
// HTTP: a blocking facade over reqwest (bounded by timeouts) and a raw socket for what reqwest
// would not send.

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

fn client() -> &'static reqwest::Client {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .unwrap()
    })
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    /// The JSON-RPC message answering a request: the JSON body, or the SSE event carrying it.
    fn rpc(&self) -> Value {
        if let Ok(v) = serde_json::from_str::<Value>(&self.body) {
            return v;
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|v| v.get("id").is_some())
            .unwrap_or_else(|| panic!("no JSON-RPC response in {:?}", self.body))
    }
}

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

fn http_get(url: &str) -> Resp {
    block(async { into_resp(client().get(url).send().await.unwrap()).await })
}

fn http_post_json(url: &str, body: &Value) -> Resp {
    block(async {
        into_resp(
            client()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await
    })
}

/// One request to the MCP endpoint with full control of the credential and session headers.
async fn mcp(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    sid: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let mut req = client()
        .request(method.clone(), url)
        .header("accept", ACCEPT);
    if method == reqwest::Method::GET {
        req = req.header("accept", "text/event-stream");
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(s) = sid {
        req = req.header("mcp-session-id", s);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    into_resp(req.send().await.unwrap()).await
}

fn post(url: &str, token: Option<&str>, sid: Option<&str>, body: &Value) -> Resp {
    block(mcp(reqwest::Method::POST, url, token, sid, Some(body)))
}

fn init_msg() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "identity-test", "version": "0"}}})
}

fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// Initialize a session (and send `notifications/initialized`); returns its id.
async fn open_session(url: &str, token: &str) -> String {
    let r = mcp(
        reqwest::Method::POST,
        url,
        Some(token),
        None,
        Some(&init_msg()),
    )
    .await;
    assert_eq!(r.status, 200, "initialize: {}", r.body);
    let sid = r.header("mcp-session-id");
    assert!(!sid.is_empty(), "no session id");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = mcp(
        reqwest::Method::POST,
        url,
        Some(token),
        Some(&sid),
        Some(&note),
    )
    .await;
    assert_eq!(r.status, 202, "notifications/initialized: {}", r.body);
    sid
}

/// A raw HTTP/1.1 exchange that tolerates the server closing while the request is still being
/// written (as it may for an oversized header) and returns what it answered.
fn raw_exchange(addr: &str, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    parse_http_response(&buf)
}

// ---------------------------------------------------------------------------------------------
// Tokens.

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The (unverified) payload of a JWT.
fn payload(token: &str) -> Value {
    let seg = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(seg)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn bearer_arg(token: &str) -> [String; 2] {
    ["--header".into(), format!("Authorization: Bearer {token}")]
}

fn run_python(url: &str, token: &str, script: &Value) -> Value {
    let h = bearer_arg(token);
    python_client(url, script, &[h[0].as_str(), h[1].as_str()])
}

fn ok<'a>(step: &'a Value, what: &str) -> &'a Value {
    assert_eq!(step["ok"], true, "{what} failed: {step}");
    &step["result"]
}

/// The token a `whoami` of `auth-echo` reports having received.
fn whoami_token(result: &Value) -> String {
    let text = result["content"][0]["text"].as_str().expect("text content");
    let v: Value = serde_json::from_str(text).unwrap();
    let auth = v["authorization"]
        .as_str()
        .expect("an Authorization header");
    auth.strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a bearer credential: {auth}"))
        .to_owned()
}

fn tool_names(result: &Value) -> BTreeSet<String> {
    result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Wait until `cond` holds, up to `timeout`.
fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `authorization: <value> method=<M>` lines an `auth-echo` printed: (value, method).
fn echo_log(p: &Proc) -> Vec<(String, String)> {
    p.stdout_lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("authorization: "))
        .map(|l| {
            let (v, m) = l.rsplit_once(" method=").unwrap();
            (v.to_owned(), m.to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1 and 7: a valid token is served; RFC 9728 metadata.

#[test]
fn valid_token_lists_and_calls_tools() {
    let idp = start_idp();
    let gw = start_gateway(&config(&idp, "", "", &demo_backend()));
    let token = idp.user("alice");

    let run = run_python(
        &gw.url,
        &token,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "demo__echo", "arguments": {"message": "through the gate"}},
        ]),
    );
    let s = steps(&run);
    let names = tool_names(ok(&s[0], "list_tools"));
    assert!(names.contains("demo__echo"), "tools: {names:?}");
    let echoed = ok(&s[1], "call echo").to_string();
    assert!(echoed.contains("through the gate"), "echo: {echoed}");

    // The same client without a token does not get a session.
    let run = python_client(&gw.url, &json!([{"op": "list_tools"}]), &[]);
    assert!(
        run.get("fatal").is_some(),
        "anonymous client was served: {run}"
    );
}

#[test]
fn protected_resource_metadata_names_resource_and_issuer() {
    let idp = start_idp();
    let gw = start_gateway(&config(&idp, "", "", &demo_backend()));
    let base = format!("http://{}", gw.addr);
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let r = http_get(&format!("{base}{path}"));
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.header("content-type").starts_with("application/json"));
        let doc: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(doc["resource"], PUBLIC_URL, "{path}: {doc}");
        assert_eq!(doc["authorization_servers"], json!([idp.issuer]), "{path}");
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]), "{path}");
    }
    // The challenge points at the second one.
    let r = post(&gw.url, None, None, &init_msg());
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        format!("Bearer resource_metadata=\"{METADATA_URL}\"")
    );
}

// ---------------------------------------------------------------------------------------------
// 2: each backend gets a token exchanged for it, on every request, never the caller's.

#[test]
fn each_backend_receives_a_token_exchanged_for_its_own_audience() {
    let idp = start_idp();
    let (echo_a, url_a) = start_auth_echo();
    let (echo_b, url_b) = start_auth_echo();
    let gw = start_gateway(&config(
        &idp,
        "",
        "",
        &exchange_backends(&idp, &url_a, &url_b),
    ));
    let token = idp.user("alice");

    let run = run_python(
        &gw.url,
        &token,
        &json!([
            {"op": "list_tools"},
            {"op": "call_tool", "name": "a__whoami"},
            {"op": "call_tool", "name": "b__whoami"},
            {"op": "call_tool", "name": "a__whoami"},
        ]),
    );
    let s = steps(&run);
    let names = tool_names(ok(&s[0], "list_tools"));
    assert!(
        names.contains("a__whoami") && names.contains("b__whoami"),
        "tools: {names:?}"
    );
    for (step, aud) in [(&s[1], AUD_A), (&s[2], AUD_B), (&s[3], AUD_A)] {
        let got = whoami_token(ok(step, "whoami"));
        assert_ne!(got, token, "the caller's own token reached a backend");
        let claims = payload(&got);
        assert_eq!(claims["aud"], aud, "exchanged token: {claims}");
        assert_eq!(claims["sub"], "alice", "exchanged token: {claims}");
        assert_eq!(
            claims["act"]["sub"], "portcullis",
            "exchanged token: {claims}"
        );
        assert_eq!(claims["iss"], idp.issuer.as_str());
    }
    let got_a = whoami_token(&s[1]["result"]);
    assert_eq!(got_a, whoami_token(&s[3]["result"]), "cached token reused");

    // The IdP saw one exchange per backend, each for that backend's audience.
    assert_eq!(idp.exchanges(), 2);
    let idp_log = idp.proc.stdout_lines.lock().unwrap().join("\n");
    assert!(
        idp_log.contains(&format!("exchange sub=alice audience={AUD_A}")),
        "{idp_log}"
    );
    assert!(
        idp_log.contains(&format!("exchange sub=alice audience={AUD_B}")),
        "{idp_log}"
    );

    // The client's DELETE ends the gateway session, which ends both upstream sessions.
    for (p, aud) in [(&echo_a, AUD_A), (&echo_b, AUD_B)] {
        wait_until(Duration::from_secs(15), "DELETE at the backend", || {
            echo_log(p).iter().any(|(_, m)| m == "DELETE")
        });
        let log = echo_log(p);
        let methods: BTreeSet<&str> = log.iter().map(|(_, m)| m.as_str()).collect();
        assert!(
            ["POST", "GET", "DELETE"]
                .iter()
                .all(|m| methods.contains(m)),
            "methods seen by backend {aud}: {methods:?}"
        );
        // initialize, notifications, calls, the GET stream, DELETE: 4+ POSTs.
        assert!(log.len() >= 6, "too few requests logged: {log:?}");
        for (value, method) in &log {
            assert!(
                !value.contains(&token),
                "the caller's token reached backend {aud} on {method}"
            );
            let t = value
                .strip_prefix("Bearer ")
                .unwrap_or_else(|| panic!("{method} to {aud} carried `{value}`"));
            let claims = payload(t);
            assert_eq!(claims["aud"], aud, "{method} to {aud}: {claims}");
            assert_eq!(claims["act"]["sub"], "portcullis", "{method}: {claims}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3: a burst makes one exchange per (caller, backend).

#[test]
fn burst_of_calls_makes_one_exchange_per_caller_and_backend() {
    let idp = start_idp();
    let (_echo_a, url_a) = start_auth_echo();
    let (_echo_b, url_b) = start_auth_echo();
    let gw = start_gateway(&config(
        &idp,
        "",
        "",
        &exchange_backends(&idp, &url_a, &url_b),
    ));
    let callers = ["alice", "bob"];
    let tokens: Vec<(String, String)> = callers
        .iter()
        .map(|c| ((*c).to_owned(), idp.user(c)))
        .collect();
    assert_eq!(idp.exchanges(), 0);

    // 2 callers x 5 sessions x 10 calls, all in flight at once (sessions open concurrently too,
    // so even the initialize of each upstream session races for the exchange).
    let started = Instant::now();
    let gw_url = gw.url.clone();
    let gw_url = &gw_url;
    let results: Vec<(String, String, Resp)> = block(async {
        let sessions = tokens.iter().flat_map(|(who, tok)| {
            (0..5).map(move |_| {
                let url = gw_url.clone();
                async move {
                    let sid = open_session(&url, tok).await;
                    let calls = (0..10u64).map(|i| {
                        let tool = if i % 2 == 0 { "a__whoami" } else { "b__whoami" };
                        let body = rpc(i + 2, "tools/call", json!({"name": tool, "arguments": {}}));
                        let (url, sid) = (url.clone(), sid.clone());
                        async move {
                            let r = mcp(
                                reqwest::Method::POST,
                                &url,
                                Some(tok),
                                Some(&sid),
                                Some(&body),
                            )
                            .await;
                            (who.clone(), tool.to_owned(), r)
                        }
                    });
                    futures::future::join_all(calls).await
                }
            })
        });
        futures::future::join_all(sessions)
            .await
            .into_iter()
            .flatten()
            .collect()
    });
    eprintln!("100 calls in {:?}", started.elapsed());
    assert_eq!(results.len(), 100);
    for (who, tool, r) in &results {
        assert_eq!(r.status, 200, "{who} {tool}: {}", r.body);
        let msg = r.rpc();
        let result = msg
            .get("result")
            .unwrap_or_else(|| panic!("{who} {tool}: {msg}"));
        let claims = payload(&whoami_token(result));
        let aud = if tool == "a__whoami" { AUD_A } else { AUD_B };
        assert_eq!(claims["aud"], aud, "{who} {tool}: {claims}");
        assert_eq!(claims["sub"], who.as_str(), "{who} {tool}: {claims}");
    }
    assert_eq!(
        idp.exchanges(),
        4,
        "expected exactly one exchange per (caller, backend)"
    );
}

// ---------------------------------------------------------------------------------------------
// 4: a key rotation at the IdP is picked up by the unknown-kid refetch.

#[test]
fn rotated_signing_key_is_picked_up() {
    let idp = start_idp();
    // No timer refresh during the test: only an unknown kid can make the gateway refetch.
    let gw = start_gateway(&config(
        &idp,
        "",
        "jwks_refresh_secs = 3600\njwks_min_refetch_secs = 1",
        &demo_backend(),
    ));
    let old = idp.user("alice");
    assert_eq!(post(&gw.url, Some(&old), None, &init_msg()).status, 200);

    let kid = idp.rotate();
    let new = idp.user("alice");
    assert_eq!(
        payload_header(&new)["kid"],
        kid,
        "the IdP signs with the new key"
    );
    assert_ne!(payload_header(&old)["kid"], kid);
    // Past the refetch rate limit (counted from the start-up fetch).
    std::thread::sleep(Duration::from_millis(1500));
    let r = post(&gw.url, Some(&new), None, &init_msg());
    assert_eq!(r.status, 200, "token with the rotated kid: {}", r.body);

    // The old key is gone from the IdP's JWKS, so from the gateway's too.
    let r = post(&gw.url, Some(&old), None, &init_msg());
    assert_eq!(r.status, 401, "token of the retired key: {}", r.body);
    assert!(
        r.header("www-authenticate")
            .contains("error=\"invalid_token\"")
    );

    let run = run_python(&gw.url, &new, &json!([{"op": "list_tools"}]));
    ok(&steps(&run)[0], "list_tools after rotation");
}

// ---------------------------------------------------------------------------------------------
// 5: the IdP goes down; cached keys and exchanged tokens keep serving.

#[test]
fn idp_down_cached_keys_and_exchanged_tokens_keep_serving() {
    let mut idp = start_idp();
    let (echo_a, url_a) = start_auth_echo();
    let (_echo_b, url_b) = start_auth_echo();
    let gw = start_gateway(&config(
        &idp,
        "",
        "jwks_min_refetch_secs = 0",
        &exchange_backends(&idp, &url_a, &url_b),
    ));
    let alice = idp.user("alice");
    let bob = idp.user("bob");
    let script = json!([
        {"op": "call_tool", "name": "a__whoami"},
        {"op": "call_tool", "name": "b__whoami"},
    ]);
    let before = run_python(&gw.url, &alice, &script);
    let before: Vec<String> = steps(&before)
        .iter()
        .map(|s| whoami_token(ok(s, "whoami before")))
        .collect();
    let unknown_kid = idp.sign(idp.claims("alice"), json!({"kid": "not-a-key"}));
    assert_eq!(idp.exchanges(), 2);

    idp.proc.kill();
    let idp_addr = idp.issuer.trim_start_matches("http://").to_owned();
    assert!(
        std::net::TcpStream::connect(&idp_addr).is_err(),
        "IdP still listening"
    );

    // A new session for alice: her token validates on cached keys, both backends get the cached
    // exchanged tokens.
    let after = run_python(&gw.url, &alice, &script);
    let after: Vec<String> = steps(&after)
        .iter()
        .map(|s| whoami_token(ok(s, "whoami with the IdP down")))
        .collect();
    assert_eq!(before, after, "the cached exchanged tokens are used");

    // An unknown kid triggers a refetch that fails: refused promptly, not hung, not a 5xx.
    let t = Instant::now();
    let r = post(&gw.url, Some(&unknown_kid), None, &init_msg());
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(t.elapsed() < Duration::from_secs(15));

    // Bob is authenticated (cached keys) but has no exchanged token and none can be had: his
    // calls fail with an error, and the gateway stays up for alice.
    let r = post(&gw.url, Some(&bob), None, &init_msg());
    assert_eq!(
        r.status, 200,
        "bob's token validates on cached keys: {}",
        r.body
    );
    let sid = r.header("mcp-session-id");
    let call = rpc(
        2,
        "tools/call",
        json!({"name": "a__whoami", "arguments": {}}),
    );
    let r = post(&gw.url, Some(&bob), Some(&sid), &call);
    eprintln!("bob with the IdP down: {} {}", r.status, r.body);
    assert_eq!(r.status, 200);
    let msg = r.rpc();
    assert!(
        msg.get("error").is_some() || msg["result"]["isError"] == true,
        "bob got a result without an exchange: {msg}"
    );
    let log = gw.proc.stderr();
    for b in ["a", "b"] {
        assert!(
            log.contains(&format!(
                "no credential for backend `{b}`: token exchange failed"
            )),
            "the gateway log names the failed exchange for `{b}`:\n{log}"
        );
    }
    // Nothing of bob's reached the backend: every request it saw carried alice's exchanged token.
    for (value, method) in echo_log(&echo_a) {
        let claims = payload(value.strip_prefix("Bearer ").unwrap());
        assert_eq!(claims["sub"], "alice", "{method}: {claims}");
    }
    // Bob's failed exchanges say nothing about the backends' health: a new session of alice's
    // waits for its links as before, lists both backends' tools at once and calls them. (Bob's
    // link keeps retrying its exchange in the background meanwhile; wait for a few retries.)
    std::thread::sleep(Duration::from_millis(1_500));
    let mut listed = json!([{"op": "list_tools"}]);
    listed
        .as_array_mut()
        .unwrap()
        .extend(script.as_array().unwrap().iter().cloned());
    let again = run_python(&gw.url, &alice, &listed);
    let again = steps(&again);
    let names = tool_names(ok(&again[0], "alice lists after bob's failure"));
    for t in ["a__whoami", "b__whoami"] {
        assert!(names.iter().any(|n| n == t), "{t} listed: {names:?}");
    }
    let tokens: Vec<String> = again[1..]
        .iter()
        .map(|s| whoami_token(ok(s, "alice after bob's failure")))
        .collect();
    assert_eq!(before, tokens, "alice's cached exchanged tokens are used");
    // Nor did the gateway take a backend for down at any point: it never saw one come back.
    let log = gw.proc.stderr();
    assert!(
        !log.contains("found down"),
        "a caller's failed exchange was taken for the backend being down:\n{log}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6: the rejection catalogue.

/// Assert a 401 with a Bearer challenge pointing at the metadata (and `error` when given).
fn assert_401(r: &Resp, case: &str, error: Option<&str>) {
    assert_eq!(r.status, 401, "{case}: {} {}", r.status, r.body);
    let www = r.header("www-authenticate");
    assert!(www.starts_with("Bearer"), "{case}: {www}");
    assert!(
        www.contains(&format!("resource_metadata=\"{METADATA_URL}\"")),
        "{case}: {www}"
    );
    if let Some(e) = error {
        assert!(www.contains(&format!("error=\"{e}\"")), "{case}: {www}");
    }
    eprintln!("{case}: 401, WWW-Authenticate: {www}");
}

#[test]
fn rejection_catalogue() {
    let idp = start_idp();
    let gw = start_gateway(&config(
        &idp,
        "required_scopes = [\"mcp\"]",
        "leeway_secs = 1",
        &demo_backend(),
    ));
    let url = gw.url.clone();
    let good = idp.user("alice");
    let still_serving = |case: &str| {
        let r = post(&url, Some(&good), None, &init_msg());
        assert_eq!(r.status, 200, "not serving after {case}: {}", r.body);
    };
    let refuse = |case: &str, token: Option<&str>, error: Option<&str>| {
        let r = post(&url, token, None, &init_msg());
        assert_401(&r, case, error);
        still_serving(case);
    };

    refuse("no token", None, None);
    {
        let r = block(async {
            into_resp(
                client()
                    .post(&url)
                    .header("accept", ACCEPT)
                    .header("authorization", format!("Basic {}", b64(b"alice:pw")))
                    .header("content-type", "application/json")
                    .body(init_msg().to_string())
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        });
        assert_401(&r, "Basic scheme", Some("invalid_request"));
        still_serving("Basic scheme");
    }
    refuse("malformed token", Some("not-a-jwt"), Some("invalid_token"));
    refuse(
        "three garbage segments",
        Some("eyJ.eyJ.sig"),
        Some("invalid_token"),
    );

    let claims = idp.claims("alice");
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"at+jwt"}"#),
        b64(claims.to_string().as_bytes())
    );
    refuse("alg none", Some(&unsigned), Some("invalid_token"));

    // HS256 keyed with the IdP's public key: the classic algorithm confusion.
    let kid = payload_header(&good)["kid"].as_str().unwrap().to_owned();
    let pem = idp.public_pem();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.clone());
    header.typ = Some("at+jwt".into());
    let hs = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(pem.as_bytes()),
    )
    .unwrap();
    refuse(
        "HS256 with the public key",
        Some(&hs),
        Some("invalid_token"),
    );

    let expired = idp.login(
        "alice",
        PUBLIC_URL,
        &[("scope", "mcp"), ("expires_in", "-120")],
    );
    refuse("expired", Some(&expired), Some("invalid_token"));
    let early = idp.login(
        "alice",
        PUBLIC_URL,
        &[("scope", "mcp"), ("not_before", "600")],
    );
    refuse("not yet valid", Some(&early), Some("invalid_token"));

    let mut c = idp.claims("alice");
    c["iss"] = json!("http://127.0.0.1:9/evil");
    refuse(
        "wrong issuer",
        Some(&idp.sign(c, json!({}))),
        Some("invalid_token"),
    );
    let mut c = idp.claims("alice");
    c["iss"] = json!(format!("{}/", idp.issuer));
    refuse(
        "issuer with a trailing slash",
        Some(&idp.sign(c, json!({}))),
        Some("invalid_token"),
    );

    let other_aud = idp.login("alice", "https://other.example/mcp", &[("scope", "mcp")]);
    refuse("wrong audience", Some(&other_aud), Some("invalid_token"));

    let bad_kid = idp.sign(idp.claims("alice"), json!({"kid": "no-such-kid"}));
    refuse("unknown kid", Some(&bad_kid), Some("invalid_token"));

    let parts: Vec<&str> = good.split('.').collect();
    let mut forged = payload(&good);
    forged["sub"] = json!("mallory");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    refuse("tampered payload", Some(&tampered), Some("invalid_token"));

    // A token in the URL is refused even if it is valid, with or without a header.
    for (case, header) in [
        ("token in the query", None),
        ("token in the query beside a header", Some(good.as_str())),
    ] {
        let r = post(
            &format!("{url}?access_token={good}"),
            header,
            None,
            &init_msg(),
        );
        assert_401(&r, case, Some("invalid_request"));
        still_serving(case);
    }

    // Longer than `max_token_bytes` (8192) but within the header limit: refused by identity.
    let long = format!("{}{}", good, "A".repeat(9000));
    refuse("9 KB token", Some(&long), Some("invalid_token"));

    // 1 MB: the HTTP layer refuses the header block before identity sees it.
    let body = init_msg().to_string();
    let huge = "A".repeat(1024 * 1024);
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: {ACCEPT}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {huge}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{body}",
        addr = gw.addr,
        len = body.len()
    );
    let (status, _, _) = raw_exchange(&gw.addr, request.as_bytes());
    eprintln!("1 MB token: {status}");
    assert_eq!(status, 431, "1 MB token");
    still_serving("1 MB token");

    // Valid, but without the required scope: 403 naming it.
    let unscoped = idp.login("alice", PUBLIC_URL, &[("scope", "openid")]);
    let r = post(&url, Some(&unscoped), None, &init_msg());
    assert_eq!(r.status, 403, "{}", r.body);
    let www = r.header("www-authenticate");
    assert!(www.contains("error=\"insufficient_scope\""), "{www}");
    assert!(www.contains("scope=\"mcp\""), "{www}");
    assert!(
        www.contains(&format!("resource_metadata=\"{METADATA_URL}\"")),
        "{www}"
    );
    eprintln!("missing scope: 403, WWW-Authenticate: {www}");
    still_serving("missing scope");

    // Another principal's session id: 403 on POST, GET and DELETE; the owner keeps it.
    let bob = idp.user("bob");
    let sid = block(open_session(&url, &good));
    let ping = rpc(7, "ping", json!({}));
    for (method, body) in [
        (reqwest::Method::POST, Some(&ping)),
        (reqwest::Method::GET, None),
        (reqwest::Method::DELETE, None),
    ] {
        let r = block(mcp(method.clone(), &url, Some(&bob), Some(&sid), body));
        assert_eq!(r.status, 403, "{method} with another's session: {}", r.body);
        assert!(r.body.contains("another principal"), "{}", r.body);
        eprintln!("another principal's session, {method}: 403");
    }
    let r = post(&url, Some(&good), Some(&sid), &ping);
    assert_eq!(r.status, 200, "owner after the attempts: {}", r.body);
    assert!(r.rpc().get("result").is_some(), "{}", r.body);
    let r = block(mcp(
        reqwest::Method::DELETE,
        &url,
        Some(&good),
        Some(&sid),
        None,
    ));
    assert_eq!(r.status, 200, "owner's DELETE: {}", r.body);

    // A token that expires mid-session: served, then 401 once past `exp` + leeway.
    let short = idp.login(
        "alice",
        PUBLIC_URL,
        &[("scope", "mcp"), ("expires_in", "3")],
    );
    let exp = payload(&short)["exp"].as_u64().unwrap();
    let sid = block(open_session(&url, &short));
    let r = post(&url, Some(&short), Some(&sid), &ping);
    assert_eq!(r.status, 200, "before expiry: {}", r.body);
    let wait = (exp + 2).saturating_sub(now());
    std::thread::sleep(Duration::from_secs(wait));
    let r = post(&url, Some(&short), Some(&sid), &ping);
    assert_401(&r, "expired mid-session", Some("invalid_token"));
    assert!(r.header("www-authenticate").contains("expired"));
    still_serving("expired mid-session");

    // And a real client is served at the end.
    let run = run_python(&url, &good, &json!([{"op": "list_tools"}]));
    ok(&steps(&run)[0], "list_tools after the catalogue");
}

/// The (unverified) header of a JWT.
fn payload_header(token: &str) -> Value {
    let seg = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(seg)
            .unwrap(),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// The other outbound credentials: client credentials, a static secret, and the (dangerous)
// passthrough that must be asked for by name.

#[test]
fn client_credentials_static_and_passthrough_backends() {
    let idp = start_idp();
    let (echo_cc, url_cc) = start_auth_echo();
    let (echo_static, url_static) = start_auth_echo();
    let (echo_pass, url_pass) = start_auth_echo();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret_file = secret_dir.path().join("static-token");
    std::fs::write(&secret_file, "Bearer static-secret-value\n").unwrap();
    let backends = format!(
        r#"
[[backend]]
name = "cc"
url = {url_cc}
auth = {{ type = "client_credentials", token_endpoint = {te}, client_id = "portcullis", client_secret = "portcullis-secret", resource = {aud} }}

[[backend]]
name = "st"
url = {url_static}
auth = {{ type = "static", header = "Authorization", value = {{ file = {secret} }} }}

[[backend]]
name = "pass"
url = {url_pass}
dangerous_passthrough = true
"#,
        url_cc = toml_str(&url_cc),
        url_static = toml_str(&url_static),
        url_pass = toml_str(&url_pass),
        te = toml_str(&idp.token_endpoint),
        aud = toml_str(AUD_A),
        secret = toml_str(&secret_file.display().to_string()),
    );
    let text = config(&idp, "", "", &backends);
    // `check` names the dangerous choice.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, &text).unwrap();
    let out = Command::new(portcullis_bin())
        .arg("check")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("backend `pass` has dangerous_passthrough = true"),
        "check output:\n{stdout}"
    );

    let gw = start_gateway(&text);
    let token = idp.user("carol");
    let run = run_python(
        &gw.url,
        &token,
        &json!([
            {"op": "call_tool", "name": "cc__whoami"},
            {"op": "call_tool", "name": "st__whoami"},
            {"op": "call_tool", "name": "pass__whoami"},
        ]),
    );
    let s = steps(&run);
    // Client credentials: the gateway's own identity, audience-bound to the backend.
    let cc = whoami_token(ok(&s[0], "cc whoami"));
    assert_ne!(cc, token);
    let claims = payload(&cc);
    assert_eq!(claims["sub"], "portcullis", "{claims}");
    assert_eq!(claims["aud"], AUD_A, "{claims}");
    // Static: exactly the secret from the file.
    assert_eq!(
        whoami_token(ok(&s[1], "static whoami")),
        "static-secret-value"
    );
    // Passthrough: the caller's own token, and only because the config says so.
    assert_eq!(whoami_token(ok(&s[2], "passthrough whoami")), token);
    // Neither non-passthrough backend ever saw the caller's token, on any request.
    for (name, p) in [("cc", &echo_cc), ("st", &echo_static)] {
        for (value, method) in echo_log(p) {
            assert!(
                !value.contains(&token),
                "backend {name} got the caller's token on {method}"
            );
        }
    }
    drop(echo_pass);
}
