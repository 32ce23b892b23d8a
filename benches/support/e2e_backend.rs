//! A minimal, fast MCP server over Streamable HTTP that serves both eras. 2025-11-25:
//! `initialize`, `ping`, `tools/list` with one tool, and `tools/call` of that tool, answered as
//! one SSE event (as the MCP SDKs answer requests); notifications get 202, GET 405 (no
//! standalone stream), DELETE 200; sessions are ids it hands out and then requires. 2026-07-28
//! (a request whose `params._meta` names the revision): `server/discover`, `tools/list` and
//! `tools/call` without a session, each result with `resultType`, answered the same way. It
//! counts the `tools/call`s of each era (`bench/counts` tells), and does nothing else, so that
//! what the bench measures is the gateway, not the backend.
//!
//! Part of `benches/e2e.rs` (included there as `mod backend`; it reads `super::TOOL`).

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

type Sessions = Arc<Mutex<HashSet<String>>>;

/// The method that answers `{"legacy": n, "modern": m}`: `tools/call`s served per era.
pub const COUNTS: &str = "bench/counts";
static LEGACY_CALLS: AtomicU64 = AtomicU64::new(0);
static MODERN_CALLS: AtomicU64 = AtomicU64::new(0);

pub fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{addr}/mcp").unwrap();
            out.flush().unwrap();
        }
        let sessions = Sessions::default();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            // Without it, a response written in two segments waits for the peer's
            // delayed ACK (~40 ms on Linux).
            stream.set_nodelay(true).unwrap();
            let sessions = sessions.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let sessions = sessions.clone();
                    async move { Ok::<_, Infallible>(handle(req, &sessions).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn reply(status: StatusCode, ctype: Option<&'static str>, body: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    if let Some(c) = ctype {
        resp.headers_mut()
            .insert(hyper::header::CONTENT_TYPE, c.parse().unwrap());
    }
    resp
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    reply(status, None, Bytes::new())
}

async fn handle(req: Request<Incoming>, sessions: &Sessions) -> Response<Full<Bytes>> {
    let sid = req
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let known = sid
        .as_ref()
        .is_some_and(|s| sessions.lock().unwrap().contains(s));
    match *req.method() {
        Method::POST => {}
        Method::DELETE if known => {
            sessions
                .lock()
                .unwrap()
                .remove(sid.as_deref().unwrap_or(""));
            return empty(StatusCode::OK);
        }
        Method::DELETE => return empty(StatusCode::NOT_FOUND),
        _ => return empty(StatusCode::METHOD_NOT_ALLOWED),
    }
    let Ok(body) = req.into_body().collect().await else {
        return empty(StatusCode::BAD_REQUEST);
    };
    let Ok(msg) = serde_json::from_slice::<Value>(&body.to_bytes()) else {
        return empty(StatusCode::BAD_REQUEST);
    };
    let method = msg["method"].as_str().unwrap_or("");
    if method == COUNTS {
        let counts = json!({
            "legacy": LEGACY_CALLS.load(Ordering::Relaxed),
            "modern": MODERN_CALLS.load(Ordering::Relaxed),
        });
        return reply(
            StatusCode::OK,
            Some("application/json"),
            answer(&msg["id"], counts).to_string().into(),
        );
    }
    if msg["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28" {
        return modern(&msg, method);
    }
    if method == "initialize" {
        let sid = format!("{:032x}", rand::random::<u128>());
        sessions.lock().unwrap().insert(sid.clone());
        let result = json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "e2e-bench-backend", "version": "0"}
        });
        let mut resp = reply(
            StatusCode::OK,
            Some("application/json"),
            answer(&msg["id"], result).to_string().into(),
        );
        resp.headers_mut()
            .insert("mcp-session-id", sid.parse().unwrap());
        return resp;
    }
    if !known {
        return empty(StatusCode::NOT_FOUND);
    }
    if msg.get("id").is_none() || method.is_empty() {
        // A notification, or a response to a request we never send.
        return empty(StatusCode::ACCEPTED);
    }
    let out = match method {
        "ping" => answer(&msg["id"], json!({})),
        "tools/list" => answer(&msg["id"], tools()),
        "tools/call" if msg["params"]["name"] == super::TOOL => {
            LEGACY_CALLS.fetch_add(1, Ordering::Relaxed);
            answer(&msg["id"], text())
        }
        "tools/call" => unknown_tool(&msg["id"]),
        _ => not_found(&msg["id"]),
    };
    event(&out)
}

/// A 2026-07-28 request: no session, every result `complete`.
fn modern(msg: &Value, method: &str) -> Response<Full<Bytes>> {
    if msg.get("id").is_none() || method.is_empty() {
        return empty(StatusCode::ACCEPTED);
    }
    let complete = |mut result: Value| {
        result["resultType"] = json!("complete");
        answer(&msg["id"], result)
    };
    let out = match method {
        "server/discover" => complete(json!({
            "supportedVersions": ["2026-07-28", "2025-11-25"],
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo":
                {"name": "e2e-bench-backend", "version": "0"}}
        })),
        "tools/list" => complete(tools()),
        "tools/call" if msg["params"]["name"] == super::TOOL => {
            MODERN_CALLS.fetch_add(1, Ordering::Relaxed);
            complete(text())
        }
        "tools/call" => unknown_tool(&msg["id"]),
        _ => not_found(&msg["id"]),
    };
    event(&out)
}

fn tools() -> Value {
    json!({"tools": [{
        "name": super::TOOL,
        "description": "Returns a simple text response",
        "inputSchema": {"type": "object", "properties": {
            "query": {"type": "string"}, "limit": {"type": "integer"}}}
    }]})
}

fn text() -> Value {
    json!({"content": [
        {"type": "text", "text": "This is a simple text response for testing."}
    ]})
}

fn unknown_tool(id: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32602, "message": "unknown tool"}})
}

fn not_found(id: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error":
        {"code": -32601, "message": "method not found"}})
}

/// One response as one SSE event, for both eras.
fn event(out: &Value) -> Response<Full<Bytes>> {
    reply(
        StatusCode::OK,
        Some("text/event-stream"),
        format!("event: message\ndata: {out}\n\n").into(),
    )
}

fn answer(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
