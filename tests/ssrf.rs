//! The SSRF guard end to end, through the real `portcullis` binary: backend URLs, redirects,
//! JWKS (explicit and discovered) and token endpoints may not reach non-public addresses unless
//! `[network] dangerous_allow_private` lists them.
//!
//! Everything stays on loopback. "Private address refused" uses addresses such as 10.255.255.1
//! and 169.254.169.254 that are refused before any connect; "forbidden target never contacted"
//! uses a listener on 127.0.0.2, which is loopback but outside the `127.0.0.1/32` the tests
//! allow, so a connection to it would be seen.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn demo_backend() -> String {
    format!(
        "\n[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n",
        toml_str(&portcullis_bin().display().to_string())
    )
}

const ANON_ONLY: &str = "[listen]\naddress = \"127.0.0.1:0\"\n\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n";

// ----- a tiny HTTP server that counts what reaches it -----

type Handler = dyn Fn(&str, &str, &[u8]) -> (String, String, Vec<u8>) + Send + Sync;

/// One request per connection; `handler(method, path, body)` → (status, extra headers, body).
struct Tiny {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tiny {
    fn start(ip: &str, handler: Arc<Handler>) -> Tiny {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for _ in 0..1000 {
                let Ok((conn, _)) = listener.accept() else {
                    return;
                };
                if s.load(Ordering::SeqCst) {
                    return;
                }
                h.fetch_add(1, Ordering::SeqCst);
                let handler = handler.clone();
                std::thread::spawn(move || {
                    let _ = serve_one(conn, &*handler);
                });
            }
        });
        Tiny {
            addr,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Tiny {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(conn: TcpStream, handler: &Handler) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Ok(());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let (status, headers, out) = handler(&method, &path, &body);
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        out.len()
    )?;
    conn.write_all(&out)?;
    conn.flush()
}

/// A minimal MCP server with one tool, `go`, whose call `on_call` answers.
fn tiny_mcp(on_call: fn() -> (String, String, Vec<u8>)) -> Arc<Handler> {
    Arc::new(move |method: &str, _path: &str, body: &[u8]| {
        if method != "POST" {
            return ("405 Method Not Allowed".into(), String::new(), Vec::new());
        }
        let msg: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let id = msg["id"].clone();
        let json = |result: Value| {
            (
                "200 OK".to_owned(),
                "Content-Type: application/json\r\n".to_owned(),
                json!({"jsonrpc": "2.0", "id": id, "result": result})
                    .to_string()
                    .into_bytes(),
            )
        };
        match msg["method"].as_str() {
            Some("initialize") => json(json!({
                "protocolVersion": "2025-11-25",
                "capabilities": { "tools": {} },
                "serverInfo": { "name": "tiny", "version": "1" },
            })),
            Some("tools/list") => json(json!({
                "tools": [{ "name": "go", "inputSchema": { "type": "object" } }],
            })),
            Some("tools/call") => on_call(),
            Some(_) if id.is_null() => ("202 Accepted".into(), String::new(), Vec::new()),
            _ => json(json!({})),
        }
    })
}

/// Wait (bounded) until the gateway's log contains `needle`; returns the log.
fn wait_log(gw: &Gateway, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = gw.proc.stderr();
        if log.contains(needle) {
            return log;
        }
        assert!(Instant::now() < deadline, "{needle:?} never logged:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn call(client: &RawClient, rt: &tokio::runtime::Runtime, tool: &str) -> Value {
    rt.block_on(client.request("tools/call", json!({ "name": tool, "arguments": {} })))
}

fn assert_serving(client: &RawClient, rt: &tokio::runtime::Runtime) {
    let m = rt.block_on(client.request(
        "tools/call",
        json!({ "name": "demo__echo", "arguments": { "message": "still serving" } }),
    ));
    assert_eq!(m["result"]["content"][0]["text"], "still serving", "{m}");
}

// ----- config time -----

#[test]
fn literal_private_urls_are_config_errors_with_file_line_key_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, usize, Vec<&str>)> = vec![
        (
            "private-backend.toml",
            format!("{ANON_ONLY}\n[[backend]]\nname = \"x\"\nurl = \"http://10.255.255.1/mcp\"\n"),
            8,
            vec![
                "key `backend[0].url`",
                "backend `x`: `http://10.255.255.1/mcp` resolves to 10.255.255.1, a private address (10.0.0.0/8)",
                "allow it with `[network] dangerous_allow_private = [\"10.255.255.1/32\"]`",
            ],
        ),
        (
            "metadata-backend.toml",
            format!(
                "{ANON_ONLY}\n[network]\ndangerous_allow_private = [\"127.0.0.1/32\"]\n\n[[backend]]\nname = \"meta\"\nurl = \"http://169.254.169.254/latest/\"\n"
            ),
            11,
            vec![
                "key `backend[0].url`",
                "resolves to 169.254.169.254, a link-local address (169.254.0.0/16, where cloud metadata services answer)",
            ],
        ),
        (
            "mapped-backend.toml",
            format!("{ANON_ONLY}\n[[backend]]\nname = \"m\"\nurl = \"http://[::ffff:127.0.0.1]:8080/mcp\"\n"),
            8,
            vec![
                "resolves to ::ffff:127.0.0.1, an IPv4-mapped form of 127.0.0.1, a loopback address (127.0.0.0/8)",
                "[\"127.0.0.1/32\"]",
            ],
        ),
        (
            "token-endpoint.toml",
            format!(
                "{ANON_ONLY}\n[[backend]]\nname = \"t\"\nurl = \"https://mcp.example.com/mcp\"\nauth = {{ type = \"client_credentials\", token_endpoint = \"http://169.254.169.254/token\", client_id = \"c\", client_secret = \"s\" }}\n"
            ),
            8,
            vec![
                "key `backend[0].auth.token_endpoint`",
                "token endpoint of backend `t`: `http://169.254.169.254/token` resolves to 169.254.169.254",
            ],
        ),
        (
            "jwks.toml",
            "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:1/mcp\"\n\n[auth]\nmode = \"oidc\"\ndangerous_no_policy = true\n[[auth.issuers]]\nissuer = \"https://idp.example.com\"\njwks_url = \"http://[fd00::1]/jwks\"\n".into(),
            5,
            vec![
                "key `auth.issuers[0].jwks_url`",
                "JWKS of issuer `https://idp.example.com`: `http://[fd00::1]/jwks` resolves to fd00::1, a unique-local address (fc00::/7)",
            ],
        ),
        (
            "discovery.toml",
            "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:1/mcp\"\n\n[auth]\nmode = \"oidc\"\ndangerous_no_policy = true\n[[auth.issuers]]\nissuer = \"http://100.64.0.1\"\n".into(),
            5,
            vec![
                "key `auth.issuers[0].issuer`",
                "resolves to 100.64.0.1, a shared (carrier-grade NAT) address (100.64.0.0/10)",
            ],
        ),
        (
            "bad-cidr.toml",
            format!("{ANON_ONLY}\n[network]\ndangerous_allow_private = [\"127.0.0.1/32\",\n  \"localhost\"]\n"),
            10,
            vec![
                "key `network.dangerous_allow_private`",
                "`localhost` is not an IP network; write a CIDR such as `127.0.0.1/32`",
            ],
        ),
    ];
    for (name, text, line, needles) in cases {
        let path = dir.path().join(name);
        write(&path, &text);
        let (ok, out, err) = check_config(&path);
        assert!(!ok, "{name}: check accepted it; stdout:\n{out}");
        let prefix = format!("{}:{line}: ", path.display());
        assert!(err.contains(&prefix), "{name}: {prefix:?} not in {err:?}");
        for n in needles {
            assert!(err.contains(n), "{name}: {n:?} not in {err:?}");
        }
    }

    // `serve` refuses the same config before listening.
    let path = dir.path().join("private-backend.toml");
    let out = Command::new(portcullis_bin())
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("resolves to 10.255.255.1, a private address"),
        "{err}"
    );
}

#[test]
fn check_warns_about_the_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.toml");
    write(
        &path,
        &format!(
            "{ANON_ONLY}\n[network]\ndangerous_allow_private = [\"127.0.0.1/32\", \"::1/128\"]\n{}",
            demo_backend()
        ),
    );
    let (ok, out, err) = check_config(&path);
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains(
            "warning: network.dangerous_allow_private = [\"127.0.0.1/32\", \"::1/128\"]: the gateway connects to these non-public addresses"
        ),
        "{out}"
    );
}

// ----- connect time -----

#[test]
fn a_name_resolving_to_loopback_is_refused_without_the_allowance_and_served_with_it() {
    let (_server, url) = start_conformance_server();
    let by_name = url.replace("127.0.0.1", "localhost");
    let backend = format!(
        "\n[[backend]]\nname = \"conf\"\nurl = {}\n",
        toml_str(&by_name)
    );

    // Without the allowance: the name passes config validation (it is not an address), and is
    // refused when resolved — the backend never sees a request.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refused.toml");
    write(
        &path,
        &format!("{ANON_ONLY}{TOFU}{}{backend}", demo_backend()),
    );
    let (ok, out, err) = check_config(&path);
    assert!(!ok, "check passed:\n{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("backend `conf`: DOWN"))
        .unwrap_or_else(|| panic!("no DOWN line:\n{out}\n{err}"));
    assert!(line.contains("`localhost` resolves to "), "{line}");
    assert!(line.contains("a loopback address"), "{line}");
    assert!(
        line.contains("allow it with `[network] dangerous_allow_private"),
        "{line}"
    );

    // The gateway runs, serves the demo backend, and the refused one is just absent.
    let gw = start_gateway(&format!("{ANON_ONLY}{TOFU}{}{backend}", demo_backend()));
    let rt = runtime();
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    assert_serving(&client, &rt);
    let m = call(&client, &rt, "conf__test_simple_text");
    assert!(m.get("error").is_some(), "{m}");
    wait_log(&gw, "`localhost` resolves to");

    // With it: served.
    let gw = start_gateway(&format!("{ANON}{}{backend}", demo_backend()));
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    let m = call(&client, &rt, "conf__test_simple_text");
    assert_eq!(
        m["result"]["content"][0]["text"], "This is a simple text response for testing.",
        "{m}"
    );
    assert_serving(&client, &rt);
}

#[test]
fn a_redirect_to_a_forbidden_address_is_not_followed() {
    // The forbidden target: loopback, but outside the allowed 127.0.0.1/32.
    let target = Tiny::start(
        "127.0.0.2",
        Arc::new(|_: &str, _: &str, _: &[u8]| ("200 OK".into(), String::new(), b"secret".to_vec())),
    );
    static LOCATION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LOCATION
        .set(format!("http://{}/latest/meta-data/", target.addr))
        .unwrap();
    let backend = Tiny::start(
        "127.0.0.1",
        tiny_mcp(|| {
            (
                "307 Temporary Redirect".into(),
                format!("Location: {}\r\n", LOCATION.get().unwrap()),
                Vec::new(),
            )
        }),
    );
    let gw = start_gateway(&format!(
        "{ANON}{}\n[[backend]]\nname = \"redir\"\nurl = \"http://{}/mcp\"\n",
        demo_backend(),
        backend.addr
    ));
    let rt = runtime();
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    assert_serving(&client, &rt);
    let m = call(&client, &rt, "redir__go");
    assert_eq!(m["error"]["code"], -32011, "{m}");
    let msg = m["error"]["message"].as_str().unwrap();
    assert!(msg.contains("backend `redir`"), "{msg}");
    assert!(
        msg.contains(&format!(
            "HTTP 307 Temporary Redirect redirect to `{}` not followed",
            LOCATION.get().unwrap()
        )),
        "{msg}"
    );
    assert_eq!(target.hits(), 0, "the redirect target was contacted");
    assert_serving(&client, &rt);
    // The backend itself is still usable for what it answers properly.
    let tools = rt.block_on(client.request("tools/list", json!({})));
    assert!(tools.to_string().contains("redir__go"), "{tools}");
}

/// A JWKS server for the dev key in `dir`, a config trusting it at `jwks_url`, and a token.
fn jwks_setup(dir: &Path) -> (Tiny, String) {
    let key = portcullis::identity::dev::DevKey::load_or_create(&dir.join("k.pem")).unwrap();
    let jwks = serde_json::to_vec(&key.jwks()).unwrap();
    let server = Tiny::start(
        "127.0.0.1",
        Arc::new(move |_: &str, _: &str, _: &[u8]| {
            (
                "200 OK".into(),
                "Content-Type: application/json\r\n".into(),
                jwks.clone(),
            )
        }),
    );
    let claims = portcullis::identity::dev::claims(
        "urn:ssrf",
        "http://127.0.0.1:1/mcp",
        "alice",
        &[],
        &[],
        600,
    );
    (server, key.sign(&claims).unwrap())
}

fn oidc_config(jwks_url: &str, allow: bool) -> String {
    format!(
        "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:1/mcp\"\n\n\
         [auth]\nmode = \"oidc\"\ndangerous_no_policy = true\n\
         [[auth.issuers]]\nissuer = \"urn:ssrf\"\njwks_url = {}\n{TOFU}{}{}",
        toml_str(jwks_url),
        if allow { ALLOW_LOOPBACK } else { "" },
        demo_backend()
    )
}

fn initialize_status(url: &str, token: &str) -> u16 {
    let rt = runtime();
    rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"}}})
                .to_string(),
            )
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn jwks_by_name_is_refused_without_the_allowance_and_used_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (jwks, token) = jwks_setup(dir.path());
    let url = format!("http://localhost:{}/jwks", jwks.addr.port());

    let gw = start_gateway(&oidc_config(&url, false));
    assert_eq!(initialize_status(&gw.url, &token), 401);
    let log = wait_log(&gw, "`localhost` resolves to");
    assert!(log.contains("a loopback address"), "{log}");
    assert_eq!(jwks.hits(), 0, "the JWKS server was contacted");
    drop(gw);

    let gw = start_gateway(&oidc_config(&url, true));
    assert_eq!(initialize_status(&gw.url, &token), 200);
    assert!(jwks.hits() > 0);
}

#[test]
fn a_discovered_jwks_uri_at_a_forbidden_address_is_never_fetched() {
    // Discovery at an allowed address names a JWKS at the metadata service.
    static ISSUER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let idp = Tiny::start(
        "127.0.0.1",
        Arc::new(|_: &str, path: &str, _: &[u8]| {
            if path.starts_with("/.well-known/") {
                let doc = json!({
                    "issuer": ISSUER.get().unwrap(),
                    "jwks_uri": "http://169.254.169.254/jwks",
                });
                (
                    "200 OK".into(),
                    "Content-Type: application/json\r\n".into(),
                    doc.to_string().into_bytes(),
                )
            } else {
                ("404 Not Found".into(), String::new(), Vec::new())
            }
        }),
    );
    ISSUER.set(format!("http://{}", idp.addr)).unwrap();
    let gw = start_gateway(&format!(
        "[listen]\naddress = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:1/mcp\"\n\n\
         [auth]\nmode = \"oidc\"\ndangerous_no_policy = true\n\
         [[auth.issuers]]\nissuer = {}\n{TOFU}{ALLOW_LOOPBACK}{}",
        toml_str(ISSUER.get().unwrap()),
        demo_backend()
    ));
    let dir = tempfile::tempdir().unwrap();
    let (_jwks, token) = jwks_setup(dir.path());
    assert_eq!(initialize_status(&gw.url, &token), 401);
    wait_log(
        &gw,
        "JWKS URL refused: `http://169.254.169.254/jwks` resolves to 169.254.169.254, a link-local address",
    );
    assert!(idp.hits() > 0, "discovery was not even tried");
}

#[test]
fn a_token_endpoint_by_name_is_refused_and_nothing_reaches_the_backend() {
    // Allowed: the backend on 127.0.0.2. Not allowed: `localhost` (127.0.0.1, ::1), where the
    // token endpoint listens.
    let token_server = Tiny::start(
        "127.0.0.1",
        Arc::new(|_: &str, _: &str, _: &[u8]| {
            (
                "200 OK".into(),
                "Content-Type: application/json\r\n".into(),
                br#"{"access_token":"t","token_type":"Bearer","expires_in":300}"#.to_vec(),
            )
        }),
    );
    let backend = Tiny::start(
        "127.0.0.2",
        tiny_mcp(|| {
            (
                "500 Internal Server Error".into(),
                String::new(),
                Vec::new(),
            )
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token.toml");
    write(
        &path,
        &format!(
            "{ANON_ONLY}{TOFU}\n[network]\ndangerous_allow_private = [\"127.0.0.2/32\"]\n{}\n\
             [[backend]]\nname = \"cc\"\nurl = \"http://{}/mcp\"\n\
             auth = {{ type = \"client_credentials\", token_endpoint = \"http://localhost:{}/token\", client_id = \"c\", client_secret = \"s\" }}\n",
            demo_backend(),
            backend.addr,
            token_server.addr.port()
        ),
    );
    let (ok, out, _) = check_config(&path);
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("backend `cc`: DOWN"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("no credential for backend `cc`"), "{line}");
    assert!(line.contains("`localhost` resolves to "), "{line}");
    assert!(line.contains("nothing was sent to it"), "{line}");
    assert_eq!(token_server.hits(), 0, "the token endpoint was contacted");
    assert_eq!(
        backend.hits(),
        0,
        "the backend got a request without a credential"
    );
}
