//! Pinning cost: `integrity::hash_definition` (pinned subset, RFC 8785 canonical form, SHA-256)
//! of a realistic tool definition, once and for a 500-tool catalog as a backend lists it.
//!
//! Run: `cargo bench --bench integrity`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis::integrity::{Kind, hash_definition};
use serde_json::{Value, json};

/// A tool as a GitHub-style MCP server lists it (about 2 KB): a paragraph of description, an
/// input schema with nested objects and enums, an output schema, annotations, an icon, and
/// unpinned `_meta` the hash must skip.
fn tool(i: usize) -> Value {
    json!({
        "name": format!("create_issue_{i}"),
        "title": "Create issue",
        "description": "Create a new issue in a GitHub repository. Use this when the user asks to report a bug, request a feature or track a task. The issue is created as the authenticated user; labels and assignees must already exist in the repository, milestones are referenced by number. Returns the created issue with its number and URL.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "owner": { "type": "string", "description": "Repository owner (user or organization)" },
                "repo": { "type": "string", "description": "Repository name" },
                "title": { "type": "string", "description": "Issue title", "maxLength": 256 },
                "body": { "type": "string", "description": "Issue body in GitHub-flavoured Markdown" },
                "labels": { "type": "array", "items": { "type": "string" }, "description": "Labels to apply" },
                "assignees": { "type": "array", "items": { "type": "string" }, "maxItems": 10 },
                "milestone": { "type": "integer", "minimum": 1 },
                "type": { "type": "string", "enum": ["bug", "feature", "task"] },
                "template": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string" },
                        "fields": { "type": "object", "additionalProperties": { "type": "string" } }
                    }
                }
            },
            "required": ["owner", "repo", "title"],
            "additionalProperties": false
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "number": { "type": "integer" },
                "url": { "type": "string", "format": "uri" },
                "state": { "type": "string", "enum": ["open", "closed"] }
            },
            "required": ["number", "url"]
        },
        "annotations": {
            "title": "Create issue", "readOnlyHint": false, "destructiveHint": false,
            "idempotentHint": false, "openWorldHint": true
        },
        "icons": [{ "src": "https://github.githubassets.com/favicons/favicon.svg", "mimeType": "image/svg+xml" }],
        "_meta": { "io.github/toolset": "issues", "version": "2026.5.1" }
    })
}

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
