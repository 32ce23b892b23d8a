//! Every decision is in the audit trail, and a flood cannot write it at its own pace (issue 15,
//! finding 8), through the real binary: another principal's session (403), an unknown session
//! (404), an unknown tool, `resources/unsubscribe` and `logging/setLevel` are each recorded;
//! hundreds of refused tokens from one address add a bounded number of records, and the
//! gateway keeps serving (and recording) good requests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const POLICIES: &str = r#"
@id("eng-may-use-demo")
permit (
  principal in Group::"eng",
  action in [Action::"call_tool", Action::"read_resource", Action::"subscribe_resource"],
  resource in Backend::"demo"
);
"#;

/// Wait (bounded) for a record after the first `seen` that satisfies `pred`.
fn recorded(dir: &Path, seen: usize, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = audit_records(dir).into_iter().skip(seen).find(|r| pred(r)) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: no record; trail after {seen}:\n{:#?}",
            audit_records(dir)
                .into_iter()
                .skip(seen)
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// POST `body` with `token` and an optional session id; returns the status.
async fn post_raw(url: &str, token: &str, session: Option<&str>, body: &Value) -> u16 {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_string());
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    req.send().await.unwrap().status().as_u16()
}

#[test]
fn every_decision_is_recorded() {
    let (gw, cfg) = demo_gateway_with_policy(POLICIES);
    let alice = mint_token(&cfg, "alice", "eng");
    let bob = mint_token(&cfg, "bob", "");
    let dir = gw.dir.path();
    runtime().block_on(async {
        let mut a = RawClient::new(&gw.url).with_token(&alice);
        a.initialize().await;
        let alices = a.session.clone().unwrap();
        let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});

        // Bob uses Alice's session: 403, recorded with Bob as the principal.
        let seen = audit_records(dir).len();
        for (method, status) in [("POST", 403), ("GET", 403), ("DELETE", 403)] {
            let client = reqwest::Client::new();
            let req = match method {
                "POST" => client
                    .post(&gw.url)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(ping.to_string()),
                "GET" => client.get(&gw.url).header("accept", "text/event-stream"),
                _ => client.delete(&gw.url),
            };
            let got = req
                .header("authorization", format!("Bearer {bob}"))
                .header("mcp-session-id", &alices)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            assert_eq!(got, status, "{method}");
        }
        let rec = recorded(dir, seen, "another principal's session", |r| {
            r["kind"] == "auth_failure"
                && r["principal"] == "urn:test|bob"
                && r["reason"]
                    .as_str()
                    .is_some_and(|s| s.contains("another principal"))
        });
        assert_eq!(rec["decision"], "deny", "{rec}");
        assert_eq!(rec["session_id"], alices.as_str(), "{rec}");

        // An unknown session: 404, recorded.
        let seen = audit_records(dir).len();
        let status = post_raw(&gw.url, &alice, Some("no-such-session"), &ping).await;
        assert_eq!(status, 404);
        let rec = recorded(dir, seen, "unknown session", |r| {
            r["kind"] == "auth_failure"
                && r["session_id"] == "no-such-session"
                && r["reason"]
                    .as_str()
                    .is_some_and(|s| s.contains("session not found"))
        });
        assert_eq!(rec["principal"], "urn:test|alice", "{rec}");

        // An unknown tool: refused and recorded.
        let seen = audit_records(dir).len();
        let r = a
            .request("tools/call", json!({"name": "demo__nope", "arguments": {}}))
            .await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        let rec = recorded(dir, seen, "unknown tool", |r| {
            r["kind"] == "call" && r["tool"] == "demo__nope"
        });
        assert_eq!(rec["decision"], "deny", "{rec}");
        assert_eq!(rec["method"], "tools/call", "{rec}");

        // Unsubscribing: decided and recorded, allowed for Alice.
        let seen = audit_records(dir).len();
        let r = a
            .request("resources/unsubscribe", json!({"uri": "demo://readme"}))
            .await;
        assert!(r["result"].is_object(), "{r}");
        let rec = recorded(dir, seen, "unsubscribe", |r| {
            r["method"] == "resources/unsubscribe"
        });
        assert_eq!(rec["decision"], "allow", "{rec}");
        assert_eq!(rec["tool"], "demo://readme", "{rec}");

        // Setting the log level: recorded with the level asked for.
        let seen = audit_records(dir).len();
        let r = a
            .request("logging/setLevel", json!({"level": "debug"}))
            .await;
        assert!(r["result"].is_object(), "{r}");
        let rec = recorded(dir, seen, "logging/setLevel", |r| {
            r["method"] == "logging/setLevel"
        });
        assert_eq!(rec["extra"]["level"], "debug", "{rec}");
        assert_eq!(rec["principal"], "urn:test|alice", "{rec}");
    });
}

#[test]
fn a_flood_of_refused_tokens_adds_a_bounded_number_of_records() {
    let (gw, cfg) = demo_gateway_with_policy(POLICIES);
    let alice = mint_token(&cfg, "alice", "eng");
    let dir = gw.dir.path();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "flood", "version": "0"}}});
    runtime().block_on(async {
        let before = audit_records(dir).len();
        // 300 copies of one bad token, then 300 different bad tokens (the reason varies).
        const N: usize = 300;
        for i in 0..2 * N {
            let token = if i < N {
                "not-a-jwt".to_owned()
            } else {
                format!("a{i}.b{i}.c{i}")
            };
            assert_eq!(post_raw(&gw.url, &token, None, &init).await, 401);
        }
        // A good request is served, and recorded, in the middle of the flood.
        let mut a = RawClient::new(&gw.url).with_token(&alice);
        a.initialize().await;
        let r = a
            .request(
                "tools/call",
                json!({"name": "demo__echo", "arguments": {"message": "hi"}}),
            )
            .await;
        assert_eq!(r["result"]["content"][0]["text"], "hi", "{r}");
        recorded(dir, before, "the good call", |r| {
            r["kind"] == "call" && r["decision"] == "allow"
        });
        let added: Vec<Value> = audit_records(dir).into_iter().skip(before).collect();
        let failures: Vec<&Value> = added
            .iter()
            .filter(|r| r["kind"] == "auth_failure")
            .collect();
        eprintln!(
            "{} refused tokens from one address: {} auth_failure records",
            2 * N,
            failures.len()
        );
        assert!(!failures.is_empty(), "the flood is recorded");
        // Per source: one group per exact reason (at most 8), then one per kind of refusal.
        assert!(
            failures.len() <= 10,
            "{} records for {} refusals:\n{failures:#?}",
            failures.len(),
            2 * N
        );
        assert!(
            failures.iter().all(|r| r["client"]["address"]
                .as_str()
                .is_some_and(|a| a.starts_with("127.0.0.1"))),
            "{failures:#?}"
        );
    });
}
