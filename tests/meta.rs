//! Meta-tools through the running gateway, on a real catalog of 100+ tools from ten MCP servers
//! (nine npm servers over stdio, the rmcp drift-server over HTTP), behind OIDC and Cedar:
//! meta mode per group, `find_tool` on natural queries, never a denied or quarantined tool,
//! and `call_tool` through the full guard chain.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Group `eng` may call everything except pushing to GitHub and deleting anything.
const POLICIES: &str = r#"
@id("eng-may-call")
permit (principal in Group::"eng", action in Action::"call_tool", resource);

@id("no-github-push")
forbid (principal, action in Action::"call_tool", resource in Backend::"github")
when { resource.original_name == "push_files" };

@id("no-deleting")
forbid (principal, action in Action::"call_tool", resource)
when { resource.original_name like "delete_*" };
"#;

/// `PORTCULLIS_CATALOG_SERVERS` from `.deps/env.sh` (the extra npm servers).
fn catalog_servers() -> String {
    let text = std::fs::read_to_string(repo_root().join(".deps/env.sh")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("export PORTCULLIS_CATALOG_SERVERS="))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("PORTCULLIS_CATALOG_SERVERS missing: rerun scripts/install-test-deps.sh")
}

/// Nine npm MCP servers as stdio backends (credentials are dummies: listing needs none, and
/// no test calls their APIs).
pub fn npm_backends(dir: &Path) -> String {
    let d = deps();
    let node = d.node22.display().to_string();
    let extra = catalog_servers();
    let m = format!("{extra}/@modelcontextprotocol");
    let servers: Vec<(&str, String, String)> = vec![
        (
            "everything",
            format!("\"{}\", \"stdio\"", d.server_everything.display()),
            String::new(),
        ),
        (
            "memory",
            format!("\"{}\"", d.server_memory.display()),
            format!(
                "env = {{ MEMORY_FILE_PATH = \"{}\" }}",
                dir.join("memory.jsonl").display()
            ),
        ),
        (
            "filesystem",
            format!(
                "\"{}\", \"{}\"",
                d.server_filesystem.display(),
                dir.display()
            ),
            String::new(),
        ),
        (
            "github",
            format!("\"{m}/server-github/dist/index.js\""),
            "env = { GITHUB_PERSONAL_ACCESS_TOKEN = \"unused\" }".into(),
        ),
        (
            "gitlab",
            format!("\"{m}/server-gitlab/dist/index.js\""),
            "env = { GITLAB_PERSONAL_ACCESS_TOKEN = \"unused\" }".into(),
        ),
        (
            "slack",
            format!("\"{m}/server-slack/dist/index.js\""),
            "env = { SLACK_BOT_TOKEN = \"unused\", SLACK_TEAM_ID = \"unused\" }".into(),
        ),
        (
            "maps",
            format!("\"{m}/server-google-maps/dist/index.js\""),
            "env = { GOOGLE_MAPS_API_KEY = \"unused\" }".into(),
        ),
        (
            "thinking",
            format!("\"{m}/server-sequential-thinking/dist/index.js\""),
            String::new(),
        ),
        (
            "playwright",
            format!("\"{extra}/@playwright/mcp/cli.js\""),
            String::new(),
        ),
    ];
    servers
        .into_iter()
        .map(|(name, args, env)| {
            format!("\n[[backend]]\nname = \"{name}\"\ncommand = [\"{node}\", {args}]\n{env}\n")
        })
        .collect()
}

fn mint(config: &str, sub: &str, groups: &str) -> String {
    let out = Command::new(portcullis_bin())
        .args([
            "token", "mint", "--config", config, "--sub", sub, "--groups", groups,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn names(tools: &Value) -> Vec<String> {
    tools
        .as_array()
        .unwrap_or_else(|| panic!("not a tool array: {tools}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn find(c: &RawClient, query: &str, top_k: u64) -> Vec<String> {
    let r = c
        .request(
            "tools/call",
            json!({ "name": "find_tool", "arguments": { "query": query, "top_k": top_k } }),
        )
        .await;
    let result = &r["result"];
    assert!(result["isError"].is_null(), "{r}");
    // The text content and the structured content carry the same full definitions.
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap())
        .unwrap_or_else(|_| json!({ "tools": [] }));
    assert_eq!(text["tools"], result["structuredContent"]["tools"]);
    for t in result["structuredContent"]["tools"].as_array().unwrap() {
        assert!(t["inputSchema"].is_object(), "full definitions: {t}");
    }
    names(&result["structuredContent"]["tools"])
}

async fn control(url: &str, change: &str) {
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(json!({ "change": change, "announce": true }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn find_tool_and_call_tool_on_a_real_catalog_under_policy_and_pins() {
    let (_drift, drift_url, drift_control) = start_drift_server();
    let dir = policy_dir(POLICIES);
    let config = format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "http://127.0.0.1:1/mcp"

[auth]
mode = "oidc"
[[auth.issuers]]
issuer = "urn:test"
dev_key_file = "dev.pem"

[policy]
schema = "policies/portcullis.cedarschema"
policies = "policies"

[network]
dangerous_allow_private = ["127.0.0.1/32", "::1/128"]

[integrity]
new_items = "trust_on_first_use"

[audit]
file = "audit.jsonl"
fsync = "never"

[meta]
groups = ["agents"]
always_visible = ["everything__echo"]
find_tool_description = "Search this company's tools by task."

[[backend]]
name = "drift"
url = "{drift_url}"
{}
"#,
        npm_backends(dir.path())
    );
    let gw = start_gateway_in(&config, dir);
    let cfg = gw.config_path.display().to_string();
    let alice = mint(&cfg, "alice", "eng,agents");
    let bob = mint(&cfg, "bob", "eng");
    let forbidden = |n: &str| n == "github__push_files" || n.contains("__delete_");

    runtime().block_on(async {
        // Bob is not in `agents`: the full catalog, filtered by policy.
        let mut b = RawClient::new(&gw.url).with_token(&bob);
        b.initialize().await;
        let mut full: Vec<String> = Vec::new();
        let mut cursor: Option<Value> = None;
        loop {
            let params = cursor.take().map_or(json!({}), |c| json!({ "cursor": c }));
            let r = b.request("tools/list", params).await;
            full.extend(names(&r["result"]["tools"]));
            match r["result"].get("nextCursor") {
                Some(c) if !c.is_null() => cursor = Some(c.clone()),
                _ => break,
            }
        }
        assert!(full.len() >= 100, "a 100+ tool catalog: {}", full.len());
        assert!(!full.iter().any(|n| forbidden(n)), "policy hides denied tools");
        assert!(full.iter().any(|n| n == "gitlab__push_files"));
        let visible: HashSet<String> = full.iter().cloned().collect();

        // Alice is in `agents`: two meta-tools and the always-visible tool.
        let mut a = RawClient::new(&gw.url).with_token(&alice);
        a.initialize().await;
        let list = a.request("tools/list", json!({})).await;
        assert_eq!(
            names(&list["result"]["tools"]),
            ["find_tool", "call_tool", "everything__echo"]
        );
        assert_eq!(
            list["result"]["tools"][0]["description"],
            "Search this company's tools by task."
        );

        // Natural queries find the right tool in the top 5.
        for (query, want) in [
            ("what's in this folder", "filesystem__list_directory"),
            ("post a message to the team channel", "slack__slack_post_message"),
            ("how high above sea level is Denver", "maps__maps_elevation"),
            ("take a screenshot of the web page", "playwright__browser_take_screenshot"),
            ("remember that Alice works at Acme", "memory__create_entities"),
            ("open a merge request in gitlab", "gitlab__create_merge_request"),
            ("add 2 and 40", "everything__get-sum"),
            ("think through this hard problem step by step", "thinking__sequentialthinking"),
            ("echo the given text back", "drift__echo"),
        ] {
            let found = find(&a, query, 5).await;
            assert!(found.contains(&want.to_owned()), "`{query}`: {found:?}");
        }

        // Never a tool the principal is denied, whatever is asked; only what Bob's list (same
        // policy) shows.
        let queries: Value = serde_json::from_str(
            &std::fs::read_to_string(repo_root().join("tests/data/meta_queries.json")).unwrap(),
        )
        .unwrap();
        let mut asked = vec![
            "push several files to github in one commit".to_owned(),
            "delete entities from the knowledge graph".to_owned(),
            "delete_entities".to_owned(),
        ];
        asked.extend(
            queries["queries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["query"].as_str().unwrap().to_owned()),
        );
        for q in &asked {
            for n in find(&a, q, 20).await {
                assert!(!forbidden(&n), "`{q}` found denied tool {n}");
                assert!(visible.contains(&n), "`{q}` found {n}, which the list hides");
            }
        }
        let pushes = find(&a, "push several files to github in one commit", 5).await;
        assert!(pushes.contains(&"gitlab__push_files".to_owned()), "{pushes:?}");

        // call_tool runs the real tool, under its real name, through the guard chain.
        let r = a
            .request(
                "tools/call",
                json!({ "name": "call_tool", "arguments": { "name": "everything__echo", "arguments": { "message": "via meta" } } }),
            )
            .await;
        let text = r["result"]["content"][0]["text"].as_str().unwrap_or("");
        assert!(text.contains("via meta"), "{r}");
        let r = a
            .request(
                "tools/call",
                json!({ "name": "call_tool", "arguments": { "name": "github__push_files", "arguments": {
                    "owner": "o", "repo": "r", "branch": "main", "files": [], "message": "m" } } }),
            )
            .await;
        assert_eq!(r["error"]["code"], -32003, "{r}");
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains("denied by policy") && msg.contains("github__push_files"), "{msg}");
        assert!(msg.contains("no-github-push"), "{msg}");
        // Bad calls get clear errors, and the gateway keeps serving.
        let r = a
            .request("tools/call", json!({ "name": "call_tool", "arguments": { "arguments": {} } }))
            .await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        let r = a
            .request("tools/call", json!({ "name": "find_tool", "arguments": { "top_k": 3 } }))
            .await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        // An empty need, and one past the 2,048-byte limit (a hostile caller's typo scan and
        // reading are bounded by it), get the limit named; a real need is still served.
        for query in ["   ".to_owned(), "directory ".repeat(205)] {
            let r = a
                .request(
                    "tools/call",
                    json!({ "name": "find_tool", "arguments": { "query": query } }),
                )
                .await;
            assert_eq!(r["error"]["code"], -32602, "{r}");
            let msg = r["error"]["message"].as_str().unwrap();
            assert!(msg.contains("1 to 2048 bytes"), "{msg}");
        }
        assert!(
            !find(&a, "list the files in a directory", 3).await.is_empty(),
            "a real need after the refused ones"
        );
        let r = a
            .request(
                "tools/call",
                json!({ "name": "call_tool", "arguments": { "name": "nope__nothing" } }),
            )
            .await;
        assert!(r["error"]["message"].as_str().unwrap().contains("unknown tool"), "{r}");

        // A drifted (quarantined) tool is neither found nor callable.
        control(&drift_control, "description").await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = find(&a, "echo the given text back", 10).await;
            if !found.contains(&"drift__echo".to_owned()) {
                break;
            }
            assert!(Instant::now() < deadline, "drift__echo still found: {found:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let r = a
            .request(
                "tools/call",
                json!({ "name": "call_tool", "arguments": { "name": "drift__echo", "arguments": { "text": "x" } } }),
            )
            .await;
        assert!(
            r["error"]["message"].as_str().unwrap_or("").contains("quarantined"),
            "{r}"
        );
        // Its neighbour on the same backend is still found.
        assert!(find(&a, "add two numbers", 5).await.contains(&"drift__add".to_owned()));
    });

    // The trail has the denial of the real tool by name, and the find_tool searches.
    let trail = std::fs::read_to_string(gw.dir.path().join("audit.jsonl")).unwrap();
    let records: Vec<Value> = trail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records.iter().any(|r| r["kind"] == "call"
        && r["tool"] == "github__push_files"
        && r["decision"] == "deny"));
    assert!(
        records
            .iter()
            .any(|r| r["tool"] == "find_tool" && r["args_sha256"].is_string())
    );
}

/// `call_tool` is charged to the real tool's quota, the same one a direct call uses: a caller
/// cannot get around a per-tool limit through the meta-tool, nor the other way round.
#[test]
fn call_tool_spends_the_real_tools_quota() {
    let (_drift, url, _control) = start_drift_server();
    let config = format!(
        r#"{ANON}
[meta]
enabled = true

[limits]
per_principal_tool = {{ rate = "2/min", burst = 2 }}

[[backend]]
name = "drift"
url = "{url}"
"#
    );
    let gw = start_gateway(&config);
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let via_meta = |n: u64| {
            c.request(
                "tools/call",
                json!({ "name": "call_tool", "arguments": {
                    "name": "drift__add", "arguments": { "a": n, "b": 1 } } }),
            )
        };
        let r = via_meta(1).await;
        assert_eq!(r["result"]["content"][0]["text"], "2", "{r}");
        // The second unit of the burst, spent by a direct call of the same tool.
        let r = c
            .request(
                "tools/call",
                json!({ "name": "drift__add", "arguments": { "a": 2, "b": 1 } }),
            )
            .await;
        assert_eq!(r["result"]["content"][0]["text"], "3", "{r}");
        let r = via_meta(3).await;
        assert_eq!(r["error"]["code"], -32029, "{r}");
        assert!(
            r["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 0,
            "{r}"
        );
        // Another tool has its own quota.
        let r = c
            .request(
                "tools/call",
                json!({ "name": "call_tool", "arguments": {
                    "name": "drift__echo", "arguments": { "text": "fine" } } }),
            )
            .await;
        assert_eq!(r["result"]["content"][0]["text"], "fine", "{r}");
    });
}
