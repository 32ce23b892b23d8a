//! Memory taken by the poisoning scan's compiled rules: scans the reference servers' tools
//! twice and prints how much the process grew. RSS is coarse (freed compile-time memory stays
//! with the allocator); for the heap itself run it under massif:
//! `valgrind --tool=massif cargo-target/debug/examples/scan_heap`, then `ms_print`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portcullis::integrity::Kind;
use portcullis::integrity::findings::Scanner;
use serde_json::Value;

fn rss_kb() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/poisoning/reference_catalogs.json"
    );
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let scanner = Scanner::new("x", &[]);
    let before = rss_kb();
    let t = std::time::Instant::now();
    let mut n = 0;
    for round in 0..2 {
        for (_, v) in reference.as_object().unwrap() {
            for def in v["tools"].as_array().into_iter().flatten() {
                n += scanner.scan(def, Kind::Tool).len();
            }
        }
        if round == 0 {
            println!("first pass {:?}", t.elapsed());
        }
    }
    let after = rss_kb();
    println!(
        "findings {n}; RSS grown by the scan {:.1} MB, total {:?}",
        (after - before) as f64 / 1e3,
        t.elapsed()
    );
}
