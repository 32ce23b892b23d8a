//! The guard chain through the running gateway: Cedar policy decides every call and filters
//! lists, limits refuse with a retry hint, the audit trail records each decision and verifies,
//! metrics count the same decisions, and a policy reload changes decisions mid-session while an
//! invalid reload changes nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const POLICIES: &str = r#"
@id("eng-may-echo")
permit (principal in Group::"eng", action in Action::"call_tool", resource in Backend::"demo")
when { resource.original_name == "echo" };

@id("eng-may-add-small")
permit (principal in Group::"eng", action in Action::"call_tool", resource)
when { resource.original_name == "add" && context.args.hasTag("a") && context.args.getTag("a") == "1" };
"#;

fn setup() -> (Gateway, String, String) {
    let dir = policy_dir(POLICIES);
    let config = chain_config(
        "reload_secs = 1\n\n[limits]\nper_principal_tool = { rate = \"3/min\", burst = 3 }\n\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"every_record\"\n\n[admin]\naddress = \"127.0.0.1:0\"\n",
        &demo_backend_section(),
    );
    let gw = start_gateway_in(&config, dir);
    let admin = gw
        .proc
        .wait_for_line("portcullis admin on", Duration::from_secs(10));
    let admin = admin
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    let cfg = gw.config_path.display().to_string();
    (gw, admin, cfg)
}

fn names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn call(c: &RawClient, tool: &str, args: Value) -> Value {
    c.request("tools/call", json!({"name": tool, "arguments": args}))
        .await
}

fn metric(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn audit_lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn policy_limits_audit_and_metrics_on_every_call() {
    let (gw, admin, cfg) = setup();
    let alice = mint_token(&cfg, "alice", "eng");
    let carol = mint_token(&cfg, "carol", "eng");
    let bob = mint_token(&cfg, "bob", "");
    runtime().block_on(async {
        let mut a = RawClient::new(&gw.url).with_token(&alice);
        a.initialize().await;
        let mut b = RawClient::new(&gw.url).with_token(&bob);
        b.initialize().await;

        // Lists show what each principal could ever call.
        let mut seen = names(&a.request("tools/list", json!({})).await);
        seen.sort();
        assert_eq!(
            seen,
            ["demo__add", "demo__echo"],
            "alice sees only what policy may allow"
        );
        assert!(
            names(&b.request("tools/list", json!({})).await).is_empty(),
            "bob may call nothing"
        );
        // Prompts and resources no policy lets anyone use are not listed either.
        for client in [&a, &b] {
            let prompts = client.request("prompts/list", json!({})).await;
            assert_eq!(prompts["result"]["prompts"], json!([]), "{prompts}");
            let resources = client.request("resources/list", json!({})).await;
            assert_eq!(resources["result"]["resources"], json!([]), "{resources}");
        }

        // Calls: allowed, denied by policy (a specific error, not "unknown tool"), argument rules.
        let ok = call(&a, "demo__echo", json!({"message": "hi"})).await;
        assert_eq!(ok["result"]["content"][0]["text"], "hi", "{ok}");
        let denied = call(&a, "demo__whoami", json!({})).await;
        assert_eq!(denied["error"]["code"], -32003, "{denied}");
        assert!(
            denied["error"]["message"]
                .as_str()
                .unwrap()
                .contains("denied by policy"),
            "{denied}"
        );
        let small = call(&a, "demo__add", json!({"a": 1, "b": 2})).await;
        assert_eq!(small["result"]["structuredContent"]["sum"], 3, "{small}");
        let big = call(&a, "demo__add", json!({"a": 2, "b": 2})).await;
        assert_eq!(big["error"]["code"], -32003, "argument rule: {big}");
        let bob_echo = call(&b, "demo__echo", json!({"message": "x"})).await;
        assert_eq!(bob_echo["error"]["code"], -32003, "{bob_echo}");

        // Limits: 3 echo calls per minute per principal and tool; the 4th is refused with a hint.
        call(&a, "demo__echo", json!({"message": "2"})).await;
        call(&a, "demo__echo", json!({"message": "3"})).await;
        let limited = call(&a, "demo__echo", json!({"message": "4"})).await;
        assert_eq!(limited["error"]["code"], -32029, "{limited}");
        assert_eq!(
            limited["error"]["data"]["limit"], "per_principal_tool",
            "{limited}"
        );
        assert!(
            limited["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 0,
            "{limited}"
        );
        // Another principal is unaffected.
        let mut c = RawClient::new(&gw.url).with_token(&carol);
        c.initialize().await;
        let carol_ok = call(&c, "demo__echo", json!({"message": "carol"})).await;
        assert_eq!(
            carol_ok["result"]["content"][0]["text"], "carol",
            "{carol_ok}"
        );

        // Metrics count the same decisions the audit trail records.
        let text = reqwest::get(format!("http://{admin}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let allowed = metric(&text, "portcullis_decisions_total", "outcome=\"allow\"");
        let denied = metric(&text, "portcullis_decisions_total", "outcome=\"deny\"");
        let limited = metric(
            &text,
            "portcullis_decisions_total",
            "outcome=\"rate_limited\"",
        );
        assert_eq!(
            (allowed, denied, limited),
            (5.0, 3.0, 1.0),
            "metrics:\n{text}"
        );
        let records = audit_lines(gw.dir.path());
        let count = |kind: &str, decision: &str| {
            records
                .iter()
                .filter(|r| r["kind"] == kind && r["decision"] == decision)
                .count() as f64
        };
        assert_eq!(count("call", "allow"), allowed, "{records:?}");
        assert_eq!(count("call", "deny"), denied);
        assert_eq!(count("rate_limited", "deny"), limited);
        let deny = records
            .iter()
            .find(|r| r["kind"] == "call" && r["tool"] == "demo__whoami")
            .unwrap();
        assert_eq!(deny["principal"], "urn:test|alice", "{deny}");
        assert!(
            deny["args_sha256"].as_str().is_some_and(|h| h.len() == 64),
            "{deny}"
        );
        assert!(records.iter().any(|r| r["kind"] == "session_start"));

        // Completion goes through the same chain: no policy permits `complete` here.
        let completion = a
            .request(
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "demo__greeting"},
                       "argument": {"name": "name", "value": "A"}}),
            )
            .await;
        assert_eq!(completion["error"]["code"], -32003, "{completion}");

        // A reload changes a decision mid-session: drop the echo rule.
        let pol_dir = gw.dir.path().join("policies");
        std::fs::write(
            pol_dir.join("rules.cedar"),
            POLICIES
                .split("@id(\"eng-may-add-small\")")
                .nth(1)
                .map(|r| format!("@id(\"eng-may-add-small\"){r}"))
                .unwrap(),
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = call(&c, "demo__echo", json!({"message": "again"})).await;
            if r["error"]["code"] == -32003 {
                break;
            }
            assert!(Instant::now() < deadline, "reload never took effect: {r}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // An invalid reload changes nothing: add is still allowed, echo still denied.
        std::fs::write(
            pol_dir.join("broken.cedar"),
            "permit (principal, action, resource) when { resource.nope };",
        )
        .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let still = call(&c, "demo__add", json!({"a": 1, "b": 1})).await;
        assert_eq!(still["result"]["structuredContent"]["sum"], 2, "{still}");
        let still_denied = call(&c, "demo__echo", json!({"message": "x"})).await;
        assert_eq!(still_denied["error"]["code"], -32003, "{still_denied}");
        // Both reloads are in the audit trail: the accepted one and the rejected one.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let records = audit_lines(gw.dir.path());
            let reloads: Vec<&Value> = records
                .iter()
                .filter(|r| r["kind"] == "policy_reload")
                .collect();
            if reloads.iter().any(|r| r["decision"] == "info")
                && reloads.iter().any(|r| r["decision"] == "error")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "policy reloads not audited: {reloads:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // The trail verifies.
    let out = Command::new(portcullis_bin())
        .args(["audit", "verify"])
        .arg(gw.dir.path().join("audit.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
