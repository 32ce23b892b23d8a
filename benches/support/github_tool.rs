//! The realistic tool definition the integrity and findings benches share.

use serde_json::{Value, json};

/// A tool as a GitHub-style MCP server lists it (about 2 KB): a paragraph of description, an
/// input schema with nested objects and enums, an output schema, annotations, an icon, and
/// unpinned `_meta` the hash must skip.
pub fn tool(i: usize) -> Value {
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
