//! `Limits::check_call` cost with every dimension configured, for 1, 1 000 and 100 000
//! distinct principals (one map entry each per keyed limiter). Rates are high enough that every
//! call is admitted: this measures the path every allowed call takes (peek all four limiters,
//! then record in all four). A refused call stops after the peeks and is cheaper.
//!
//! `cargo bench --bench limits`; criterion prints the time per call (ns/op).

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use portcullis::config::Config;

const CONFIG: &str = r#"
[listen]
address = "127.0.0.1:0"
[auth]
mode = "anonymous"
dangerous_allow_anonymous = true
[[backend]]
name = "github"
url = "http://github.invalid:1/mcp"

[limits]
global = "1000000000/s"
per_backend = "1000000000/s"
per_principal = "1000000000/s"
per_principal_tool = "1000000000/s"
[limits.tool."github/delete_repo"]
per_principal = "1000000000/s"
"#;

fn check_call(c: &mut Criterion) {
    let cfg = match Config::parse(CONFIG, "bench.toml", Path::new(".")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench config: {e}");
            return;
        }
    };
    let mut group = c.benchmark_group("check_call");
    group.throughput(Throughput::Elements(1));
    for principals in [1usize, 1_000, 100_000] {
        let limits = match portcullis::gateway::limits(&cfg) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("limits: {e}");
                return;
            }
        };
        let names: Vec<String> = (0..principals)
            .map(|i| format!("https://idp.example.com/|user-{i:08}"))
            .collect();
        // Warm the maps so the measured calls find their keys (the steady state).
        for n in &names {
            let _ = limits.check_call(n, "github", "github__create_issue", "create_issue");
        }
        group.bench_with_input(
            BenchmarkId::from_parameter(principals),
            &principals,
            |b, _| {
                let mut i = 0usize;
                b.iter(|| {
                    i = (i + 1) % names.len();
                    let who = names.get(i).map_or("", String::as_str);
                    black_box(limits.check_call(
                        black_box(who),
                        "github",
                        "github__create_issue",
                        "create_issue",
                    ))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, check_call);
criterion_main!(benches);
