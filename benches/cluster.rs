//! What the cluster costs (issue 17), measured on this machine with a real `redis-server` and a
//! real HAProxy on loopback:
//!
//! 1. **The Redis-backed decision.** `Limits::admit_call` for a call under three limits (per
//!    principal and tool, per principal, global), decided by this process's governor limiters
//!    alone and by the cluster's script (one round trip), sequentially; prints p50/p99 of each
//!    and the difference (the target is at most 150 µs added at p50).
//! 2. **End to end, 1 vs 2 replicas.** The same `tools/call` (2026-07-28, no session) through
//!    HAProxy in front of one replica, then in front of two, both sharing one Redis, at
//!    concurrency 16; prints calls/s and p50/p99. The backend is the built-in demo server
//!    (stdio, one child per replica). On a 2-core machine the load generator, HAProxy, Redis,
//!    the replicas and their backends share the two cores, so a second replica cannot add CPU:
//!    the figure shows what the shared state costs, not how replicas scale on separate hosts.
//!
//! Run: `cargo bench --bench cluster` (under a minute once built). Every process started here is
//! killed when the bench ends, also on failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/cluster_support/mod.rs"]
mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::{Haproxy, Redis, Replica, free_port};
use futures::StreamExt;
use serde_json::{Value, json};

const DECISIONS: usize = 20_000;
const WARM: usize = 2_000;
const CALLS: usize = 4_000;
const CONCURRENCY: usize = 16;

fn main() {
    // `cargo test --benches` runs each bench binary without `--bench`: compile only.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis = Redis::start();
    println!("cluster bench: redis-server on 127.0.0.1:{}", redis.port);
    rt.block_on(decisions(&redis));
    rt.block_on(end_to_end(&redis));
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn limits_config(redis: Option<&Redis>) -> portcullis::config::Config {
    let cluster = redis
        .map(|r| {
            format!(
                "[cluster]\nredis = {{ url = \"{}\" }}\nreplica_id = \"bench\"\n",
                r.url()
            )
        })
        .unwrap_or_default();
    let text = format!(
        "[listen]\naddress = \"127.0.0.1:9\"\n[auth]\nmode = \"anonymous\"\n\
         dangerous_allow_anonymous = true\n[network]\n\
         dangerous_allow_private = [\"127.0.0.1/32\"]\n[limits]\nglobal = \"1000000/s\"\n\
         per_principal = \"1000000/s\"\nper_principal_tool = \"1000000/s\"\n{cluster}\n\
         [[backend]]\nname = \"b\"\nurl = \"http://127.0.0.1:9/mcp\"\n"
    );
    portcullis::config::Config::parse(&text, "bench.toml", std::path::Path::new(".")).unwrap()
}

async fn time_decisions(limits: &portcullis::limits::Limits) -> Vec<Duration> {
    for i in 0..WARM {
        limits
            .admit_call(&format!("iss|u{}", i % 50), "b", "t", "t")
            .await
            .unwrap();
    }
    let mut times = Vec::with_capacity(DECISIONS);
    for i in 0..DECISIONS {
        let who = format!("iss|u{}", i % 50);
        let t = Instant::now();
        let d = limits.admit_call(&who, "b", "t", "t").await;
        times.push(t.elapsed());
        d.unwrap();
    }
    times.sort();
    times
}

async fn decisions(redis: &Redis) {
    let local = portcullis::gateway::limits(&limits_config(None)).unwrap();
    let cfg = limits_config(Some(redis));
    let cluster = portcullis::gateway::cluster(&cfg).unwrap();
    let shared = portcullis::gateway::limits(&cfg)
        .unwrap()
        .clustered(cluster);
    let a = time_decisions(&local).await;
    let b = time_decisions(&shared).await;
    let (a50, a99, b50, b99) = (
        percentile(&a, 0.5),
        percentile(&a, 0.99),
        percentile(&b, 0.5),
        percentile(&b, 0.99),
    );
    println!("\n== one limit decision (3 limits), {DECISIONS} sequential decisions");
    println!(
        "  this process alone (governor)   p50 {:>8.1} µs   p99 {:>8.1} µs",
        us(a50),
        us(a99)
    );
    println!(
        "  cluster (Redis script, loopback) p50 {:>8.1} µs   p99 {:>8.1} µs",
        us(b50),
        us(b99)
    );
    println!(
        "  added by Redis                   p50 {:>8.1} µs   p99 {:>8.1} µs   (target ≤ 150 µs at p50)",
        us(b50.saturating_sub(a50)),
        us(b99.saturating_sub(a99))
    );
}

fn replica_config(public: &str, redis: &Redis) -> String {
    format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "{public}"

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true

[integrity]
new_items = "trust_on_first_use"

[limits]
per_principal = "10000000/min"
global = "10000000/min"

[audit]
file = "audit.jsonl"
fsync = "never"

[naming]
strategy = "priority"

# The replica harness waits for both listeners.
[admin]
address = "127.0.0.1:0"

[cluster]
redis = {{ url = "{redis}" }}

[[backend]]
name = "demo"
command = [{bin}, "demo-server"]
"#,
        redis = redis.url(),
        bin = serde_json::to_string(env!("CARGO_BIN_EXE_portcullis")).unwrap(),
    )
}

fn body(id: usize) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
    "name": "add", "arguments": {"a": 2, "b": 3},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
    }}})
    .to_string()
}

async fn call(http: &reqwest::Client, url: &str, id: usize) -> Duration {
    let t = Instant::now();
    let resp = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "add")
        .body(body(id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let elapsed = t.elapsed();
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap_or(&text);
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["result"]["structuredContent"]["sum"], 5, "{v}");
    elapsed
}

async fn load(url: &str) -> (f64, Duration, Duration) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let run = |n: usize, offset: usize| {
        let http = http.clone();
        async move {
            let started = Instant::now();
            let mut times: Vec<Duration> = futures::stream::iter(0..n)
                .map(|i| {
                    let http = http.clone();
                    async move { call(&http, url, offset + i).await }
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            let wall = started.elapsed();
            times.sort();
            (times, wall)
        }
    };
    run(WARM, 0).await;
    let (times, wall) = run(CALLS, WARM).await;
    (
        CALLS as f64 / wall.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
    )
}

async fn end_to_end(redis: &Redis) {
    let lb_port = free_port();
    let public = format!("http://127.0.0.1:{lb_port}/mcp");
    let replicas: Vec<Replica> = (1..=2)
        .map(|i| {
            Replica::start(
                &format!("bench{i}"),
                tempfile::tempdir().unwrap(),
                &replica_config(&public, redis),
            )
        })
        .collect();
    println!(
        "\n== tools/call through HAProxy, {CALLS} calls at concurrency {CONCURRENCY} (2026-07-28, no session)"
    );
    for n in [1usize, 2] {
        let servers: Vec<String> = replicas[..n].iter().map(|r| r.addr.clone()).collect();
        let lb = Haproxy::start(lb_port, &servers);
        let (rate, p50, p99) = load(&lb.url()).await;
        println!(
            "  {n} replica{}  {rate:>8.0} calls/s   p50 {:>8.1} µs   p99 {:>8.1} µs",
            if n == 1 { " " } else { "s" },
            us(p50),
            us(p99)
        );
        drop(lb);
        // The port is reused by the next HAProxy.
        std::thread::sleep(Duration::from_millis(200));
    }
    for r in &replicas {
        let calls = r.trail().iter().filter(|x| x["kind"] == "call").count();
        println!("  {}: {calls} calls recorded in its own trail", r.id);
    }
}
