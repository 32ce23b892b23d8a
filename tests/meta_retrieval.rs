//! The `find_tool` retrieval benchmark over a real 115-tool catalog (9 npm MCP servers,
//! captured once through the gateway into `tests/data/meta_catalog.json` with
//! `portcullis catalog export`), on seven query sets of realistic agent needs, all of them now
//! **tuning data** (the ranker's weights, blend, hints, idioms and word tables were chosen while
//! looking at their results, so their figures overstate what a new need gets):
//!
//! - `meta_queries.json`, round 1 (187 needs);
//! - `meta_queries_round2.json`, round 2 (132 needs): first written as a held-out set after the
//!   ranker was frozen and measured once as such (recall@5 0.886 overall, 0.586 without a
//!   shared word), then opened for tuning;
//! - `meta_queries_heldout.json`, held-out set 2 (130 needs): written blind to the ranker (its
//!   author read only the catalog) and measured once after the second freeze (recall@5 0.908
//!   overall, 0.738 without a shared word), then opened for tuning;
//! - `meta_queries_heldout3.json`, held-out set 3 (165 needs): written blind to the ranker and
//!   measured once after the third freeze (recall@5 0.891 overall, 0.782 without a shared
//!   word), then opened for tuning in round 4;
//! - `meta_queries_round4.json`, round 4 (128 needs): written from the catalog by round 4's
//!   tuner before running the ranker on them (recall@5 0.883 / 0.812 on the ranker of the third
//!   freeze), a check of generalisation while tuning, not a blind set;
//! - `meta_queries_heldout4.json`, set 4 (172 needs): written blind to the ranker while round 4
//!   was tuned and measured once after its freeze (recall@5 0.936 overall, 0.862 without a
//!   shared word), then opened for tuning in round 5;
//! - `meta_queries_round5.json`, round 5 (108 needs): written from the catalog by round 5's
//!   tuner after the round's first change and before running the ranker on them (recall@5
//!   0.917 / 0.889 on round 4's ranker, 0.944 / 0.917 after that first change), a smoke check.
//!
//! and one **held-out** set, `meta_queries_heldout5.json` (176 needs): written blind to the
//! ranker while round 5 was tuned and measured once after its freeze (`held_out_set_5`);
//! never tune on it. The honest estimate of a round is the next blind set, measured once after
//! its freeze.
//!
//! Each is scored as recall@1, recall@5 and MRR for keyword-only BM25, the keyword pipeline
//! (BM25F with stemming, field weights and synonyms) and the full ranking (`Mode::Semantic`:
//! the keyword pipeline blended with static word vectors), overall and on the needs that share
//! no stemmed word with any tool that answers them (computed, not labelled by hand). Issue 16's
//! targets are recall@5 ≥ 0.95 overall and ≥ 0.75 without a shared word, to be judged on a
//! set the ranker was not tuned on; here each set asserts what it measured as a floor (see
//! `assert_floors`), no empty answer, and that the static vectors never lose recall against
//! keywords alone. `typos` measures the same needs with a misspelt word.
//!
//! `cargo test --test meta_retrieval -- --nocapture` prints the tables of `docs/find-tool.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use portcullis::meta::index::{DocInput, Index, Lexicon, Mode};
use portcullis::meta::text::Analyzer;
use serde_json::Value;

fn data(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Every stemmed word of a tool's indexed text.
fn tool_terms(a: &Analyzer, t: &Value) -> HashSet<String> {
    let mut text = String::new();
    for k in ["name", "title", "description"] {
        text.push_str(t[k].as_str().unwrap_or(""));
        text.push(' ');
    }
    if let Some(p) = t["inputSchema"]["properties"].as_object() {
        for (k, v) in p {
            text.push_str(k);
            text.push(' ');
            text.push_str(v["description"].as_str().unwrap_or(""));
            text.push(' ');
        }
    }
    a.terms(&text).into_iter().collect()
}

#[derive(Default, Clone, Copy)]
struct Score {
    n: usize,
    at1: usize,
    at5: usize,
    rr: f64,
    empty: usize,
}

impl Score {
    fn add(&mut self, rank: Option<usize>, empty: bool) {
        self.n += 1;
        if empty {
            self.empty += 1;
        }
        if let Some(r) = rank {
            if r == 1 {
                self.at1 += 1;
            }
            if r <= 5 {
                self.at5 += 1;
            }
            self.rr += 1.0 / r as f64;
        }
    }
    fn r1(&self) -> f64 {
        self.at1 as f64 / self.n.max(1) as f64
    }
    fn r5(&self) -> f64 {
        self.at5 as f64 / self.n.max(1) as f64
    }
    fn mrr(&self) -> f64 {
        self.rr / self.n.max(1) as f64
    }
}

const MODES: [(Mode, &str); 3] = [
    (Mode::Keywords, "keywords only (BM25)"),
    (Mode::Expanded, "BM25F + synonyms"),
    (Mode::Semantic, "full ranking (+ static vectors)"),
];
const CLASSES: [&str; 3] = ["sharing a word with the tool", "no shared word", "all"];

struct Report {
    /// [class][mode]
    scores: [[Score; 3]; 3],
    misses: Vec<String>,
}

fn catalog() -> Vec<Value> {
    let catalog = data("meta_catalog.json");
    let tools = catalog["tools"].as_array().unwrap().clone();
    assert!(
        tools.len() >= 100,
        "the benchmark needs a 100+ tool catalog"
    );
    tools
}

fn index(lexicon: &Arc<Lexicon>, tools: &[Value]) -> Index {
    Index::build(
        lexicon.clone(),
        tools.iter().map(|t| {
            let name = t["name"].as_str().unwrap();
            DocInput {
                name,
                backend: name.split_once("__").map(|(b, _)| b),
                definition: t,
            }
        }),
    )
}

fn evaluate(file: &str) -> Report {
    let tools = catalog();
    let queries = data(file);
    let queries = queries["queries"].as_array().unwrap();
    assert!(queries.len() >= 100, "{file}: a query set needs 100+ needs");
    let lexicon = Arc::new(portcullis::meta::lexicon(&Default::default()));
    assert!(
        lexicon.vectors.is_some(),
        "the built-in static vectors load"
    );
    let index = index(&lexicon, &tools);
    let by_name: HashMap<&str, &Value> = tools
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t))
        .collect();
    let mut scores = [[Score::default(); 3]; 3];
    let mut misses = Vec::new();
    for q in queries {
        let text = q["query"].as_str().unwrap();
        let expected: Vec<&str> = q["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        let qterms: HashSet<String> = lexicon.analyzer.terms(text).into_iter().collect();
        let shared = expected.iter().any(|e| {
            let t = by_name
                .get(e)
                .unwrap_or_else(|| panic!("{file}: unknown tool {e}"));
            !tool_terms(&lexicon.analyzer, t).is_disjoint(&qterms)
        });
        let class = if shared { 0 } else { 1 };
        for (m, (mode, _)) in MODES.iter().enumerate() {
            let empty = index.search(text, 5, *mode, |_| true).is_empty();
            let hits = index.search(text, index.len(), *mode, |_| true);
            let rank = hits
                .iter()
                .position(|h| expected.contains(&index.name(h.doc).unwrap()))
                .map(|p| p + 1);
            scores[class][m].add(rank, empty);
            scores[2][m].add(rank, empty);
            if *mode == Mode::Semantic && rank.is_none_or(|r| r > 1) {
                let top: Vec<&str> = hits
                    .iter()
                    .take(3)
                    .map(|h| index.name(h.doc).unwrap())
                    .collect();
                misses.push(format!(
                    "  {} `{text}` → rank {:?}, top {top:?}, want {expected:?}",
                    ["shared", "no-shared"][class],
                    rank
                ));
            }
        }
    }
    println!(
        "\n{file}: {} needs over {} tools\n",
        queries.len(),
        tools.len()
    );
    println!("| needs | n | method | recall@1 | recall@5 | MRR | empty answers |");
    println!("|---|---|---|---|---|---|---|");
    for (c, label) in CLASSES.iter().enumerate() {
        for (m, (_, method)) in MODES.iter().enumerate() {
            let s = scores[c][m];
            println!(
                "| {label} | {} | {method} | {:.3} | {:.3} | {:.3} | {} |",
                s.n,
                s.r1(),
                s.r5(),
                s.mrr(),
                s.empty
            );
        }
    }
    println!("\nnot first with the full ranking:\n{}", misses.join("\n"));
    Report { scores, misses }
}

/// Issue 16's targets for the full ranking: recall@5 overall and without a shared word.
const TARGET_ALL: f64 = 0.95;
const TARGET_NO_SHARED: f64 = 0.75;

/// What the frozen ranker measured (docs/find-tool.md), rounded down, asserted as floors so a
/// change that loses ground fails; the targets are printed beside them. All seven sets
/// are tuning data, so these floors are measurements of fit, not evidence that the targets are
/// met on new needs; the next blind set, measured once, is that evidence.
fn assert_floors(file: &str, r: &Report, all_floor: f64, no_shared_floor: f64) {
    let all = r.scores[2][2];
    let no_shared = r.scores[1][2];
    let expanded = r.scores[2][1];
    println!(
        "\n{file}: recall@5 {:.3} overall (target {TARGET_ALL}), {:.3} without a shared word (target {TARGET_NO_SHARED})",
        all.r5(),
        no_shared.r5()
    );
    assert!(
        no_shared.n >= 25,
        "{file}: the set needs 25+ needs that share no word with their tool (has {})",
        no_shared.n
    );
    assert_eq!(all.empty, 0, "{file}: an empty answer with tools visible");
    assert!(
        all.r5() >= expanded.r5(),
        "{file}: the static vectors lose recall@5 against keywords and synonyms alone"
    );
    assert!(
        all.r5() >= all_floor,
        "{file}: recall@5 of the full ranking fell to {:.3} (measured {all_floor}); misses:\n{}",
        all.r5(),
        r.misses.join("\n")
    );
    assert!(
        no_shared.r5() >= no_shared_floor,
        "{file}: recall@5 without a shared word fell to {:.3} (measured {no_shared_floor}); misses:\n{}",
        no_shared.r5(),
        r.misses.join("\n")
    );
}

#[test]
fn tuning_set() {
    let r = evaluate("meta_queries.json");
    assert_floors("meta_queries.json", &r, 0.98, 0.97);
}

#[test]
fn tuning_set_round_2() {
    let r = evaluate("meta_queries_round2.json");
    assert_floors("meta_queries_round2.json", &r, 0.99, 0.96);
}

/// Held-out set 2: written by someone who never saw the ranker, its code or the other query
/// files, and measured once after the second freeze (recall@5 0.908 overall, 0.738 without a
/// shared word); since then tuning data like round 2.
#[test]
fn tuning_set_2() {
    let r = evaluate("meta_queries_heldout.json");
    assert_floors("meta_queries_heldout.json", &r, 0.99, 0.97);
}

/// Held-out set 3 (165 needs): written blind to the ranker (its author read only the catalog)
/// while round 3's ranker was tuned, measured once after that freeze: recall@5 0.891 overall
/// (issue 16's 0.95 not met), 0.782 on the 55 needs without a shared word (its 0.75 met). Then
/// opened for tuning in round 4, whose ranker measures 0.982 / 1.000 on it in-sample (its
/// misses were read while tuning); the floors are the in-sample figures, one need below 1.000
/// without a shared word.
#[test]
fn tuning_set_3() {
    let r = evaluate("meta_queries_heldout3.json");
    assert_floors("meta_queries_heldout3.json", &r, 0.98, 0.98);
    // Round 5 measures 0.988 / 1.000 on it.
}

/// Round 4 (128 needs): written from the catalog alone by round 4's tuner before the ranker
/// was run on them, as a check that a change generalises beyond the sets it was chosen on:
/// recall@5 0.883 overall, 0.812 on the 48 needs without a shared word, on the ranker of the
/// third freeze. Its misses were then read too, so round 4's 0.961 / 0.917 is in-sample. The
/// same person tuned the ranker, so it is a smoke check, not a blind set.
#[test]
fn tuning_set_round_4() {
    let r = evaluate("meta_queries_round4.json");
    assert_floors("meta_queries_round4.json", &r, 0.96, 0.93);
}

/// Round 5 (108 needs): written from the catalog alone by round 5's tuner after the round's
/// first change and before the ranker was run on them, as a check that the mechanisms read from
/// set 4's misses carry to new wording. The same person wrote and tuned, so a smoke check.
#[test]
fn tuning_set_round_5() {
    let r = evaluate("meta_queries_round5.json");
    assert_floors("meta_queries_round5.json", &r, 0.99, 0.97);
}

/// Set 4 (172 needs): written blind to the ranker (its author read only the catalog) while
/// round 4's ranker was tuned, measured once after that freeze: recall@5 0.936 overall (161 of
/// 172; issue 16's 0.95 not met, three needs short), 0.862 on the 65 needs without a shared word
/// (its 0.75 met), MRR 0.809. Then opened for tuning in round 5, whose ranker measures 0.988 /
/// 0.985, MRR 0.851 on it in-sample (its misses were read while tuning).
#[test]
fn tuning_set_4() {
    let r = evaluate("meta_queries_heldout4.json");
    assert_floors("meta_queries_heldout4.json", &r, 0.98, 0.98);
}

/// Held-out set 5 (176 needs): written blind to the ranker (its author read only the catalog)
/// while round 5's ranker was tuned, measured once after that freeze: recall@5 0.938 overall
/// (165 of 176; issue 16's 0.95 not met, three needs short), 0.870 on the 69 needs without a
/// shared word (its 0.75 met), MRR 0.824. The floors are those measurements; never tune on it.
#[test]
fn held_out_set_5() {
    let r = evaluate("meta_queries_heldout5.json");
    assert_floors("meta_queries_heldout5.json", &r, 0.93, 0.86);
}

/// One typo per need, made the same way every run: in the need's longest word of six letters or
/// more, the third and fourth letters swapped (`directory` → `dircetory`). Returns recall@5 of
/// the full ranking over the needs that have such a word, and how many they are.
fn typo_recall(file: &str) -> (f64, usize) {
    let tools = catalog();
    let lexicon = Arc::new(portcullis::meta::lexicon(&Default::default()));
    let index = index(&lexicon, &tools);
    let queries = data(file);
    let mut n = 0;
    let mut found = 0;
    for q in queries["queries"].as_array().unwrap() {
        let text = q["query"].as_str().unwrap();
        let Some(long) = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 6)
            .max_by_key(|w| w.len())
        else {
            continue;
        };
        let b = long.as_bytes();
        if b[2] == b[3] {
            continue;
        }
        let mut typo = b.to_vec();
        typo.swap(2, 3);
        let typo = String::from_utf8(typo).unwrap();
        let text = text.replacen(long, &typo, 1);
        let expected: Vec<&str> = q["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        n += 1;
        let hits = index.search(&text, 5, Mode::Semantic, |_| true);
        if hits
            .iter()
            .any(|h| expected.contains(&index.name(h.doc).unwrap()))
        {
            found += 1;
        }
    }
    (found as f64 / n.max(1) as f64, n)
}

/// A misspelt word loses little: over all seven sets, recall@5 with one typo per need (see
/// [`typo_recall`]) against the floor it measured (round 5's ranker: 0.943, 0.955, 0.955,
/// 0.958, 0.883, 0.946, 0.967; round 4's: 0.943, 0.955, 0.955, 0.938, 0.874; round 3's: 0.937, 0.955, 0.955, 0.833, 0.820; round 3's without the typo
/// matching of `Index::query` on the first three: 0.886, 0.918, 0.929).
#[test]
fn typos() {
    for (file, floor) in [
        ("meta_queries.json", 0.94),
        ("meta_queries_round2.json", 0.95),
        ("meta_queries_heldout.json", 0.95),
        ("meta_queries_heldout3.json", 0.95),
        ("meta_queries_round4.json", 0.88),
        ("meta_queries_heldout4.json", 0.94),
        ("meta_queries_round5.json", 0.96),
    ] {
        let (r5, n) = typo_recall(file);
        println!("{file}: recall@5 with one typo per need {r5:.3} ({n} needs)");
        assert!(
            r5 >= floor,
            "{file}: recall@5 with a typo fell to {r5:.3} (measured {floor})"
        );
    }
}
