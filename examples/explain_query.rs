//! How `find_tool` analyses and ranks one query over the retrieval benchmark's catalog
//! (`tests/data/meta_catalog.json`): terms, synonyms, top hits with scores.
//!
//! `cargo run --example explain_query -- "what's in this folder"`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use portcullis::meta::index::{DocInput, Index, Mode};
use serde_json::Value;

fn main() {
    let q = std::env::args().nth(1).expect("usage: explain_query QUERY");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/meta_catalog.json");
    let catalog: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let tools = catalog["tools"].as_array().unwrap();
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
    println!("terms {:?}", lexicon.analyzer.terms(&q));
    for t in lexicon.analyzer.terms(&q) {
        println!("  {t} -> {:?}", lexicon.synonyms.of(&t));
    }
    for h in index.search(&q, 8, Mode::Expanded, |_| true) {
        println!("{:.3} {}", h.score, index.name(h.doc).unwrap());
    }
}
