//! The 2026-07-28 metadata work on every modern request, per request: reading the client's
//! `_meta` envelope, checking its mirror headers against the body (north), writing the
//! gateway's envelope and building the backend's headers (south), and reading a tool's
//! `x-mcp-header` annotations (once per tool definition, when the catalog is refreshed).
//!
//! It also times one `tools/call test_simple_text` from the gateway's upstream clients to the
//! rmcp fixture `conformance-server-2026 --protocol dual` (the same process serves both eras):
//! the 2025 session client (`upstream::Conn`, after `initialize`) against the 2026-07-28
//! stateless client (`upstream::modern::ModernBackend`), one request at a time over one pooled
//! connection. The fixture is the dev build in `target/debug` (built if missing), so compare
//! the two rows with each other, not with other benches.
//!
//! Run: `cargo bench --bench modern`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::egress::{Egress, parse_net};
use portcullis::protocol::meta::{
    Envelope, ParamHeaders, decode_header_value, encode_header_value, request_headers,
    validate_request_headers,
};
use portcullis::upstream::modern::{Call, ModernBackend};
use portcullis::upstream::{BackendSpec, Conn, SpecKind};
use serde_json::{Value, json};

fn request() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 42,
        "method": "tools/call",
        "params": {
            "name": "spanner__execute_sql",
            "arguments": {
                "region": "us-west1",
                "project": "acme-prod",
                "query": "SELECT id, name FROM users WHERE created_at > @since ORDER BY id LIMIT 100",
                "params": {"since": "2026-05-01T00:00:00Z"},
                "dry_run": false
            },
            "_meta": {
                "progressToken": "tok-42",
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}, "url": {}}, "sampling": {}},
                "io.modelcontextprotocol/clientInfo": {"name": "agent", "version": "1.4.2"},
                "io.modelcontextprotocol/logLevel": "info"
            }
        }
    })
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "Where to run", "x-mcp-header": "Region"},
            "project": {"type": "string", "x-mcp-header": "Project"},
            "query": {"type": "string", "description": "The SQL to run"},
            "params": {"type": "object", "additionalProperties": {"type": "string"}},
            "dry_run": {"type": "boolean", "x-mcp-header": "DryRun"}
        },
        "required": ["region", "project", "query"]
    })
}

fn bench(c: &mut Criterion) {
    let msg = request();
    let params = ParamHeaders::from_schema(&schema()).unwrap();
    let headers = request_headers(&msg, Some(&params));
    let mut g = c.benchmark_group("modern_meta");
    g.bench_function("envelope_parse", |b| {
        b.iter(|| Envelope::from_message(black_box(&msg)))
    });
    let env = Envelope::from_message(&msg).unwrap();
    g.bench_function("envelope_write", |b| {
        b.iter_batched(
            || msg.clone(),
            |mut m| env.apply(black_box(&mut m)),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("request_headers", |b| {
        b.iter(|| request_headers(black_box(&msg), Some(&params)))
    });
    g.bench_function("validate_request_headers", |b| {
        b.iter(|| validate_request_headers(black_box(&headers), black_box(&msg), Some(&params)))
    });
    g.bench_function("param_headers_from_schema", |b| {
        let s = schema();
        b.iter(|| ParamHeaders::from_schema(black_box(&s)))
    });
    g.bench_function("encode_plain", |b| {
        b.iter(|| encode_header_value(black_box("spanner__execute_sql")))
    });
    g.bench_function("encode_base64", |b| {
        b.iter(|| encode_header_value(black_box("Hello, 世界")))
    });
    g.bench_function("decode_base64", |b| {
        b.iter(|| decode_header_value(black_box(b"=?base64?SGVsbG8sIOS4lueVjA==?=")))
    });
    g.finish();
}

struct Fixture(Child);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_fixture() -> (Fixture, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "conformance-server",
            "--bin",
            "conformance-server-2026",
        ])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success(), "building the fixture failed");
    let mut child = Command::new(root.join("target/debug/conformance-server-2026"))
        .args(["--port", "0", "--protocol", "dual"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    (Fixture(child), url)
}

fn spec(url: &str) -> Arc<BackendSpec> {
    let egress = Arc::new(Egress::new(vec![parse_net("127.0.0.1").unwrap()]));
    Arc::new(BackendSpec {
        name: "bench".into(),
        kind: SpecKind::Http {
            url: url.to_owned(),
            client: egress
                .client_builder()
                .pool_idle_timeout(Duration::from_secs(90))
                .build()
                .unwrap(),
        },
        timeout: Duration::from_secs(30),
        init_timeout: Duration::from_secs(30),
        max_message_bytes: 4 * 1024 * 1024,
        max_json_depth: 128,
        credentials: Arc::new(portcullis::credentials::Source::None),
        resource_limits: None,
        sharing: Default::default(),
        protocol: Default::default(),
        dangerous_unlisted_resources: false,
    })
}

fn round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_fixture, url) = start_fixture();
    let spec = spec(&url);
    let args = json!({"name": "test_simple_text", "arguments": {}});

    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    rt.spawn(async move { while rx.recv().await.is_some() {} });
    let init = json!({"protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"}});
    let (conn, _) = rt
        .block_on(Conn::connect(spec.clone(), init, tx, None))
        .unwrap();
    let modern = ModernBackend::connect(spec).unwrap();
    let env = Envelope::new(json!({}));
    let check = |v: &Value| {
        assert!(
            v.pointer("/result/content/0/text")
                .is_some_and(Value::is_string),
            "unexpected answer {v}"
        )
    };
    check(
        &rt.block_on(conn.call("tools/call", Some(args.clone())))
            .unwrap(),
    );

    let mut g = c.benchmark_group("upstream_round_trip");
    g.bench_function("session_2025", |b| {
        b.iter(|| {
            let v = rt
                .block_on(conn.call("tools/call", Some(args.clone())))
                .unwrap();
            check(&v);
        })
    });
    let mut n = 0u64;
    g.bench_function("stateless_2026", |b| {
        b.iter(|| {
            n += 1;
            let msg = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": args});
            let v = rt
                .block_on(async {
                    modern
                        .request(&env, msg, Call::default())
                        .await?
                        .response()
                        .await
                })
                .unwrap();
            check(&v);
        })
    });
    g.finish();
    rt.block_on(conn.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench, round_trip
}
criterion_main!(benches);
