//! The hostile-input suite, part two (part one is `tests/edge.rs`, JWTs against a real IdP are
//! in `tests/identity.rs`): cases across HTTP framing, JSON-RPC, JWTs, backend responses, SSE
//! from backends and config. Each case asserts its specific error, then that the gateway still
//! serves a valid call, and — where the request reached the audit stage — that the audit trail
//! recorded it. `SECURITY.md` has the table of every case and its test.
//!
//! One gateway serves every runtime case: OIDC with a dev key (so tests can sign any token),
//! the demo stdio backend, a hostile Streamable HTTP backend on loopback, and an audit trail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use portcullis::identity::dev;
use serde_json::{Value, json};

const PUBLIC_URL: &str = "http://127.0.0.1:1/mcp";
const ISSUER: &str = "urn:hostile";
const LIMIT: usize = 65536;

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

// ----- the hostile backend -----

/// A Streamable HTTP backend that handshakes correctly and answers each tool with a different
/// protocol violation. One request per connection.
struct Backend {
    url: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const TOOLS: &[&str] = &[
    "wrong_id_json",
    "wrong_id_sse",
    "accepted_202",
    "html",
    "too_deep",
    "batch",
    "not_jsonrpc",
    "hang",
    "truncated",
    "endless_sse_line",
    "unterminated_sse",
];

impl Backend {
    fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for _ in 0..1000 {
                let Ok((conn, _)) = listener.accept() else {
                    return;
                };
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::spawn(move || {
                    let _ = exchange(conn);
                });
            }
        });
        Backend {
            url: format!("http://{addr}/mcp"),
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn exchange(conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let Some((request_line, body)) = read_http_request(&conn)? else {
        return Ok(());
    };
    let mut out = conn;
    let mut respond = |status: &str, ctype: &str, body: &[u8]| -> std::io::Result<()> {
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        out.write_all(body)?;
        out.flush()
    };
    if !request_line.starts_with("POST") {
        return respond("405 Method Not Allowed", "text/plain", b"");
    }
    let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = msg["id"].clone();
    let rpc = |id: &Value, result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result});
    let text = |s: &str| json!({ "content": [{ "type": "text", "text": s }] });
    match msg["method"].as_str() {
        Some("initialize") => respond(
            "200 OK",
            "application/json",
            rpc(
                &id,
                json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": { "tools": {} },
                    "serverInfo": { "name": "hostile", "version": "1" },
                }),
            )
            .to_string()
            .as_bytes(),
        ),
        Some("tools/list") => {
            let tools: Vec<Value> = TOOLS
                .iter()
                .map(|n| json!({ "name": n, "inputSchema": { "type": "object" } }))
                .collect();
            respond(
                "200 OK",
                "application/json",
                rpc(&id, json!({ "tools": tools })).to_string().as_bytes(),
            )
        }
        Some("tools/call") => {
            let other = json!(id.as_u64().unwrap_or(0) + 1000);
            match msg["params"]["name"].as_str().unwrap_or("") {
                "wrong_id_json" => respond(
                    "200 OK",
                    "application/json",
                    rpc(&other, text("for someone else")).to_string().as_bytes(),
                ),
                "wrong_id_sse" => respond(
                    "200 OK",
                    "text/event-stream",
                    format!("data: {}\n\n", rpc(&other, text("for someone else"))).as_bytes(),
                ),
                "accepted_202" => respond("202 Accepted", "text/plain", b""),
                "html" => respond("200 OK", "text/html", b"<h1>hello</h1>"),
                "too_deep" => {
                    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
                    let body = format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[],"x":{deep}}}}}"#
                    );
                    respond("200 OK", "application/json", body.as_bytes())
                }
                "batch" => respond(
                    "200 OK",
                    "application/json",
                    json!([rpc(&id, text("batched"))]).to_string().as_bytes(),
                ),
                "not_jsonrpc" => respond(
                    "200 OK",
                    "application/json",
                    json!({"jsonrpc": "1.0", "id": id, "result": text("old")})
                        .to_string()
                        .as_bytes(),
                ),
                "hang" => {
                    std::thread::sleep(Duration::from_secs(6));
                    respond(
                        "200 OK",
                        "application/json",
                        rpc(&id, text("too late")).to_string().as_bytes(),
                    )
                }
                "truncated" => {
                    write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"jsonrpc\":\"2.0\""
                    )?;
                    out.flush()
                }
                "endless_sse_line" => {
                    write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: "
                    )?;
                    let chunk = [b'x'; 4096];
                    for _ in 0..(LIMIT / 4096 + 4) {
                        out.write_all(&chunk)?;
                    }
                    out.flush()
                }
                "unterminated_sse" => {
                    // A whole response, but the event is never terminated by a blank line:
                    // per the SSE rules it is never dispatched.
                    write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {}",
                        rpc(&id, text("never dispatched"))
                    )?;
                    out.flush()
                }
                _ => respond("404 Not Found", "text/plain", b""),
            }
        }
        // Notifications and anything else.
        _ => respond("202 Accepted", "text/plain", b""),
    }
}

// ----- the gateway and its clients -----

struct Setup {
    gw: Gateway,
    _backend: Backend,
    key_pem: String,
    kid: String,
    good: String,
}

fn setup() -> Setup {
    let backend = Backend::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dev::DevKey::load_or_create(&dir.path().join("dev.pem")).unwrap();
    let key_pem = std::fs::read_to_string(dir.path().join("dev.pem")).unwrap();
    let config = format!(
        "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = {public}\n\n\
         [auth]\nmode = \"oidc\"\ndangerous_no_policy = true\nmax_token_bytes = 4096\n\
         [[auth.issuers]]\nissuer = {issuer}\ndev_key_file = \"dev.pem\"\nleeway_secs = 5\n\n\
         [http]\nmax_upstream_message_bytes = {LIMIT}\n\n\
         [audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n\
         {TOFU}{ALLOW_LOOPBACK}\n\
         [[backend]]\nname = \"demo\"\ncommand = [{demo}, \"demo-server\"]\n\n\
         [[backend]]\nname = \"hostile\"\nurl = {url}\ntimeout_secs = 2\n",
        public = toml_str(PUBLIC_URL),
        issuer = toml_str(ISSUER),
        demo = toml_str(&portcullis_bin().display().to_string()),
        url = toml_str(&backend.url),
    );
    let gw = start_gateway_in(&config, dir);
    let good = key
        .sign(&dev::claims(ISSUER, PUBLIC_URL, "alice", &[], &[], 600))
        .unwrap();
    Setup {
        gw,
        _backend: backend,
        key_pem,
        kid: key.kid(),
        good,
    }
}

impl Setup {
    /// A token with these claims (merged over good ones) and header fields, signed ES256 with
    /// the trusted key.
    fn token(&self, claims: Value, header: Value) -> String {
        let mut c = dev::claims(ISSUER, PUBLIC_URL, "alice", &[], &[], 600);
        for (k, v) in claims.as_object().unwrap() {
            c[k] = v.clone();
        }
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some(header["kid"].as_str().unwrap_or(&self.kid).to_owned());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(self.key_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&h, &c, &key).unwrap()
    }

    fn trail(&self) -> Vec<Value> {
        std::fs::read_to_string(self.gw.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Wait (bounded) for a record after `seen` records that matches; returns it.
    fn recorded(&self, seen: usize, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(r) = self.trail().into_iter().skip(seen).find(|r| pred(r)) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not recorded; trail:\n{:#?}",
                self.trail().into_iter().skip(seen).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn rpc_post(url: &str, token: Option<&str>, sid: Option<&str>, body: &[u8]) -> (u16, Value) {
    let rt = runtime();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(s) = sid {
            req = req.header("mcp-session-id", s);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .next_back()
            .or_else(|| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        (status, v)
    })
}

struct Session<'a> {
    s: &'a Setup,
    client: RawClient,
}

impl<'a> Session<'a> {
    fn open(s: &'a Setup) -> Session<'a> {
        let mut client = RawClient::new(&s.gw.url).with_token(&s.good);
        runtime().block_on(client.initialize());
        Session { s, client }
    }

    fn call(&self, tool: &str) -> Value {
        runtime().block_on(
            self.client
                .request("tools/call", json!({ "name": tool, "arguments": {} })),
        )
    }

    fn assert_serving(&self) {
        let m = runtime().block_on(self.client.request(
            "tools/call",
            json!({ "name": "demo__echo", "arguments": { "message": "still serving" } }),
        ));
        assert_eq!(m["result"]["content"][0]["text"], "still serving", "{m}");
    }

    fn post_raw(&self, body: &[u8]) -> (u16, Value) {
        rpc_post(
            &self.s.gw.url,
            Some(&self.s.good),
            self.client.session.as_deref(),
            body,
        )
    }
}

// ----- HTTP and JSON-RPC -----

#[test]
fn http_framing_and_json_rpc_cases() {
    let s = setup();
    let mcp = Session::open(&s);
    mcp.assert_serving();

    // HTTP: an empty body, and bytes that are not UTF-8.
    for (case, body) in [
        ("empty body", &b""[..]),
        ("invalid UTF-8", b"{\"a\":\"\xff\xfe\"}"),
    ] {
        let (status, m) = mcp.post_raw(body);
        assert_eq!(status, 400, "{case}: {m}");
        assert_eq!(m["error"]["code"], -32700, "{case}: {m}");
        assert!(
            m["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not valid JSON"),
            "{case}: {m}"
        );
        mcp.assert_serving();
    }

    // HTTP request smuggling shapes: refused by the HTTP layer with 400 before anything else.
    let sid = mcp.client.session.clone().unwrap();
    let head = |extra: &str, body: &str| {
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nMcp-Session-Id: {sid}\r\n\
             Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n\
             {extra}Connection: close\r\n\r\n{body}",
            s.gw.addr, s.good
        )
    };
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    // Both framings: RFC 9112 §6.3 lets `Transfer-Encoding` win; hyper reads the chunked body
    // (never the bytes after it as a second request) and closes the connection after replying.
    let (status, headers, body) = raw_http(
        &s.gw.addr,
        head(
            "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
            &format!(
                "{:x}\r\n{ping}\r\n0\r\n\r\nPOST /mcp HTTP/1.1\r\nHost: smuggled\r\n\r\n",
                ping.len()
            ),
        )
        .as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""id":1"#), "{body}");
    assert!(!body.contains("smuggled"), "{body}");
    assert!(
        headers.iter().filter(|(k, _)| k == "content-type").count() <= 1,
        "a second response: {headers:?}"
    );
    mcp.assert_serving();
    for (case, req) in [
        (
            "two different Content-Lengths",
            head(
                &format!("Content-Length: {}\r\nContent-Length: 5\r\n", ping.len()),
                ping,
            ),
        ),
        (
            "non-numeric Content-Length",
            head("Content-Length: forty\r\n", ping),
        ),
    ] {
        let (status, _, _) = raw_http(&s.gw.addr, req.as_bytes());
        assert_eq!(status, 400, "{case}");
        mcp.assert_serving();
    }

    // DELETE without a session id.
    let rt = runtime();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .delete(&s.gw.url)
            .header("authorization", format!("Bearer {}", s.good))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 400);
    mcp.assert_serving();

    // JSON-RPC: a method the gateway does not know, a call without a name, an unknown tool.
    for (case, msg, code, needle) in [
        (
            "unknown method",
            json!({"jsonrpc": "2.0", "id": 5, "method": "tools/destroy", "params": {}}),
            -32601,
            "method `tools/destroy` is not supported",
        ),
        (
            "tools/call without name",
            json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"arguments": {}}}),
            -32602,
            "missing `name`",
        ),
        (
            "unknown tool",
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "nope__nothing"}}),
            -32602,
            "unknown tool `nope__nothing`",
        ),
    ] {
        let (status, m) = mcp.post_raw(msg.to_string().as_bytes());
        assert_eq!(status, 200, "{case}: {m}");
        assert_eq!(m["id"], msg["id"], "{case}: {m}");
        assert_eq!(m["error"]["code"], code, "{case}: {m}");
        assert!(
            m["error"]["message"].as_str().unwrap().contains(needle),
            "{case}: {m}"
        );
        mcp.assert_serving();
    }
}

// ----- JWTs -----

#[test]
fn bad_tokens_are_refused_recorded_and_the_next_request_served() {
    let s = setup();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let good_claims = dev::claims(ISSUER, PUBLIC_URL, "alice", &[], &[], 600);
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(good_claims.to_string().as_bytes())
    );
    // HS256 keyed with the trusted public key, as text: the algorithm-confusion attack.
    let public_jwk = serde_json::to_string(
        &dev::DevKey::load_or_create(&s.gw.dir.path().join("dev.pem"))
            .unwrap()
            .jwks(),
    )
    .unwrap();
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some(s.kid.clone());
    let confused = jsonwebtoken::encode(
        &hs,
        &good_claims,
        &jsonwebtoken::EncodingKey::from_secret(public_jwk.as_bytes()),
    )
    .unwrap();
    let oversized = s.token(json!({ "pad": "p".repeat(5000) }), json!({}));
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", unsigned, "algorithm `none` is not allowed"),
        (
            "HS256 with the public key",
            confused,
            "algorithm `HS256` is not allowed",
        ),
        (
            "unknown kid",
            s.token(json!({}), json!({ "kid": "not-our-key" })),
            "no key `not-our-key` in the issuer's key set",
        ),
        (
            "expired",
            s.token(
                json!({ "exp": now - 120, "iat": now - 720, "nbf": now - 720 }),
                json!({}),
            ),
            "token has expired",
        ),
        (
            "nbf in the future",
            s.token(json!({ "nbf": now + 600 }), json!({})),
            "token is not valid yet (`nbf`)",
        ),
        (
            "wrong audience",
            s.token(json!({ "aud": "https://other.example/mcp" }), json!({})),
            "audience does not include this gateway",
        ),
        (
            "wrong issuer",
            s.token(json!({ "iss": "urn:evil" }), json!({})),
            "issuer `urn:evil` is not trusted",
        ),
        (
            "over max_token_bytes",
            oversized,
            "token is longer than 4096 bytes",
        ),
    ];
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "hostile", "version": "0"}}})
    .to_string();
    for (case, token, reason) in cases {
        let seen = s.trail().len();
        let rt = runtime();
        let (status, www, body) = rt.block_on(async {
            let resp = reqwest::Client::new()
                .post(&s.gw.url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(init.clone())
                .send()
                .await
                .unwrap();
            let www = resp
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (resp.status().as_u16(), www, resp.text().await.unwrap())
        });
        assert_eq!(status, 401, "{case}: {body}");
        assert!(www.contains("error=\"invalid_token\""), "{case}: {www}");
        let rec = s.recorded(seen, case, |r| r["kind"] == "auth_failure");
        assert_eq!(rec["decision"], "deny", "{case}: {rec}");
        assert!(
            rec["reason"].as_str().is_some_and(|r| r.contains(reason)),
            "{case}: {reason:?} not in {rec}"
        );
        eprintln!("{case}: 401, recorded: {}", rec["reason"]);
        // The next valid request is served.
        let (status, m) = rpc_post(&s.gw.url, Some(&s.good), None, init.as_bytes());
        assert_eq!(status, 200, "after {case}: {m}");
    }
}

// ----- backend responses and SSE -----

#[test]
fn hostile_backend_responses_get_specific_errors_and_are_recorded() {
    let s = setup();
    let mcp = Session::open(&s);
    mcp.assert_serving();
    let cases: [(&str, i64, &str); 11] = [
        (
            "wrong_id_json",
            -32011,
            "the JSON response does not answer our request",
        ),
        (
            "wrong_id_sse",
            -32011,
            "the response stream ended without a response",
        ),
        (
            "accepted_202",
            -32011,
            "HTTP 202 to a request that needs a response",
        ),
        ("html", -32011, "unexpected content type `text/html`"),
        ("too_deep", -32011, "nesting exceeds the limit"),
        (
            "batch",
            -32011,
            "message is not a JSON-RPC 2.0 object: not an object",
        ),
        ("not_jsonrpc", -32011, "`jsonrpc`"),
        ("hang", -32012, "did not answer within 2 s"),
        (
            "truncated",
            -32011,
            "end of file before message length reached",
        ),
        (
            "endless_sse_line",
            -32011,
            "SSE event exceeds the limit of 65536 bytes",
        ),
        (
            "unterminated_sse",
            -32011,
            "the response stream ended without a response",
        ),
    ];
    for (tool, code, needle) in cases {
        let seen = s.trail().len();
        let exposed = format!("hostile__{tool}");
        let m = mcp.call(&exposed);
        assert_eq!(m["error"]["code"], code, "{tool}: {m}");
        let msg = m["error"]["message"].as_str().unwrap();
        assert!(msg.contains("backend `hostile`"), "{tool}: {msg}");
        assert!(msg.contains(needle), "{tool}: {needle:?} not in {msg:?}");
        assert_eq!(m["error"]["data"]["backend"], "hostile", "{tool}: {m}");
        eprintln!("{tool}: {code} {msg}");
        let rec = s.recorded(seen, tool, |r| r["kind"] == "call" && r["tool"] == exposed);
        assert_eq!(rec["decision"], "allow", "{tool}: {rec}");
        mcp.assert_serving();
    }
}

// ----- config -----

#[test]
fn broken_configs_name_file_line_and_key() {
    let head = "[listen]\naddress = \"127.0.0.1:0\"\n\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n";
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, usize, Vec<&str>)> = vec![
        (
            "bad-type.toml",
            format!("{head}\n[http]\nmax_body_bytes = \"big\"\n"),
            9,
            vec!["invalid type", "string \"big\""],
        ),
        (
            "syntax.toml",
            format!("{head}\n[http\nmax_body_bytes = 1\n"),
            8,
            vec!["unclosed table, expected `]`"],
        ),
        (
            "unknown-section.toml",
            format!("{head}\n[bogus]\nx = 1\n"),
            8,
            vec!["unknown field `bogus`"],
        ),
        (
            "duplicate-backend.toml",
            format!(
                "{head}\n[[backend]]\nname = \"a\"\ncommand = [\"x\"]\n\n[[backend]]\nname = \"a\"\ncommand = [\"y\"]\n"
            ),
            12,
            vec!["key `backend[1].name`", "duplicate backend name `a`"],
        ),
        (
            "ftp-backend.toml",
            format!("{head}\n[[backend]]\nname = \"f\"\nurl = \"ftp://files.example.com/mcp\"\n"),
            8,
            vec!["key `backend[0].url`", "must be an http or https URL"],
        ),
    ];
    for (name, text, line, needles) in cases {
        let path = dir.path().join(name);
        write(&path, &text);
        let (ok, out, err) = check_config(&path);
        assert!(!ok, "{name}: accepted:\n{out}");
        let prefix = format!("{}:{line}: ", path.display());
        assert!(err.contains(&prefix), "{name}: {prefix:?} not in {err:?}");
        for n in needles {
            assert!(err.contains(n), "{name}: {n:?} not in {err:?}");
        }
    }
}
