//! The e2e bench's report: the table, memory and audit lines, and what the chain adds per era
//! (and over a baseline binary). Part of `benches/e2e.rs` (included there as `mod report`).

use std::time::Duration;

use super::{Run, TOOL};

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews every number here.
pub(super) fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn print_report(
    load_at_start: &str,
    backend: &str,
    rows: &[(&str, usize, Run)],
    idle: (u64, u64),
    after: &[(usize, (u64, u64))],
    audited: usize,
) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!("e2e: tools/call `{TOOL}` against {backend}, direct vs through portcullis");
    println!(
        "     gateway chain: TLS (rustls, HTTP/1.1) + JWT ES256 (dev key) + Cedar (2 policies) + limits (4 limiters) + audit (file, fsync 1 s) + integrity (pins, trust on first use)"
    );
    println!(
        "     no checks: the same gateway binary with TLS only: anonymous callers, no policy, no limits, no audit, integrity off"
    );
    println!(
        "     floor: a bare TLS reverse proxy (rustls + hyper server + reqwest client, nothing else) in front of the same backend"
    );
    println!(
        "     {cpus} CPUs shared by backend, gateway and load generator; load average {load_at_start} at start, {} at end",
        load_average()
    );
    println!();
    println!(
        "| target       | concurrency | calls  | p50 µs | p99 µs | calls/s | vs direct | CPU µs/call: backend / proxy / client |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, conc, r) in rows {
        let baseline = if name.starts_with("2026") {
            "2026 direct"
        } else {
            "direct"
        };
        let direct = rows
            .iter()
            .find(|(n, c, _)| *n == baseline && c == conc)
            .map(|(_, _, r)| r);
        let vs = match (name, direct) {
            (n, _) if *n == baseline => "-".into(),
            (_, None) => "-".into(),
            (_, Some(d)) if *conc == 1 => format!(
                "+{:.0} µs p50, +{:.0} µs p99",
                us(r.percentile(0.5)) - us(d.percentile(0.5)),
                us(r.percentile(0.99)) - us(d.percentile(0.99)),
            ),
            (_, Some(d)) => {
                format!("{:.0}% of direct throughput", 100.0 * r.rate() / d.rate())
            }
        };
        let per_call = |d: Duration| us(d) / r.latencies.len() as f64;
        let gateway_cpu = if *name != baseline {
            format!("{:.0}", per_call(r.cpu[1]))
        } else {
            "-".into()
        };
        println!(
            "| {name:<12} | {conc:>11} | {:>6} | {:>6.0} | {:>6.0} | {:>7.0} | {vs} | {:.0} / {gateway_cpu} / {:.0} |",
            r.latencies.len(),
            us(r.percentile(0.5)),
            us(r.percentile(0.99)),
            r.rate(),
            per_call(r.cpu[0]),
            per_call(r.cpu[2]),
        );
    }
    println!();
    let mib = |k: u64| k as f64 / 1024.0;
    print!(
        "gateway memory: idle VmRSS {:.1} MiB (VmHWM {:.1})",
        mib(idle.0),
        mib(idle.1)
    );
    for (conc, (rss, hwm)) in after {
        print!(
            "; after c={conc} VmRSS {:.1} MiB (VmHWM {:.1})",
            mib(*rss),
            mib(*hwm)
        );
    }
    println!();
    println!(
        "audit: {audited} call records, all `allow`, chain verifies; `{TOOL}` pinned in portcullis.lock"
    );
    println!();
}

/// What the gateway adds in each era, from the same run: p50/p99 over direct at concurrency 1,
/// share of direct throughput at 16.
pub(super) fn print_eras(rows: &[(&str, usize, Run)]) {
    let find = |name: &str, conc: usize| {
        rows.iter()
            .find(|(n, c, _)| *n == name && *c == conc)
            .map(|(_, _, r)| r)
    };
    println!("what the full chain adds, per era (same run, same backend process):");
    for (era, direct, gateway) in [
        ("2025-11-25 (session)", "direct", "gateway"),
        ("2026-07-28 (stateless)", "2026 direct", "2026 gateway"),
    ] {
        let (Some(d1), Some(g1), Some(d16), Some(g16)) = (
            find(direct, 1),
            find(gateway, 1),
            find(direct, 16),
            find(gateway, 16),
        ) else {
            continue;
        };
        println!(
            "  {era:<23} c=1: +{:.0} µs p50, +{:.0} µs p99; c=16: {:.0}% of direct throughput",
            us(g1.percentile(0.5)) - us(d1.percentile(0.5)),
            us(g1.percentile(0.99)) - us(d1.percentile(0.99)),
            100.0 * g16.rate() / d16.rate()
        );
    }
    if let (Some(d1), Some(g1), Some(b1), Some(d16), Some(g16), Some(b16)) = (
        find("direct", 1),
        find("gateway", 1),
        find("baseline", 1),
        find("direct", 16),
        find("gateway", 16),
        find("baseline", 16),
    ) {
        println!(
            "  this build vs the baseline binary (2025): c=1 +{:.0} vs +{:.0} µs p50; c=16 {:.0}% vs {:.0}% of direct throughput",
            us(g1.percentile(0.5)) - us(d1.percentile(0.5)),
            us(b1.percentile(0.5)) - us(d1.percentile(0.5)),
            100.0 * g16.rate() / d16.rate(),
            100.0 * b16.rate() / d16.rate()
        );
    }
    // Against the peer (plain HTTP; the other rows pay TLS): the full chain and the MCP
    // handling alone.
    if let (Some(d1), Some(p1), Some(d16), Some(p16)) = (
        find("direct", 1),
        find("peer", 1),
        find("direct", 16),
        find("peer", 16),
    ) {
        for row in ["gateway", "no checks"] {
            let (Some(r1), Some(r16)) = (find(row, 1), find(row, 16)) else {
                continue;
            };
            println!(
                "  {row} vs the peer (mcp-proxy, plain HTTP): c=1 +{:.0} vs +{:.0} µs p50; c=16 {:.0}% vs {:.0}% of direct throughput; CPU {:.0} vs {:.0} µs/call in the middle at c=16",
                us(r1.percentile(0.5)) - us(d1.percentile(0.5)),
                us(p1.percentile(0.5)) - us(d1.percentile(0.5)),
                100.0 * r16.rate() / d16.rate(),
                100.0 * p16.rate() / d16.rate(),
                us(r16.cpu[1]) / r16.latencies.len() as f64,
                us(p16.cpu[1]) / p16.latencies.len() as f64,
            );
        }
    }
    println!();
}
