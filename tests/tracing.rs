//! Distributed tracing end to end: the W3C `traceparent` a real HTTP backend (`auth-echo`)
//! receives through the gateway, and OTLP export to a collector stand-in on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ANON, Proc, RawClient, conformance_server_bin, runtime, start_gateway};
use prost::Message as _;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const P: &str = "00f067aa0ba902b7";

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

fn echo_config(url: &str, extra: &str) -> String {
    format!("{ANON}\n{extra}\n[[backend]]\nname = \"echo\"\nurl = \"{url}\"\n")
}

/// `traceparent: <v> tracestate=<s> method=<M>` lines `auth-echo` printed, from index `from`
/// on: (traceparent, method).
fn traceparents(p: &Proc, from: usize) -> Vec<(String, String)> {
    trace_lines(p, from)
        .into_iter()
        .map(|(tp, _, m)| (tp, m))
        .collect()
}

/// (traceparent, tracestate, method) per line, from index `from` on.
fn trace_lines(p: &Proc, from: usize) -> Vec<(String, String, String)> {
    p.stdout_lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("traceparent: "))
        .skip(from)
        .map(|l| {
            let (v, m) = l.rsplit_once(" method=").unwrap();
            let (tp, ts) = v.split_once(" tracestate=").unwrap();
            (tp.to_owned(), ts.to_owned(), m.to_owned())
        })
        .collect()
}

/// (trace id, parent id, flags) of a well-formed version-00 traceparent.
fn parse(tp: &str) -> (String, String, String) {
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "malformed traceparent `{tp}`");
    assert_eq!(parts[0], "00", "{tp}");
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    assert!(hex(parts[1], 32) && parts[1] != "0".repeat(32), "{tp}");
    assert!(hex(parts[2], 16) && parts[2] != "0".repeat(16), "{tp}");
    assert!(hex(parts[3], 2), "{tp}");
    (parts[1].into(), parts[2].into(), parts[3].into())
}

async fn tool_name(c: &RawClient) -> String {
    let list = c.request("tools/list", json!({})).await;
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .find(|n| n.ends_with("whoami"))
        .expect("whoami listed")
        .to_owned()
}

/// `tools/call` with extra headers; returns the JSON-RPC response.
async fn call(c: &RawClient, name: &str, headers: &[(&str, &str)]) -> Value {
    let msg = json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
        "params": {"name": name, "arguments": {}}});
    let mut req = c
        .http
        .post(&c.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", c.session.clone().unwrap())
        .body(msg.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    common::rpc_messages(&text)
        .into_iter()
        .rfind(|m| m["id"] == 77)
        .unwrap_or_else(|| panic!("no response in {text}"))
}

/// The POST traceparents `auth-echo` logged after index `from`, waiting for at least one.
fn new_posts(p: &Proc, from: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let posts: Vec<String> = traceparents(p, from)
            .into_iter()
            .filter(|(_, m)| m == "POST")
            .map(|(v, _)| v)
            .collect();
        if !posts.is_empty() || Instant::now() > deadline {
            return posts;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn backends_receive_the_clients_trace_or_a_new_one() {
    let (echo, url) = start_auth_echo();
    let gw = start_gateway(&echo_config(&url, ""));
    runtime().block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let name = tool_name(&c).await;

        // A valid client traceparent: same trace, the gateway's own span as parent.
        let from = traceparents(&echo, 0).len();
        let client_tp = format!("00-{T}-{P}-01");
        let resp = call(
            &c,
            &name,
            &[("traceparent", &client_tp), ("tracestate", "vendor=abc")],
        )
        .await;
        assert!(resp.get("result").is_some(), "{resp}");
        let posts = new_posts(&echo, from);
        assert_eq!(posts.len(), 1, "{posts:?}");
        let (trace, parent, flags) = parse(&posts[0]);
        assert_eq!(trace, T);
        assert_ne!(
            parent, P,
            "the backend must see the gateway's span as parent"
        );
        assert_eq!(flags, "01");
        let states: Vec<String> = trace_lines(&echo, from)
            .into_iter()
            .filter(|(_, _, m)| m == "POST")
            .map(|(_, s, _)| s)
            .collect();
        assert_eq!(states, ["vendor=abc"], "tracestate passed through");

        // None: the gateway starts a trace.
        let from = traceparents(&echo, 0).len();
        let resp = call(&c, &name, &[]).await;
        assert!(resp.get("result").is_some(), "{resp}");
        let posts = new_posts(&echo, from);
        assert_eq!(posts.len(), 1, "{posts:?}");
        let (fresh, _, _) = parse(&posts[0]);
        assert_ne!(fresh, T);
        let (_, state, _) = trace_lines(&echo, from)
            .into_iter()
            .rfind(|(_, _, m)| m == "POST")
            .unwrap();
        assert_eq!(state, "-", "no tracestate invented");

        // Invalid ones are ignored, never an error: a new trace each time.
        for bad in [
            format!("00-{}-{P}-01", "0".repeat(32)),
            format!("00-{T}-{P}"),
            "nonsense".to_owned(),
            format!("00-{}-{P}-01", T.to_uppercase()),
        ] {
            let from = traceparents(&echo, 0).len();
            let resp = call(&c, &name, &[("traceparent", &bad)]).await;
            assert!(resp.get("result").is_some(), "{bad}: {resp}");
            let posts = new_posts(&echo, from);
            assert_eq!(posts.len(), 1, "{bad}: {posts:?}");
            let (trace, _, _) = parse(&posts[0]);
            assert_ne!(trace, T, "{bad}");
            assert_ne!(trace, fresh, "{bad}: each trace is new");
        }

        // Every POST the backend got during the session (initialize, notifications, calls,
        // lists) carried a valid traceparent.
        for (tp, m) in traceparents(&echo, 0) {
            if m == "POST" {
                parse(&tp);
            }
        }
    });
}

/// A stand-in OTLP/HTTP collector: accepts `POST /v1/traces`, keeps each body.
async fn collector() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: headers, then content-length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    assert!(head.starts_with("post /v1/traces "), "{head}");
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .expect("content-length");
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 8192];
                        let n = s.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    seen.lock()
                        .unwrap()
                        .push(buf[head_end..head_end + len].to_vec());
                    buf.drain(..head_end + len);
                    let _ = s
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n",
                        )
                        .await;
                }
            });
        }
    });
    (format!("http://{addr}"), bodies)
}

#[test]
fn spans_are_exported_over_otlp_with_the_clients_trace_id() {
    let rt = runtime();
    let (endpoint, bodies) = rt.block_on(collector());
    let (_echo, url) = start_auth_echo();
    // A long interval: what arrives was flushed by the graceful shutdown.
    let telemetry = format!(
        "[telemetry]\notlp_endpoint = \"{endpoint}\"\nservice_name = \"portcullis-test\"\nexport_interval_ms = 60000\n"
    );
    let mut gw = start_gateway(&echo_config(&url, &telemetry));
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let name = tool_name(&c).await;
        for _ in 0..3 {
            let resp = call(&c, &name, &[("traceparent", &format!("00-{T}-{P}-01"))]).await;
            assert!(resp.get("result").is_some(), "{resp}");
        }
    });
    let pid = gw.proc.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = gw.proc.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "gateway did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{}", gw.proc.stderr());

    let bodies = bodies.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "no export arrived");
    let total: usize = bodies.iter().map(Vec::len).sum();
    assert!(total > 0);
    let mut names = Vec::new();
    let mut in_trace = 0;
    for b in &bodies {
        let req =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                b.as_slice(),
            )
            .expect("protobuf ExportTraceServiceRequest");
        for rs in &req.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .map(|v| format!("{:?}", v.value));
            assert!(
                service.as_deref().unwrap_or("").contains("portcullis-test"),
                "{service:?}"
            );
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    names.push(s.name.clone());
                    if hex::encode(&s.trace_id) == T {
                        in_trace += 1;
                    }
                }
            }
        }
    }
    // Per call: the `request`, `rpc` and `upstream` spans, all in the client's trace.
    assert!(
        in_trace >= 9,
        "{in_trace} spans in trace {T}; names {names:?}"
    );
    for n in ["request", "rpc", "upstream"] {
        assert!(names.iter().any(|x| x == n), "no `{n}` span in {names:?}");
    }
}
