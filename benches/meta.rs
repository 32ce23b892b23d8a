//! `find_tool` latency over 10,000 tools: the real 115-tool catalog of
//! `tests/data/meta_catalog.json` under 87 backend names (10,005 tools whose words are those of
//! real tool descriptions, so the posting lists of common words such as "file" are long), and
//! the 187 needs of the retrieval tuning set in turn. Measures the search itself: query
//! analysis, synonym and neighbour-word expansion, BM25F scoring, the static-vector cosine of
//! every admitted tool (`Mode::Semantic`, what `find_tool` runs), the visibility filter and the
//! top-5 selection; and the index build (once per catalog version and policy slice, see
//! `meta::cache`). The
//! policy decisions that make the visibility mask are measured by `benches/policy.rs`.
//!
//! Run: `cargo bench --bench meta`.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis::meta::index::{DocInput, Index, Mode};
use serde_json::Value;

const COPIES: usize = 87;

fn load(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_default()).unwrap_or(Value::Null)
}

fn catalog() -> Vec<(String, String, Value)> {
    let base = load("meta_catalog.json");
    let tools = base
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for c in 0..COPIES {
        for t in &tools {
            let name = t.get("name").and_then(Value::as_str).unwrap_or("");
            let (backend, original) = name.split_once("__").unwrap_or(("x", name));
            let b = format!("{backend}{c}");
            out.push((format!("{b}__{original}"), b, t.clone()));
        }
    }
    out
}

fn queries() -> Vec<String> {
    load("meta_queries.json")
        .get("queries")
        .and_then(Value::as_array)
        .map(|q| {
            q.iter()
                .filter_map(|x| x.get("query").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn build(tools: &[(String, String, Value)]) -> Index {
    Index::build(
        Arc::new(portcullis::meta::lexicon(&Default::default())),
        tools.iter().map(|(n, b, d)| DocInput {
            name: n,
            backend: Some(b),
            definition: d,
        }),
    )
}

fn bench(c: &mut Criterion) {
    let tools = catalog();
    let qs = queries();
    assert!(tools.len() >= 10_000 && !qs.is_empty(), "test data missing");
    let started = std::time::Instant::now();
    let index = build(&tools);
    println!(
        "index of {} tools built in {:.1} ms",
        index.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    // A principal who may see 90% of the catalog (every tenth tool hidden).
    let allowed: Vec<bool> = (0..index.len()).map(|i| i % 10 != 0).collect();
    let next = Cell::new(0usize);
    let pick = || {
        let i = next.get();
        next.set(i + 1);
        qs.get(i % qs.len()).map(String::as_str).unwrap_or("")
    };
    c.bench_function(
        "find_tool 10k tools, full ranking (static vectors), top 5",
        |b| {
            b.iter(|| {
                let q = pick();
                black_box(index.search(black_box(q), 5, Mode::Semantic, |d| {
                    allowed.get(d as usize).copied().unwrap_or(false)
                }))
            })
        },
    );
    c.bench_function("find_tool 10k tools, BM25F + synonyms, top 5", |b| {
        b.iter(|| {
            let q = pick();
            black_box(index.search(black_box(q), 5, Mode::Expanded, |d| {
                allowed.get(d as usize).copied().unwrap_or(false)
            }))
        })
    });
    c.bench_function("find_tool 10k tools, keywords only, top 5", |b| {
        b.iter(|| {
            let q = pick();
            black_box(index.search(black_box(q), 5, Mode::Keywords, |d| {
                allowed.get(d as usize).copied().unwrap_or(false)
            }))
        })
    });
    let mut g = c.benchmark_group("index build");
    g.sample_size(10);
    g.bench_function("10k tools", |b| b.iter(|| black_box(build(&tools))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
