//! The edge under attack, end to end against the real gateway binary: malformed and hostile
//! requests, hostile backends (HTTP and stdio), TLS certificate rotation, and broken configs.
//! Every bad input must get its specific error, and the gateway must still serve the next valid
//! request — each case is followed by a successful `tools/call` on the same gateway.
// Test helpers: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const PROTOCOL: &str = "2025-11-25";

// ----- config -----

/// A TOML basic string (JSON string escaping is valid TOML for paths).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The built-in demo server as a stdio backend named `demo`.
fn demo_backend() -> String {
    format!(
        "\n[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n",
        toml_str(&portcullis_bin().display().to_string())
    )
}

/// Anonymous loopback gateway with the demo backend, extra `[http]` limits and extra backends.
fn config(http: &str, extra_backends: &str) -> String {
    format!("{ANON}\n[http]\n{http}\n{}{extra_backends}", demo_backend())
}

// ----- raw HTTP/1.1 -----

/// A parsed response; `body` is de-chunked.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC messages in the body: one JSON document, or the `data` of each SSE event.
    fn messages(&self) -> Vec<Value> {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            self.body
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| serde_json::from_str(d.trim()).unwrap())
                .collect()
        } else {
            vec![
                serde_json::from_str(&self.body)
                    .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {self:?}")),
            ]
        }
    }

    /// The single JSON-RPC message this response answers with (the last one on a stream).
    fn message(&self) -> Value {
        self.messages()
            .pop()
            .unwrap_or_else(|| panic!("no message in {self:?}"))
    }
}

fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_owned();
        let Ok(size) = usize::from_str_radix(&size_text, 16) else {
            return out;
        };
        rest = &rest[eol + 2..];
        if size == 0 || rest.len() < size {
            out.extend_from_slice(&rest[..size.min(rest.len())]);
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// Send `head` (request line and headers, without the blank line) and `body` with
/// `Connection: close`; read the whole response.
fn exchange(addr: &str, head: &str, body: &[u8]) -> Resp {
    let mut req = head.as_bytes().to_vec();
    req.extend_from_slice(b"Connection: close\r\n\r\n");
    req.extend_from_slice(body);
    let (status, headers, text) = raw_http(addr, &req);
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        String::from_utf8(dechunk(text.as_bytes())).unwrap()
    } else {
        text
    };
    Resp {
        status,
        headers,
        body,
    }
}

/// Request headers as an ordered, editable list.
#[derive(Clone)]
struct Hdrs(Vec<(String, String)>);

impl Hdrs {
    /// What a correct MCP client sends on a POST.
    fn mcp(addr: &str, session: Option<&str>) -> Hdrs {
        let mut h = vec![
            ("Host".to_owned(), addr.to_owned()),
            (
                "Accept".to_owned(),
                "application/json, text/event-stream".to_owned(),
            ),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("MCP-Protocol-Version".to_owned(), PROTOCOL.to_owned()),
        ];
        if let Some(s) = session {
            h.push(("Mcp-Session-Id".to_owned(), s.to_owned()));
        }
        Hdrs(h)
    }

    fn set(mut self, k: &str, v: &str) -> Hdrs {
        self = self.without(k);
        self.0.push((k.to_owned(), v.to_owned()));
        self
    }

    fn without(mut self, k: &str) -> Hdrs {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        self
    }

    fn render(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect()
    }
}

fn send(addr: &str, method: &str, path: &str, h: &Hdrs, body: &[u8]) -> Resp {
    let mut head = format!("{method} {path} HTTP/1.1\r\n{}", h.render());
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    exchange(addr, &head, body)
}

/// Assert an edge refusal: the status, a JSON-RPC error body with `code`, and a message that
/// says what was wrong.
fn assert_refused(r: &Resp, status: u16, code: i64, needle: &str) -> Value {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
    let m = r.message();
    assert_eq!(m["jsonrpc"], "2.0", "{m}");
    assert_eq!(m["error"]["code"], code, "{m}");
    let msg = m["error"]["message"].as_str().unwrap();
    assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    m
}

// ----- an MCP client over raw HTTP -----

struct Mcp {
    addr: String,
    sid: String,
    next_id: u64,
}

impl Mcp {
    fn initialize(addr: &str) -> Mcp {
        let body = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": { "name": "edge-test", "version": "1" },
            },
        });
        let r = send(
            addr,
            "POST",
            "/mcp",
            &Hdrs::mcp(addr, None),
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{r:?}");
        let m = r.message();
        assert_eq!(m["result"]["serverInfo"]["name"], "portcullis", "{m}");
        let sid = r.header("mcp-session-id").expect("session id").to_owned();
        let mcp = Mcp {
            addr: addr.to_owned(),
            sid,
            next_id: 1,
        };
        let r = mcp.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert_eq!(r.status, 202, "{r:?}");
        mcp
    }

    fn headers(&self) -> Hdrs {
        Hdrs::mcp(&self.addr, Some(&self.sid))
    }

    fn post(&self, msg: &Value) -> Resp {
        self.post_with(&self.headers(), msg.to_string().as_bytes())
    }

    fn post_with(&self, h: &Hdrs, body: &[u8]) -> Resp {
        send(&self.addr, "POST", "/mcp", h, body)
    }

    /// `tools/call`; returns the JSON-RPC response (checked to answer this request).
    fn call(&mut self, tool: &str, args: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let r = self.post(&json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": tool, "arguments": args },
        }));
        assert_eq!(r.status, 200, "{r:?}");
        let m = r.message();
        assert_eq!(m["id"], id, "{m}");
        m
    }

    /// The gateway still serves: a `tools/call` to the healthy demo backend succeeds.
    fn assert_serving(&mut self) {
        let m = self.call("demo__echo", json!({ "message": "still serving" }));
        assert_eq!(m["result"]["isError"], false, "{m}");
        assert_eq!(m["result"]["content"][0]["text"], "still serving", "{m}");
    }

    /// A backend error: JSON-RPC `code`, naming `backend` in the message and in `data`.
    fn assert_backend_error(&mut self, tool: &str, code: i64, backend: &str, needle: &str) {
        let m = self.call(tool, json!({}));
        assert_eq!(m["error"]["code"], code, "{tool}: {m}");
        let msg = m["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("`{backend}`")), "{tool}: {m}");
        assert!(msg.contains(needle), "{tool}: {needle:?} not in {m}");
        assert_eq!(m["error"]["data"]["backend"], backend, "{tool}: {m}");
    }
}

// ----- requests the edge must refuse -----

#[test]
fn malformed_bodies_get_specific_errors() {
    let gw = start_gateway(&config("max_json_depth = 16", ""));
    let mut mcp = Mcp::initialize(&gw.addr);
    mcp.assert_serving();
    let h = mcp.headers();

    // Malformed JSON: parse error.
    let r = mcp.post_with(&h, br#"{"jsonrpc": "2.0", "id": 1, "method": "#);
    assert_refused(&r, 400, -32700, "not valid JSON");
    mcp.assert_serving();

    // Wrong content type.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let r = mcp.post_with(
        &h.clone().set("Content-Type", "text/plain"),
        body.as_bytes(),
    );
    assert_refused(&r, 415, -32600, "Content-Type");
    mcp.assert_serving();
    let r = mcp.post_with(&h.clone().without("Content-Type"), body.as_bytes());
    assert_refused(&r, 415, -32600, "Content-Type");
    mcp.assert_serving();

    // A JSON-RPC batch (removed from MCP in 2025-06-18).
    let r = mcp.post_with(&h, br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
    assert_refused(&r, 400, -32600, "batches");
    mcp.assert_serving();

    // JSON that is not a JSON-RPC 2.0 message.
    for (body, why) in [
        (r#"{"hello": "world"}"#, "`jsonrpc` must be \"2.0\""),
        (
            r#"{"jsonrpc": "1.0", "id": 1, "method": "ping"}"#,
            "`jsonrpc`",
        ),
        (r#""just a string""#, "not an object"),
        ("42", "not an object"),
        (
            r#"{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}"#,
            "`id`",
        ),
        (r#"{"jsonrpc": "2.0", "id": 1, "method": 7}"#, "`method`"),
        (
            r#"{"jsonrpc": "2.0", "id": null, "method": "ping"}"#,
            "null",
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": 3}"#,
            "`params`",
        ),
        (r#"{"jsonrpc": "2.0", "id": 1}"#, "exactly one of"),
        (r#"{"jsonrpc": "2.0"}"#, "missing `method` or `id`"),
    ] {
        let r = mcp.post_with(&h, body.as_bytes());
        assert_refused(&r, 400, -32600, why);
        mcp.assert_serving();
    }

    // Nesting beyond `[http] max_json_depth`, refused before the recursive parser sees it.
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"demo__echo","arguments":{{"message":{deep}}}}}}}"#
    );
    let r = mcp.post_with(&h, body.as_bytes());
    assert_refused(&r, 400, -32700, "nesting exceeds the limit of 16 levels");
    mcp.assert_serving();
    // Far deeper than serde_json's own recursion limit: still our error, and no crash.
    let abyss = "[".repeat(100_000);
    let r = mcp.post_with(&h, abyss.as_bytes());
    assert_refused(&r, 400, -32700, "nesting exceeds the limit of 16 levels");
    mcp.assert_serving();

    // Notifications and responses are accepted with 202 and no body.
    let r = mcp.post(&json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}));
    assert_eq!((r.status, r.body.as_str()), (202, ""), "{r:?}");
    let r = mcp.post(&json!({"jsonrpc": "2.0", "id": 99, "result": {}}));
    assert_eq!((r.status, r.body.as_str()), (202, ""), "{r:?}");
    mcp.assert_serving();
}

#[test]
fn session_rules() {
    let gw = start_gateway(&config("", ""));
    let mut mcp = Mcp::initialize(&gw.addr);
    mcp.assert_serving();
    let call = json!({
        "jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": { "name": "demo__echo", "arguments": { "message": "x" } },
    })
    .to_string();

    // No session id on a request other than initialize.
    let r = mcp.post_with(&mcp.headers().without("Mcp-Session-Id"), call.as_bytes());
    assert_refused(&r, 400, -32600, "`Mcp-Session-Id` header is required");
    mcp.assert_serving();

    // A session id the gateway never issued.
    let fake = "0123456789abcdef0123456789abcdef";
    let r = mcp.post_with(&mcp.headers().set("Mcp-Session-Id", fake), call.as_bytes());
    assert_refused(&r, 404, -32600, "session not found");
    mcp.assert_serving();

    // GET stream without a session, and with an unknown one.
    let get = Hdrs(vec![
        ("Host".into(), gw.addr.clone()),
        ("Accept".into(), "text/event-stream".into()),
        ("MCP-Protocol-Version".into(), PROTOCOL.into()),
    ]);
    let r = send(&gw.addr, "GET", "/mcp", &get, b"");
    assert_refused(&r, 400, -32600, "`Mcp-Session-Id` header is required");
    mcp.assert_serving();
    let r = send(
        &gw.addr,
        "GET",
        "/mcp",
        &get.clone().set("Mcp-Session-Id", fake),
        b"",
    );
    assert_refused(&r, 404, -32600, "session not found");
    mcp.assert_serving();

    // A second session, ended by DELETE, then reused: 404 on POST, GET and DELETE.
    let other = Mcp::initialize(&gw.addr);
    let r = send(&gw.addr, "DELETE", "/mcp", &other.headers(), b"");
    assert_eq!(r.status, 200, "{r:?}");
    let r = other.post_with(&other.headers(), call.as_bytes());
    assert_refused(&r, 404, -32600, "session not found");
    let r = send(
        &gw.addr,
        "GET",
        "/mcp",
        &get.clone().set("Mcp-Session-Id", &other.sid),
        b"",
    );
    assert_refused(&r, 404, -32600, "session not found");
    let r = send(&gw.addr, "DELETE", "/mcp", &other.headers(), b"");
    assert_refused(&r, 404, -32600, "session not found");
    // The first session is untouched, and a new session can start.
    mcp.assert_serving();
    Mcp::initialize(&gw.addr).assert_serving();

    // initialize inside a session is refused by the session, not by the edge.
    let m = mcp
        .post(&json!({"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": {}}))
        .message();
    assert_eq!(m["error"]["code"], -32600, "{m}");
    mcp.assert_serving();
}

#[test]
fn body_limits_by_length_and_by_stream() {
    let gw = start_gateway(&config("max_body_bytes = 4096", ""));
    let mut mcp = Mcp::initialize(&gw.addr);
    mcp.assert_serving();
    let base = mcp.headers().render();
    let head = |extra: &str| format!("POST /mcp HTTP/1.1\r\n{base}{extra}");
    // A well-formed call padded past the limit.
    let padded = |n: usize| {
        json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": "demo__echo", "arguments": { "message": "x".repeat(n) } },
        })
        .to_string()
    };

    // Declared too large: refused from Content-Length alone.
    let big = padded(6000);
    let r = exchange(
        &gw.addr,
        &head(&format!("Content-Length: {}\r\n", big.len())),
        big.as_bytes(),
    );
    assert_refused(&r, 413, -32600, "exceeds the limit of 4096 bytes");
    mcp.assert_serving();

    // Chunked, no length: refused once the stream passes the limit.
    let mut chunked = Vec::new();
    for piece in big.as_bytes().chunks(1000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    let mut complete = chunked.clone();
    complete.extend_from_slice(b"0\r\n\r\n");
    let r = exchange(&gw.addr, &head("Transfer-Encoding: chunked\r\n"), &complete);
    assert_refused(&r, 413, -32600, "exceeds the limit of 4096 bytes");
    mcp.assert_serving();

    // Chunked and never finished: the answer must not wait for the end of the stream.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.write_all(head("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    s.write_all(&chunked).unwrap();
    let (_, got) = time_to_close(&mut s, b"", Duration::from_secs(20)).expect("no answer");
    let (status, _, body) = parse_http_response(&got);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&got));
    assert!(body.contains("exceeds the limit of 4096 bytes"), "{body}");
    drop(s);
    mcp.assert_serving();

    // Chunked within the limit is an ordinary request.
    let small = json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "demo__echo", "arguments": { "message": "chunked ok" } },
    })
    .to_string();
    let mut body = Vec::new();
    for piece in small.as_bytes().chunks(7) {
        body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        body.extend_from_slice(piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let r = exchange(&gw.addr, &head("Transfer-Encoding: chunked\r\n"), &body);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.message()["result"]["content"][0]["text"], "chunked ok");
    mcp.assert_serving();
}

#[test]
fn header_rules() {
    let gw = start_gateway(&config("max_header_bytes = 16384", ""));
    let addr = gw.addr.as_str();
    let port = addr.rsplit(':').next().unwrap();
    let mut mcp = Mcp::initialize(addr);
    mcp.assert_serving();
    let h = mcp.headers();
    let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    // Accept must list both media types on POST.
    for accept in [
        None,
        Some("application/json"),
        Some("text/event-stream"),
        Some("text/html"),
    ] {
        let hh = match accept {
            Some(a) => h.clone().set("Accept", a),
            None => h.clone().without("Accept"),
        };
        let r = mcp.post_with(&hh, ping);
        assert_refused(
            &r,
            406,
            -32600,
            "`application/json` and `text/event-stream`",
        );
        mcp.assert_serving();
    }
    // ... and `text/event-stream` on GET.
    let r = send(
        addr,
        "GET",
        "/mcp",
        &h.clone().set("Accept", "application/json"),
        b"",
    );
    assert_refused(&r, 406, -32600, "`text/event-stream`");
    mcp.assert_serving();

    // Unsupported MCP-Protocol-Version.
    let r = mcp.post_with(&h.clone().set("MCP-Protocol-Version", "1999-01-01"), ping);
    let m = assert_refused(&r, 400, -32600, "unsupported protocol version `1999-01-01`");
    assert!(m["error"]["message"].as_str().unwrap().contains(PROTOCOL));
    mcp.assert_serving();

    // Host not naming this gateway (DNS rebinding).
    for host in ["evil.example", format!("evil.example:{port}").as_str()] {
        let r = mcp.post_with(&h.clone().set("Host", host), ping);
        assert_refused(&r, 403, -32600, "host `");
        mcp.assert_serving();
    }

    // Browser origins: a foreign one is refused, the gateway's own is allowed.
    for origin in [
        "http://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        let r = mcp.post_with(&h.clone().set("Origin", origin), ping);
        assert_refused(&r, 403, -32600, &format!("origin `{origin}`"));
        mcp.assert_serving();
    }
    for origin in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let call = json!({
            "jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": { "name": "demo__echo", "arguments": { "message": "from a page" } },
        });
        let r = mcp.post_with(
            &h.clone().set("Origin", &origin),
            call.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{origin}: {r:?}");
        assert_eq!(r.message()["result"]["content"][0]["text"], "from a page");
    }

    // Methods other than POST, GET and DELETE.
    for method in ["PUT", "PATCH"] {
        let r = send(addr, method, "/mcp", &h, ping);
        assert_refused(&r, 405, -32600, &format!("method {method} is not allowed"));
        assert_eq!(r.header("allow"), Some("GET, POST, DELETE"), "{r:?}");
        mcp.assert_serving();
    }

    // Paths other than the MCP endpoint.
    for path in ["/", "/mcp/", "/other", "/mcpx"] {
        let r = send(addr, "POST", path, &h, ping);
        assert_refused(&r, 404, -32600, "the MCP endpoint is `/mcp`");
        mcp.assert_serving();
    }

    // Request headers beyond `[http] max_header_bytes`: hyper answers 431 itself, with no body,
    // and closes the connection.
    let r = mcp.post_with(&h.clone().set("X-Padding", &"a".repeat(20_000)), ping);
    assert_eq!(r.status, 431, "{r:?}");
    assert_eq!(r.body, "", "{r:?}");
    mcp.assert_serving();
    // Many small headers adding up past the limit: the same.
    let mut many = h.clone();
    for i in 0..90 {
        many = many.set(&format!("X-Pad-{i}"), &"b".repeat(200));
    }
    let r = mcp.post_with(&many, ping);
    assert_eq!(r.status, 431, "{r:?}");
    mcp.assert_serving();
}

/// How long until the server closes `s`, writing `trickle` one byte at a time (every 200 ms)
/// after the initial bytes; `None` if still open after `limit`.
fn time_to_close(
    s: &mut TcpStream,
    trickle: &[u8],
    limit: Duration,
) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let mut trickle = trickle.iter().cycle();
    while start.elapsed() < limit {
        let mut buf = [0u8; 1024];
        match s.read(&mut buf) {
            Ok(0) => return Some((start.elapsed(), got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some((start.elapsed(), got)),
        }
        if let Some(b) = trickle.next() {
            if s.write_all(&[*b]).is_err() {
                return Some((start.elapsed(), got));
            }
        }
    }
    None
}

#[test]
fn slow_clients_are_cut_off() {
    let gw = start_gateway(&config(
        "header_read_timeout_secs = 1\nrequest_timeout_secs = 5",
        "",
    ));
    let mut mcp = Mcp::initialize(&gw.addr);
    mcp.assert_serving();
    let limit = Duration::from_secs(10);

    // Headers started but never finished: closed without a response.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.write_all(format!("POST /mcp HTTP/1.1\r\nHost: {}\r\n", gw.addr).as_bytes())
        .unwrap();
    let (t, got) = time_to_close(&mut s, b"", limit).expect("partial headers: still open");
    assert!(t >= Duration::from_millis(500), "closed too early: {t:?}");
    assert_eq!(got, b"", "{}", String::from_utf8_lossy(&got));
    mcp.assert_serving();

    // Headers trickled a byte at a time: the timeout is for the whole head, not per read.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.write_all(b"POST /mcp HTTP/1.1\r\n").unwrap();
    let (t, got) = time_to_close(&mut s, b"X-Slow: aaaaaaaa\r\n", limit)
        .expect("trickled headers: still open");
    assert!(t < Duration::from_secs(5), "{t:?}");
    assert_eq!(got, b"", "{}", String::from_utf8_lossy(&got));
    mcp.assert_serving();

    // A connection that sends nothing at all, or only the first byte of a request.
    for opening in [&b""[..], b"P"] {
        let mut s = TcpStream::connect(&gw.addr).unwrap();
        s.write_all(opening).unwrap();
        let (t, got) = time_to_close(&mut s, b"", limit).unwrap_or_else(|| {
            panic!(
                "a connection that sent {:?} is still open after {limit:?}",
                String::from_utf8_lossy(opening)
            )
        });
        assert!(t < Duration::from_secs(5), "{t:?}");
        assert_eq!(got, b"");
        mcp.assert_serving();
    }

    // Headers complete, body stalled: 408 after `request_timeout_secs`.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\n{}Content-Length: 100\r\nConnection: close\r\n\r\n{{\"jsonrpc\"",
        mcp.headers().render()
    );
    s.write_all(head.as_bytes()).unwrap();
    let (t, got) = time_to_close(&mut s, b"", Duration::from_secs(20)).expect("stalled body");
    let (status, _, body) = parse_http_response(&got);
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&got));
    assert!(body.contains("not completed within 5 s"), "{body}");
    assert!(t >= Duration::from_secs(4), "{t:?}");
    mcp.assert_serving();
}

// ----- hostile backends -----

/// A Streamable HTTP "MCP server" that gets the handshake right and then answers each tool
/// with a different kind of garbage. One request per connection (`Connection: close`).
struct HostileServer {
    url: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HostileServer {
    fn start(huge: usize) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            // Bounded: a runaway client cannot keep this thread alive forever.
            for _ in 0..1000 {
                let Ok((conn, _)) = listener.accept() else {
                    return;
                };
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::spawn(move || {
                    let _ = hostile_exchange(conn, huge);
                });
            }
        });
        HostileServer {
            url: format!("http://{addr}/mcp"),
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hostile_exchange(conn: TcpStream, huge: usize) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.set_write_timeout(Some(Duration::from_secs(10)))?;
    let Some((request_line, body)) = read_http_request(&conn)? else {
        return Ok(());
    };
    let mut out = conn;
    let mut respond = |status: &str, ctype: &str, extra: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
            body.len()
        );
        let _ = out.write_all(head.as_bytes());
        let _ = out.write_all(body);
        let _ = out.flush();
    };
    if !request_line.starts_with("POST") {
        // No standalone GET stream; DELETE ends the (pretend) session.
        if request_line.starts_with("DELETE") {
            respond("200 OK", "text/plain", "", b"");
        } else {
            respond(
                "405 Method Not Allowed",
                "text/plain",
                "Allow: POST\r\n",
                b"",
            );
        }
        return Ok(());
    }
    let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = msg["id"].clone();
    let rpc = |result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
    match msg["method"].as_str() {
        Some("initialize") => respond(
            "200 OK",
            "application/json",
            "Mcp-Session-Id: hostile-session\r\n",
            rpc(json!({
                "protocolVersion": PROTOCOL,
                "capabilities": { "tools": {} },
                "serverInfo": { "name": "hostile", "version": "1" },
            }))
            .as_bytes(),
        ),
        Some("tools/list") => {
            let tools: Vec<Value> = [
                "garbage_json",
                "garbage_sse",
                "huge_json",
                "huge_sse",
                "http_500",
            ]
            .iter()
            .map(|n| json!({ "name": n, "inputSchema": { "type": "object" } }))
            .collect();
            respond(
                "200 OK",
                "application/json",
                "",
                rpc(json!({ "tools": tools })).as_bytes(),
            );
        }
        Some("tools/call") => match msg["params"]["name"].as_str() {
            Some("garbage_json") => respond(
                "200 OK",
                "application/json",
                "",
                b"<html>this is not json</html>",
            ),
            Some("garbage_sse") => respond(
                "200 OK",
                "text/event-stream",
                "",
                b"event: message\ndata: {this is not json either\n\n",
            ),
            Some("huge_json") => {
                let answer = rpc(json!({
                    "content": [{ "type": "text", "text": "x".repeat(huge) }],
                }));
                respond("200 OK", "application/json", "", answer.as_bytes());
            }
            Some("huge_sse") => {
                // A well-formed answer, only too big.
                let answer = rpc(json!({
                    "content": [{ "type": "text", "text": "x".repeat(huge) }],
                }));
                respond(
                    "200 OK",
                    "text/event-stream",
                    "",
                    format!("event: message\ndata: {answer}\n\n").as_bytes(),
                );
            }
            _ => respond(
                "500 Internal Server Error",
                "text/plain",
                "",
                b"internal kaboom",
            ),
        },
        Some(_) if msg.get("id").is_some() => respond(
            "200 OK",
            "application/json",
            "",
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}})
                .to_string()
                .as_bytes(),
        ),
        // Notifications.
        _ => respond("202 Accepted", "text/plain", "", b""),
    }
    Ok(())
}

#[test]
fn hostile_http_backend_errors_name_it_and_spare_the_session() {
    let hostile = HostileServer::start(100_000);
    let backend = format!(
        "\n[[backend]]\nname = \"hostile\"\nurl = {}\ntimeout_secs = 10\n",
        toml_str(&hostile.url)
    );
    let gw = start_gateway(&config("max_upstream_message_bytes = 65536", &backend));
    let mut mcp = Mcp::initialize(&gw.addr);
    mcp.assert_serving();

    mcp.assert_backend_error("hostile__garbage_json", -32011, "hostile", "not JSON");
    mcp.assert_serving();
    mcp.assert_backend_error("hostile__garbage_sse", -32011, "hostile", "not JSON");
    mcp.assert_serving();
    mcp.assert_backend_error(
        "hostile__huge_json",
        -32011,
        "hostile",
        "response larger than 65536 bytes",
    );
    mcp.assert_serving();
    mcp.assert_backend_error(
        "hostile__huge_sse",
        -32011,
        "hostile",
        "SSE event exceeds the limit of 65536 bytes",
    );
    mcp.assert_serving();
    mcp.assert_backend_error(
        "hostile__http_500",
        -32011,
        "hostile",
        "HTTP 500 Internal Server Error: internal kaboom",
    );
    mcp.assert_serving();
    // The backend was not written off: the same garbage gets the same specific error.
    mcp.assert_backend_error("hostile__garbage_json", -32011, "hostile", "not JSON");
    mcp.assert_serving();
}

/// A stdio "MCP server" in POSIX sh (builtins only: the gateway gives children an empty
/// environment). It handshakes, then: `noisy` prints garbage lines before a good answer,
/// `mute` prints garbage and never answers, `flood` prints a line longer than
/// `max_upstream_message_bytes` (160 KiB), `crash` exits in the middle of the call.
const CRASHY_SH: &str = r#"
printf '%s\n' 'garbage before any request'
while IFS= read -r line; do
  id=${line#*\"id\":}
  id=${id%%,*}
  case "$line" in
    *'"method":"initialize"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{}},\"serverInfo\":{\"name\":\"crashy\",\"version\":\"1\"}}}" ;;
    *'"method":"tools/list"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"tools\":[{\"name\":\"noisy\",\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"mute\",\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"flood\",\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"crash\",\"inputSchema\":{\"type\":\"object\"}}]}}" ;;
    *'"name":"noisy"'*)
      printf '%s\n' 'not json' '{"half": ' '[1,2,3]' '{"jsonrpc":"1.0"}' ''
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"survived the noise\"}]}}" ;;
    *'"name":"flood"'*)
      s=xxxxxxxxxx; i=0
      while [ $i -lt 14 ]; do s=$s$s; i=$((i+1)); done
      printf '%s\n' "$s" ;;
    *'"name":"mute"'*)
      printf '%s\n' 'still not json' ;;
    *'"name":"crash"'*)
      printf '%s\n' 'about to die' '{"jsonrpc":"2.0","id":'
      exit 3 ;;
  esac
done
"#;

#[test]
fn hostile_stdio_backend_errors_name_it_and_spare_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("crashy.sh");
    write(&script, CRASHY_SH);
    let backend = format!(
        "\n[[backend]]\nname = \"crashy\"\ncommand = [\"/bin/sh\", {}]\ntimeout_secs = 2\n",
        toml_str(&script.display().to_string())
    );
    let gw = start_gateway_in(&config("max_upstream_message_bytes = 65536", &backend), dir);
    let mut mcp = Mcp::initialize(&gw.addr);
    mcp.assert_serving();
    // The gateway restarts a failed child in the background; its tools come back in the
    // same session.
    let wait_until_back = |mcp: &mut Mcp| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let m = mcp.call("crashy__noisy", json!({}));
            if m["result"]["content"][0]["text"] == "survived the noise" {
                return;
            }
            assert!(Instant::now() < deadline, "crashy never came back: {m}");
            std::thread::sleep(Duration::from_millis(250));
        }
    };

    // Garbage lines around a good answer are skipped.
    let m = mcp.call("crashy__noisy", json!({}));
    assert_eq!(
        m["result"]["content"][0]["text"], "survived the noise",
        "{m}"
    );
    mcp.assert_serving();

    // Garbage and no answer: the backend's timeout, naming it.
    mcp.assert_backend_error(
        "crashy__mute",
        -32012,
        "crashy",
        "did not answer within 2 s",
    );
    mcp.assert_serving();

    // A line over the message limit: never buffered whole; the connection is dropped.
    mcp.assert_backend_error("crashy__flood", -32010, "crashy", "unavailable");
    mcp.assert_serving();
    wait_until_back(&mut mcp);

    // The process exits in the middle of the call.
    mcp.assert_backend_error("crashy__crash", -32010, "crashy", "the process exited");
    mcp.assert_serving();
    wait_until_back(&mut mcp);
    mcp.assert_serving();
}

// ----- TLS -----

fn dev_cert(out: &Path) {
    let status = Command::new(portcullis_bin())
        .arg("dev-cert")
        .arg("--out")
        .arg(out)
        .args(["--name", "localhost", "--name", "127.0.0.1"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn tls_client(trust: &[u8], http1: bool, addr: SocketAddr) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(trust).unwrap()])
        .resolve("localhost", addr)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(20));
    if http1 {
        b = b.http1_only();
    }
    b.build().unwrap()
}

/// POST one JSON-RPC message over HTTPS; returns the HTTP version, the session id header and
/// the last JSON-RPC message of the body.
async fn https_post(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    msg: &Value,
) -> Result<(reqwest::Version, Option<String>, Value), reqwest::Error> {
    let mut req = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", PROTOCOL)
        .body(msg.to_string());
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    let resp = req.send().await?;
    assert_eq!(resp.status(), 200);
    let version = resp.version();
    let sid = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await?;
    let last = match text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .next_back()
    {
        Some(data) => serde_json::from_str(data.trim()).unwrap(),
        None => serde_json::from_str(&text).unwrap(),
    };
    Ok((version, sid, last))
}

fn init_msg() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": { "name": "edge-tls-test", "version": "1" },
        },
    })
}

fn echo_msg(id: u64, text: &str) -> Value {
    json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": { "name": "demo__echo", "arguments": { "message": text } },
    })
}

/// Initialize a session and call `demo__echo` on it; returns the session id.
async fn tls_session(
    client: &reqwest::Client,
    url: &str,
    want: reqwest::Version,
) -> Result<String, reqwest::Error> {
    let (version, sid, m) = https_post(client, url, None, &init_msg()).await?;
    assert_eq!(version, want);
    assert_eq!(m["result"]["serverInfo"]["name"], "portcullis", "{m}");
    let sid = sid.expect("session id");
    let (version, _, m) = https_post(client, url, Some(&sid), &echo_msg(1, "over tls")).await?;
    assert_eq!(version, want);
    assert_eq!(m["result"]["content"][0]["text"], "over tls", "{m}");
    Ok(sid)
}

#[test]
fn tls_serves_h1_and_h2_and_reloads_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    dev_cert(&certs);
    let old_pem = std::fs::read(certs.join("dev.crt")).unwrap();
    let cfg = format!(
        "[listen]\naddress = \"127.0.0.1:0\"\ntls = {{ cert = \"certs/dev.crt\", key = \"certs/dev.key\" }}\ncert_reload_secs = 1\n\n\
         [auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n\n\
         [http]\nheader_read_timeout_secs = 60\n{TOFU}{}",
        demo_backend()
    );
    let gw = start_gateway_in(&cfg, dir);
    assert!(gw.url.starts_with("https://"), "{}", gw.url);
    let addr: SocketAddr = gw.addr.parse().unwrap();
    let url = format!("https://localhost:{}/mcp", addr.port());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // HTTP/1.1 and HTTP/2 (ALPN) clients, each keeping one pooled connection open.
        let h1 = tls_client(&old_pem, true, addr);
        let h2 = tls_client(&old_pem, false, addr);
        let sid1 = tls_session(&h1, &url, reqwest::Version::HTTP_11)
            .await
            .unwrap();
        let sid2 = tls_session(&h2, &url, reqwest::Version::HTTP_2)
            .await
            .unwrap();

        // Rotate: a new dev certificate and key over the old files.
        let fresh = gw.dir.path().join("certs-new");
        dev_cert(&fresh);
        let new_pem = std::fs::read(fresh.join("dev.crt")).unwrap();
        assert_ne!(new_pem, old_pem);
        let live = gw.dir.path().join("certs");
        std::fs::copy(fresh.join("dev.key"), live.join("dev.key")).unwrap();
        std::fs::copy(fresh.join("dev.crt"), live.join("dev.crt")).unwrap();

        // New connections get the new certificate once the watcher has seen the files.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let client = tls_client(&new_pem, false, addr);
            match tls_session(&client, &url, reqwest::Version::HTTP_2).await {
                Ok(_) => break,
                Err(e) => assert!(
                    Instant::now() < deadline,
                    "the new certificate was never served: {e:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for http1 in [true, false] {
            let client = tls_client(&new_pem, http1, addr);
            let want = if http1 {
                reqwest::Version::HTTP_11
            } else {
                reqwest::Version::HTTP_2
            };
            tls_session(&client, &url, want).await.unwrap();
            // A fresh connection trusting only the old certificate now fails the handshake.
            let stale = tls_client(&old_pem, http1, addr);
            let err = https_post(&stale, &url, None, &init_msg())
                .await
                .expect_err("a client trusting only the old certificate must fail");
            assert!(err.is_connect(), "{err:?}");
        }

        // Connections opened before the reload keep working (the pooled connection is reused:
        // a new one would fail, since these clients trust only the old certificate).
        let (v, _, m) = https_post(&h1, &url, Some(&sid1), &echo_msg(2, "old h1"))
            .await
            .unwrap();
        assert_eq!(v, reqwest::Version::HTTP_11);
        assert_eq!(m["result"]["content"][0]["text"], "old h1", "{m}");
        let (v, _, m) = https_post(&h2, &url, Some(&sid2), &echo_msg(2, "old h2"))
            .await
            .unwrap();
        assert_eq!(v, reqwest::Version::HTTP_2);
        assert_eq!(m["result"]["content"][0]["text"], "old h2", "{m}");
    });
}

#[test]
fn tls_refuses_a_key_that_does_not_match_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    dev_cert(&dir.path().join("a"));
    dev_cert(&dir.path().join("b"));
    let path = dir.path().join("portcullis.toml");
    write(
        &path,
        &format!(
            "[listen]\naddress = \"127.0.0.1:0\"\ntls = {{ cert = \"a/dev.crt\", key = \"b/dev.key\" }}\n\n\
             [auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n{}",
            demo_backend()
        ),
    );
    let mut cmd = Command::new(portcullis_bin());
    cmd.arg("serve").arg("--config").arg(&path);
    let mut gw = Proc::spawn(cmd);
    // It must exit with an error naming both files instead of failing every handshake.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = gw.child.try_wait().unwrap() {
            break s;
        }
        let started = gw.stdout_lines.lock().unwrap().clone();
        assert!(
            started.is_empty() && Instant::now() < deadline,
            "the gateway started with a mismatched key; stdout: {started:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(200));
    let err = gw.stderr();
    assert!(
        err.contains("b/dev.key") && err.contains("a/dev.crt") && err.contains("does not match"),
        "{err}"
    );
    assert!(gw.stdout_lines.lock().unwrap().is_empty());
    gw.kill();

    // `check` refuses it too, as it refuses a certificate file that is missing.
    let (ok, out, err) = check_config(&path);
    assert!(!ok, "stdout:\n{out}");
    assert!(err.contains("does not match"), "{err}");
    write(
        &path,
        "[listen]\naddress = \"127.0.0.1:0\"\ntls = { cert = \"nope.crt\", key = \"b/dev.key\" }\n\n\
         [auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n",
    );
    let (ok, out, err) = check_config(&path);
    assert!(!ok, "stdout:\n{out}");
    assert!(
        err.contains("cannot read certificate") && err.contains("nope.crt"),
        "{err}"
    );
}

// ----- config -----

#[test]
fn check_names_file_line_and_key_of_broken_configs() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown-key.toml",
            "[listen]\naddress = \"127.0.0.1:0\"\nbogus_key = true\n\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n",
            3,
            vec!["unknown field `bogus_key`"],
        ),
        (
            "plaintext.toml",
            "# exposed\n[listen]\naddress = \"0.0.0.0:8080\"\n\n[auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n",
            2,
            vec![
                "key `listen.tls`",
                "`0.0.0.0:8080`",
                "dangerous_plaintext = true",
            ],
        ),
        (
            "anonymous.toml",
            "[listen]\naddress = \"127.0.0.1:0\"\n\n[auth]\nmode = \"anonymous\"\n",
            4,
            vec!["key `auth.mode`", "dangerous_allow_anonymous = true"],
        ),
    ];
    for (name, text, line, needles) in cases {
        let path = dir.path().join(name);
        write(&path, text);
        let (ok, out, err) = check_config(&path);
        assert!(!ok, "{name}: check accepted it; stdout:\n{out}");
        let prefix = format!("{}:{line}: ", path.display());
        assert!(err.contains(&prefix), "{name}: {prefix:?} not in {err:?}");
        for n in needles {
            assert!(err.contains(n), "{name}: {n:?} not in {err:?}");
        }
    }
}

#[test]
fn check_lists_dangerous_settings_of_a_good_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.toml");
    write(
        &path,
        &format!(
            "[listen]\naddress = \"0.0.0.0:8080\"\ndangerous_plaintext = true\n\n\
             [auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n{}",
            demo_backend()
        ),
    );
    let (ok, out, err) = check_config(&path);
    assert!(ok, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("config OK"), "{out}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 2, "{out}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("listen.dangerous_plaintext = true")),
        "{out}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("auth.dangerous_allow_anonymous = true")),
        "{out}"
    );
    assert!(out.contains("backend `demo`: up"), "{out}");
}
