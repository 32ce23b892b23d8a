//! `find_tool`'s reading of a caller's need (`meta::idioms`: names, paths, URLs, quotes and
//! idioms; the typo matching and vector text of `meta::index`), over the real 115-tool catalog
//! (`tests/data/meta_catalog.json`) in every mode. The need is client input, at most 2,048
//! bytes at the router (`MAX_QUERY_BYTES`). Never a panic, and:
//!
//! * what the reading drops and what it hints are non-empty words;
//! * a search returns at most `k` hits, each a catalog document with a finite score, best
//!   first, no document twice; the same need gives the same answer twice;
//! * a need the filter admits nothing of gets no hit.
#![no_main]

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use portcullis::meta::idioms;
use portcullis::meta::index::{DocInput, Index, Mode};
use serde_json::Value;

const MAX_QUERY_BYTES: usize = 2048;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let catalog: Value =
            serde_json::from_str(include_str!("../../tests/data/meta_catalog.json"))
                .expect("the catalog parses");
        let tools = catalog["tools"].as_array().expect("a tool list").clone();
        let lexicon = Arc::new(portcullis::meta::lexicon(&Default::default()));
        Index::build(
            lexicon,
            tools.iter().map(|t| {
                let name = t["name"].as_str().expect("a tool name");
                DocInput {
                    name,
                    backend: name.split_once("__").map(|(b, _)| b),
                    definition: t,
                }
            }),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let query: &str = match text.char_indices().nth(MAX_QUERY_BYTES) {
        Some((end, _)) => &text[..end],
        None => &text,
    };
    if query.len() > MAX_QUERY_BYTES {
        return;
    }
    let reading = idioms::read(query);
    for w in reading.drop.iter().chain(&reading.hints) {
        assert!(!w.trim().is_empty(), "an empty word read from {query:?}");
    }
    let ix = index();
    let k = usize::from(k % 8) + 1;
    for mode in [Mode::Keywords, Mode::Expanded, Mode::Semantic] {
        let hits = ix.search(query, k, mode, |_| true);
        assert!(hits.len() <= k, "{} hits for k = {k}", hits.len());
        let mut seen = HashSet::new();
        for w in hits.windows(2) {
            assert!(w[0].score >= w[1].score, "not best first: {hits:?}");
        }
        for h in &hits {
            assert!(h.score.is_finite(), "score {} for {query:?}", h.score);
            assert!(ix.name(h.doc).is_some(), "doc {} is no catalog tool", h.doc);
            assert!(seen.insert(h.doc), "doc {} twice", h.doc);
        }
        let again = ix.search(query, k, mode, |_| true);
        assert_eq!(
            hits.iter().map(|h| h.doc).collect::<Vec<_>>(),
            again.iter().map(|h| h.doc).collect::<Vec<_>>(),
            "the same need, another answer"
        );
        assert!(ix.search(query, k, mode, |_| false).is_empty());
    }
});
