//! Merged lists are paginated with opaque cursors, and the pages add up to the whole catalog.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{Value, json};

#[test]
fn tools_list_pages_through_the_merged_catalog() {
    let d = deps();
    let config = format!(
        "{ANON}\n[session]\npage_size = 4\n[[backend]]\nname = \"demo\"\ncommand = [\"{}\", \"demo-server\"]\n[[backend]]\nname = \"memory\"\ncommand = [\"{}\", \"{}\"]\n",
        portcullis_bin().display(),
        d.node22.display(),
        d.server_memory.display()
    );
    let gw = start_gateway(&config);
    runtime().block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let mut names = Vec::new();
        let mut cursor: Option<Value> = None;
        let mut pages = 0;
        loop {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let resp = c.request("tools/list", params).await;
            let result = &resp["result"];
            let tools = result["tools"].as_array().unwrap();
            assert!(
                tools.len() <= 4,
                "page larger than page_size: {}",
                tools.len()
            );
            names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
            pages += 1;
            match result.get("nextCursor") {
                Some(next) => cursor = Some(next.clone()),
                None => break,
            }
        }
        // demo has 6 tools, server-memory 9: all of them, once each, across pages.
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "duplicates across pages: {names:?}"
        );
        assert!(
            names.iter().filter(|n| n.starts_with("demo__")).count() == 6,
            "{names:?}"
        );
        assert!(
            names.iter().filter(|n| n.starts_with("memory__")).count() >= 9,
            "{names:?}"
        );
        assert_eq!(pages, names.len().div_ceil(4));
        // A forged cursor is an error, not a crash or a silent first page.
        let bad = c
            .request("tools/list", json!({"cursor": "bm90LWEtY3Vyc29y"}))
            .await;
        assert_eq!(bad["error"]["code"], -32602, "{bad}");
        let good = c.request("tools/list", json!({})).await;
        assert!(good["result"]["tools"].is_array());
    });
}
