//! Audit writer benchmarks: records/s under concurrent load (`fsync = "never"`), and the latency
//! `Audit::record` adds to a call, as p50/p99/p99.9 measured here (criterion reports means).
//!
//! Run: `cargo bench --bench audit`. Files go to a temporary directory (set `TMPDIR` to put them
//! on the disk you care about).
// A benchmark is a test harness: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis::audit::{Audit, AuditConfig, AuditRecord, Decision, Fsync, Kind};
use serde_json::json;

/// A record as the gateway would write for an allowed `tools/call`.
fn record(i: u64) -> AuditRecord {
    let mut r = AuditRecord::new(Kind::Call, Decision::Allow);
    r.request_id = Some(i.to_string());
    r.session_id = Some("9f0c2b7e4d1a4c3b8e6f5a2d1c0b9e8f".into());
    r.principal = Some("https://idp.example.com|alice@example.com".into());
    r.method = Some("tools/call".into());
    r.backend = Some("github".into());
    r.tool = Some("github__create_issue".into());
    r.original = Some("create_issue".into());
    r.policies = vec!["allow-engineering-github".into()];
    r.latency_ms = Some(12.5);
    r.args = Some(json!({"repo": "acme/widgets", "title": "Crash on start", "token": "ghp_x"}));
    r
}

fn start(dir: &Path, fsync: Fsync) -> Audit {
    let cfg = AuditConfig {
        file: Some(dir.join("audit.jsonl")),
        fsync,
        max_file_bytes: 64 * 1024 * 1024,
        ..AuditConfig::default()
    };
    Audit::start(&cfg, dir).unwrap()
}

/// `n` records from `tasks` concurrent callers, each awaiting its own `record()`.
async fn load(audit: &Audit, n: u64, tasks: u64) -> Vec<Duration> {
    let mut handles = Vec::new();
    for t in 0..tasks {
        let audit = audit.clone();
        let share = n / tasks + u64::from(t < n % tasks);
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(share as usize);
            for i in 0..share {
                let rec = record(t * 1_000_000 + i);
                let t0 = Instant::now();
                audit.record(rec).await.unwrap();
                lat.push(t0.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn throughput(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Elements(1));
    for (name, fsync, tasks) in [
        ("record/fsync_never/1_caller", Fsync::Never, 1),
        ("record/fsync_never/64_callers", Fsync::Never, 64),
        (
            "record/fsync_every_record/64_callers",
            Fsync::EveryRecord,
            64,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let audit = start(dir.path(), fsync);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let t0 = Instant::now();
                    load(&audit, iters, tasks.min(iters.max(1))).await;
                    t0.elapsed()
                })
            })
        });
        rt.block_on(audit.shutdown()).unwrap();
    }
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Criterion reports means; the tail is what a caller feels, so measure it directly.
fn latency_percentiles(_c: &mut Criterion) {
    let rt = runtime();
    println!();
    println!("audit record() latency (added to each audited call), file sink:");
    for (name, fsync, tasks, n) in [
        ("fsync never, 1 caller", Fsync::Never, 1, 50_000),
        ("fsync never, 64 callers", Fsync::Never, 64, 200_000),
        ("fsync every_record, 1 caller", Fsync::EveryRecord, 1, 2_000),
        (
            "fsync every_record, 64 callers",
            Fsync::EveryRecord,
            64,
            20_000,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let audit = start(dir.path(), fsync);
        // Warm up the file, the allocator and the runtime.
        rt.block_on(load(&audit, n / 10, tasks));
        let t0 = Instant::now();
        let mut lat = rt.block_on(load(&audit, n, tasks));
        let wall = t0.elapsed();
        rt.block_on(audit.shutdown()).unwrap();
        lat.sort();
        println!(
            "  {name:<32} {:>9.0} records/s   p50 {:>8.1?}   p99 {:>8.1?}   p99.9 {:>8.1?}   max {:>8.1?}",
            n as f64 / wall.as_secs_f64(),
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
            percentile(&lat, 0.999),
            lat.last().copied().unwrap_or_default(),
        );
    }
    println!();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = latency_percentiles, throughput
}
criterion_main!(benches);
