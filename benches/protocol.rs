//! JSON-RPC on the call path, for a typical `tools/call`: decoding the client's POST
//! (`edge::decode_post`: header rules, size, depth pre-scan, parse, classify), encoding it for
//! the backend, decoding the backend's SSE answer (SSE parser, then the same decoder), and
//! encoding the result as the SSE event the client receives.
//!
//! Run: `cargo bench --bench protocol`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue};
use portcullis::protocol::{self, sse};
use serde_json::{Value, json};

const MAX_BODY: usize = 4 * 1024 * 1024;
const MAX_DEPTH: usize = 64;

/// What a coding agent sends: a tool with a handful of typed arguments and a progress token.
fn request() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 42,
        "method": "tools/call",
        "params": {
            "name": "github__create_issue",
            "arguments": {
                "owner": "acme",
                "repo": "widgets",
                "title": "Crash on start when the config directory is missing",
                "body": "Steps to reproduce:\n1. Remove ~/.config/widgets\n2. Run `widgets start`\n\nExpected: a default config is created.\nActual: panic in config::load (see log below).",
                "labels": ["bug", "p1"],
                "assignees": ["alice"]
            },
            "_meta": { "progressToken": "tok-42" }
        }
    })
}

/// What the backend answers: text content plus structured content, about 1.3 KB.
fn result() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 7,
        "result": {
            "content": [{
                "type": "text",
                "text": "Created issue #4127 in acme/widgets: \"Crash on start when the config directory is missing\". Labels: bug, p1. Assignee: alice. URL: https://github.com/acme/widgets/issues/4127. The issue body was saved as written; 2 similar open issues were found (#3980 \"Config dir not created\", #4011 \"Panic in config::load on fresh install\") and linked in a comment so that a maintainer can close duplicates."
            }],
            "structuredContent": {
                "number": 4127,
                "url": "https://github.com/acme/widgets/issues/4127",
                "state": "open",
                "title": "Crash on start when the config directory is missing",
                "labels": ["bug", "p1"],
                "assignees": ["alice"],
                "created_at": "2026-05-01T12:34:56Z",
                "similar": [
                    {"number": 3980, "title": "Config dir not created", "state": "open"},
                    {"number": 4011, "title": "Panic in config::load on fresh install", "state": "open"}
                ]
            },
            "isError": false
        }
    })
}

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "accept",
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "mcp-protocol-version",
        HeaderValue::from_static("2025-11-25"),
    );
    h
}

fn bench(c: &mut Criterion) {
    let headers = headers();
    let req = request();
    let req_bytes = serde_json::to_vec(&req).unwrap_or_default();
    let res = result();
    let res_event = sse::encode_message(&res.to_string(), None).into_bytes();

    let mut g = c.benchmark_group("tools_call");
    g.throughput(Throughput::Bytes(req_bytes.len() as u64));
    g.bench_function("decode_request", |b| {
        b.iter(|| {
            black_box(portcullis::edge::decode_post(
                black_box(&headers),
                black_box(&req_bytes),
                MAX_BODY,
                MAX_DEPTH,
            ))
        })
    });
    // Upstream: the gateway's own id replaces the client's, then the message is serialized.
    g.bench_function("encode_request_upstream", |b| {
        b.iter_batched(
            || req.clone(),
            |mut msg| {
                if let Some(o) = msg.as_object_mut() {
                    o.insert("id".into(), Value::from(7u64));
                }
                black_box(serde_json::to_vec(&msg))
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.throughput(Throughput::Bytes(res_event.len() as u64));
    g.bench_function("decode_result_sse", |b| {
        b.iter(|| {
            let mut parser = sse::Parser::new(16 * 1024 * 1024);
            let events = parser.feed(black_box(&res_event)).unwrap_or_default();
            for ev in events {
                let _ = black_box(protocol::decode(ev.data.as_bytes(), MAX_DEPTH));
            }
        })
    });
    // Client side: the client's id restored, serialized, framed as one SSE event.
    g.bench_function("encode_result_sse", |b| {
        b.iter_batched(
            || res.clone(),
            |mut msg| {
                if let Some(o) = msg.as_object_mut() {
                    o.insert("id".into(), Value::from(42u64));
                }
                black_box(sse::encode_message(&msg.to_string(), None))
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
