//! Two findings of the outside security test (issue 15, findings 3 and 4), through the real
//! binary: every request is decided with the claims of the token it carries, not those of the
//! token that opened its session; and session caps hold when many `initialize` arrive at once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{Value, json};

const POLICIES: &str = r#"
@id("eng-may-echo")
permit (principal in Group::"eng", action in Action::"call_tool", resource in Backend::"demo")
when { resource.original_name == "echo" };
"#;

fn gateway(sections: &str) -> (Gateway, String) {
    let dir = policy_dir(POLICIES);
    let config = chain_config(
        &format!("\n[audit]\nfile = \"audit.jsonl\"\n{sections}"),
        &demo_backend_section(),
    );
    let gw = start_gateway_in(&config, dir);
    let cfg = gw.config_path.display().to_string();
    (gw, cfg)
}

fn echo_args() -> Value {
    json!({ "name": "demo__echo", "arguments": { "message": "hi" } })
}

#[test]
fn each_request_is_decided_with_the_claims_of_its_own_token() {
    let (gw, cfg) = gateway("");
    let eng = mint_token(&cfg, "alice", "eng");
    let none = mint_token(&cfg, "alice", "");
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url).with_token(&eng);
        c.initialize().await;
        let ok = c.request("tools/call", echo_args()).await;
        assert_eq!(ok["result"]["content"][0]["text"], "hi", "{ok}");

        // The same subject comes back without the group: the session it opened as `eng`
        // gives it nothing, neither the call nor the tool in its list.
        c.token = Some(none.clone());
        let denied = c.request("tools/call", echo_args()).await;
        assert_eq!(denied["error"]["code"], -32003, "{denied}");
        let list = c.request("tools/list", json!({})).await;
        let names: Vec<&str> = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(!names.contains(&"demo__echo"), "{names:?}");

        // And with the group again, allowed again: nothing was cached from either token.
        c.token = Some(eng.clone());
        let ok = c.request("tools/call", echo_args()).await;
        assert_eq!(ok["result"]["content"][0]["text"], "hi", "{ok}");
    });
    let trail = std::fs::read_to_string(gw.dir.path().join("audit.jsonl")).unwrap();
    let decisions: Vec<String> = trail
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "call" && r["method"] == "tools/call")
        .map(|r| r["decision"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(decisions, ["allow", "deny", "allow"], "{trail}");
}

/// `n` concurrent `initialize` with `tokens[i % len]`: the HTTP statuses.
async fn concurrent_initialize(url: &str, tokens: &[String], n: usize) -> Vec<u16> {
    let http = reqwest::Client::new();
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "storm", "version": "0"}}})
    .to_string();
    let sends = (0..n).map(|i| {
        let req = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header(
                "authorization",
                format!("Bearer {}", tokens[i % tokens.len()]),
            )
            .body(body.clone());
        async move { req.send().await.unwrap().status().as_u16() }
    });
    futures::future::join_all(sends).await
}

#[test]
fn session_caps_hold_under_concurrent_initialize() {
    // Per principal: 12 at once, 3 allowed.
    let (gw, cfg) = gateway("\n[limits]\nmax_sessions_per_principal = 3\n");
    let alice = mint_token(&cfg, "alice", "eng");
    let rt = runtime();
    let statuses = rt.block_on(concurrent_initialize(&gw.url, &[alice], 12));
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 3, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    drop(gw);

    // In total: 12 at once from 4 principals, 5 allowed.
    let (gw, cfg) = gateway("\n[session]\nmax_sessions = 5\n");
    let tokens: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|s| mint_token(&cfg, s, "eng"))
        .collect();
    let statuses = rt.block_on(concurrent_initialize(&gw.url, &tokens, 12));
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 5, "{statuses:?}");
    // The gateway still serves: a session that ends frees its place.
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503 || *s == 429),
        "{statuses:?}"
    );
}
