//! Forbids that hold whatever shape or spelling a caller sends (issue 15, finding 13), through
//! the real binary and the demo backend: a forbid on a `context.args` string tag is not
//! sidestepped by sending the argument as an array or object, or `arguments` as a bare string;
//! a forbid on an exact resource URI is not sidestepped by `..` segments, encoded dots,
//! encoded unreserved characters, case, backslashes or a stray `%`. Each refusal is a specific
//! error and a recorded decision, and no such call is ever recorded as allowed.
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
  action in [Action::"call_tool", Action::"read_resource", Action::"get_prompt"],
  resource in Backend::"demo"
);

@id("no-secrets-echoed")
forbid (principal, action == Action::"call_tool", resource)
when { context.args.hasTag("message") && context.args.getTag("message") like "secret*" };

@id("no-secret-greetings")
forbid (principal, action == Action::"get_prompt", resource)
when { context.args.hasTag("name") && context.args.getTag("name") like "secret*" };

@id("config-is-private")
forbid (principal, action, resource == Resource::"demo://config");
"#;

/// The one record of request `id` (waited for, bounded).
fn record_of(dir: &Path, id: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Value> = audit_records(dir)
            .into_iter()
            .filter(|r| {
                r["request_id"].as_str() == Some(id.to_string().as_str()) && r["kind"] != "list"
            })
            .collect();
        if !found.is_empty() {
            assert_eq!(found.len(), 1, "one record per decision: {found:#?}");
            return found.into_iter().next().unwrap();
        }
        assert!(Instant::now() < deadline, "request {id} was never recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Send one request with a fresh id; returns (id, response).
async fn send(c: &RawClient, n: &mut u64, method: &str, params: Value) -> (Value, Value) {
    *n += 1;
    let id = json!(format!("shape-{n}"));
    let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let (status, msgs) = c.post(&msg).await;
    assert_eq!(status, 200, "{msgs:?}");
    let resp = msgs
        .into_iter()
        .rfind(|m| m.get("id") == Some(&id) && m.get("method").is_none())
        .unwrap();
    (id, resp)
}

#[test]
fn argument_shapes_cannot_sidestep_a_forbid_on_a_string_tag() {
    let (gw, cfg) = demo_gateway_with_policy(POLICIES);
    let alice = mint_token(&cfg, "alice", "eng");
    let dir = gw.dir.path();
    runtime().block_on(async {
        let mut c = RawClient::new(&gw.url).with_token(&alice);
        c.initialize().await;
        let mut n = 0;
        // Baseline: a string is allowed or forbidden by its text.
        let (_, ok) = send(
            &c,
            &mut n,
            "tools/call",
            json!({"name": "demo__echo", "arguments": {"message": "hello"}}),
        )
        .await;
        assert_eq!(ok["result"]["content"][0]["text"], "hello", "{ok}");
        let (id, denied) = send(
            &c,
            &mut n,
            "tools/call",
            json!({"name": "demo__echo", "arguments": {"message": "secret plans"}}),
        )
        .await;
        assert_eq!(denied["error"]["code"], -32003, "{denied}");
        assert_eq!(record_of(dir, &id)["decision"], "deny");

        // The same text in other shapes: refused before policy, naming the problem.
        let cases = [
            (
                json!({"name": "demo__echo", "arguments": {"message": ["secret plans"]}}),
                "argument `message` must be `string` (the tool's inputSchema), not an array",
            ),
            (
                json!({"name": "demo__echo", "arguments": {"message": {"toString": "secret plans"}}}),
                "argument `message` must be `string` (the tool's inputSchema), not an object",
            ),
            (
                json!({"name": "demo__echo", "arguments": "secret plans"}),
                "`arguments` must be an object, not a string",
            ),
            (
                json!({"name": "demo__echo", "arguments": ["secret plans"]}),
                "`arguments` must be an object, not an array",
            ),
        ];
        for (params, why) in cases {
            let (id, r) = send(&c, &mut n, "tools/call", params.clone()).await;
            assert_eq!(r["error"]["code"], -32602, "{params}: {r}");
            let msg = r["error"]["message"].as_str().unwrap();
            assert!(msg.contains(why), "{params}: {msg}");
            let rec = record_of(dir, &id);
            assert_eq!(rec["decision"], "deny", "{params}: {rec}");
            assert!(
                rec["reason"].as_str().unwrap().contains(why),
                "{params}: {rec}"
            );
        }

        // Prompt arguments are strings (MCP): another shape is refused.
        let (id, r) = send(
            &c,
            &mut n,
            "prompts/get",
            json!({"name": "demo__greeting", "arguments": {"name": ["secret agent"]}}),
        )
        .await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert_eq!(record_of(dir, &id)["decision"], "deny");
        let (_, r) = send(
            &c,
            &mut n,
            "prompts/get",
            json!({"name": "demo__greeting", "arguments": {"name": "secret agent"}}),
        )
        .await;
        assert_eq!(r["error"]["code"], -32003, "{r}");

        // Nothing that carried the forbidden text was ever allowed.
        let leaked: Vec<Value> = audit_records(dir)
            .into_iter()
            .filter(|r| r["decision"] == "allow" && r["kind"] == "call")
            .filter(|r| r["request_id"] != json!("\"shape-1\""))
            .collect();
        assert!(leaked.is_empty(), "allowed: {leaked:#?}");
    });
}

#[test]
fn uri_spellings_cannot_sidestep_a_forbid_on_an_exact_resource() {
    let (gw, cfg) = demo_gateway_with_policy(POLICIES);
    let alice = mint_token(&cfg, "alice", "eng");
    let dir = gw.dir.path();
    runtime().block_on(async {
        let mut c = RawClient::new(&gw.url).with_token(&alice);
        c.initialize().await;
        let mut n = 0;
        let (_, ok) = send(
            &c,
            &mut n,
            "resources/read",
            json!({"uri": "demo://readme"}),
        )
        .await;
        assert!(ok["result"]["contents"].is_array(), "{ok}");
        let (_, denied) = send(
            &c,
            &mut n,
            "resources/read",
            json!({"uri": "demo://config"}),
        )
        .await;
        assert_eq!(denied["error"]["code"], -32003, "{denied}");

        let cases = [
            ("demo://items/../config", "`..` segment"),
            ("demo://items/%2e%2e/config", "`%2e%2e` segment"),
            ("demo://items/..%2Fconfig", "encodes a separator"),
            ("demo://items/./../config", "`.` segment"),
            (
                "demo://%63onfig",
                "not in normal form; send `demo://config`",
            ),
            ("DEMO://config", "not in normal form; send `demo://config`"),
            ("demo://config#x", "fragment"),
            // A backslash anywhere, also where the URI seems to have its authority (the
            // `resource_uri` fuzz target's find).
            ("demo://items\\..\\config", "backslash"),
            ("file://host\\\\e://x/config", "backslash"),
            ("demo://100%", "`%` not followed by two hex digits"),
        ];
        for (uri, why) in cases {
            let (id, r) = send(&c, &mut n, "resources/read", json!({ "uri": uri })).await;
            assert_eq!(r["error"]["code"], -32602, "{uri}: {r}");
            let msg = r["error"]["message"].as_str().unwrap();
            assert!(msg.contains(why), "{uri}: {msg}");
            let rec = record_of(dir, &id);
            assert_eq!(rec["decision"], "deny", "{uri}: {rec}");
            // Completion and subscription take the same path.
            let (_, r) = send(&c, &mut n, "resources/subscribe", json!({ "uri": uri })).await;
            assert_eq!(r["error"]["code"], -32602, "subscribe {uri}: {r}");
        }
        // No read but the readme was ever allowed.
        let allowed: Vec<Value> = audit_records(dir)
            .into_iter()
            .filter(|r| r["decision"] == "allow" && r["method"] == "resources/read")
            .collect();
        assert_eq!(allowed.len(), 1, "{allowed:#?}");
        assert_eq!(allowed[0]["tool"], "demo://readme");
    });
}
