//! Pinning cost: `integrity::hash_definition` (pinned subset, RFC 8785 canonical form, SHA-256)
//! of a realistic tool definition, once and for a 500-tool catalog as a backend lists it.
//!
//! Run: `cargo bench --bench integrity`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis::integrity::{Kind, hash_definition};
use serde_json::Value;

#[path = "support/github_tool.rs"]
mod github_tool;
use github_tool::tool;

fn bench(c: &mut Criterion) {
    let one = tool(0);
    let catalog: Vec<Value> = (0..500).map(tool).collect();
    if let Err(e) = hash_definition(Kind::Tool, &one) {
        eprintln!("the bench tool does not hash: {e}");
        std::process::exit(1);
    }
    let mut g = c.benchmark_group("hash_definition");
    g.throughput(Throughput::Elements(1));
    g.bench_function("tool", |b| {
        b.iter(|| black_box(hash_definition(Kind::Tool, black_box(&one))))
    });
    g.throughput(Throughput::Elements(catalog.len() as u64));
    g.bench_function("catalog_500_tools", |b| {
        b.iter(|| {
            for t in &catalog {
                let _ = black_box(hash_definition(Kind::Tool, black_box(t)));
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
