//! The `find_tool` retrieval benchmark: 95 hand-written natural queries over a real 115-tool
//! catalog (9 npm MCP servers, captured once through the gateway into
//! `tests/data/meta_catalog.json` with `portcullis catalog export`; see that test data's
//! README section), scored as recall@1, recall@5 and MRR for keyword-only BM25 and for the full
//! pipeline (BM25F with stemming, field weights and synonym expansion). A query is a
//! *paraphrase* when it shares no stemmed word with any tool that answers it; keywords alone
//! can only find those by luck.
//!
//! `cargo test --test meta_retrieval -- --nocapture` prints the table in the README.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use portcullis::meta::index::{DocInput, Index, Mode};
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
}

impl Score {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
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

#[test]
fn retrieval_benchmark() {
    let catalog = data("meta_catalog.json");
    let tools = catalog["tools"].as_array().unwrap();
    assert!(
        tools.len() >= 100,
        "the benchmark needs a 100+ tool catalog"
    );
    let queries = data("meta_queries.json");
    let queries = queries["queries"].as_array().unwrap();
    assert!(queries.len() >= 60);

    let lexicon = Arc::new(portcullis::meta::lexicon(&Default::default()));
    let index = Index::build(
        lexicon.clone(),
        tools.iter().map(|t| {
            let name = t["name"].as_str().unwrap();
            DocInput {
                name,
                backend: name.split_once("__").map(|(b, _)| b),
                definition: t,
            }
        }),
    );
    let by_name: std::collections::HashMap<&str, &Value> = tools
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t))
        .collect();

    // [class][mode]: class 0 = keyword, 1 = paraphrase, 2 = all; mode 0 = keywords, 1 = full.
    let mut scores = [[Score::default(); 2]; 3];
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
            let t = by_name.get(e).unwrap_or_else(|| panic!("unknown tool {e}"));
            !tool_terms(&lexicon.analyzer, t).is_disjoint(&qterms)
        });
        let class = if shared { 0 } else { 1 };
        for (m, mode) in [Mode::Keywords, Mode::Expanded].into_iter().enumerate() {
            let hits = index.search(text, index.len(), mode, |_| true);
            let rank = hits
                .iter()
                .position(|h| expected.contains(&index.name(h.doc).unwrap()))
                .map(|p| p + 1);
            scores[class][m].add(rank);
            scores[2][m].add(rank);
            if mode == Mode::Expanded && rank.is_none_or(|r| r > 1) {
                let top: Vec<&str> = hits
                    .iter()
                    .take(3)
                    .map(|h| index.name(h.doc).unwrap())
                    .collect();
                misses.push(format!(
                    "  {} `{text}` → rank {:?}, top {top:?}, want {expected:?}",
                    ["keyword", "paraphrase"][class],
                    rank
                ));
            }
        }
    }
    println!(
        "\nfind_tool retrieval: {} queries over {} tools\n",
        queries.len(),
        tools.len()
    );
    println!("| queries | n | method | recall@1 | recall@5 | MRR |");
    println!("|---|---|---|---|---|---|");
    for (c, label) in [
        "sharing a word with the tool",
        "paraphrases (no shared word)",
        "all",
    ]
    .iter()
    .enumerate()
    {
        for (m, method) in ["keywords only (BM25)", "full pipeline"].iter().enumerate() {
            let s = scores[c][m];
            println!(
                "| {label} | {} | {method} | {:.2} | {:.2} | {:.2} |",
                s.n,
                s.r1(),
                s.r5(),
                s.mrr()
            );
        }
    }
    println!("\nnot first with the full pipeline:\n{}", misses.join("\n"));

    let all = scores[2][1];
    let para = scores[1];
    assert!(
        para[0].n >= 20,
        "the query set needs paraphrases (has {})",
        para[0].n
    );
    assert!(
        all.r5() >= 0.95,
        "recall@5 of the full pipeline fell to {:.3}",
        all.r5()
    );
    assert!(
        para[1].r5() >= para[0].r5() + 0.5,
        "synonyms no longer close the paraphrase gap: {:.2} vs {:.2}",
        para[1].r5(),
        para[0].r5()
    );
}
