//! What a caller cannot make the gateway do at its own pace or past its checks (issue 15,
//! findings 5, 7 and 11), through the real binary and the demo backend:
//!
//! - metric series come only from what backends list: client-chosen URIs, through
//!   `resources/unsubscribe` or reads, never become labels, and unsubscribing passes policy
//!   (as `subscribe_resource`) and is recorded;
//! - calls to unknown tool names do not make the gateway re-list its backends per call (counted
//!   at the backend: every line the gateway sends it is logged by `tee`);
//! - a URI matching a quarantined resource template is refused, even with one resource
//!   backend; a URI no catalog has goes nowhere unless `dangerous_unlisted_resources`.
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

/// The demo backend behind `tee`, which appends every line the gateway sends it to
/// `requests.log` in the gateway's directory.
fn logged_demo_backend(dir: &Path) -> String {
    let log = dir.join("requests.log");
    let script = format!(
        "tee -a '{}' | exec '{}' demo-server",
        log.display(),
        portcullis_bin().display()
    );
    format!(
        "[[backend]]\nname = \"demo\"\ncommand = [\"/bin/sh\", \"-c\", {}]\n",
        Value::String(script)
    )
}

fn setup() -> (Gateway, String, String) {
    let dir = policy_dir(POLICIES);
    let backend = logged_demo_backend(dir.path());
    let config = chain_config(
        "\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"every_record\"\n\n[admin]\naddress = \"127.0.0.1:0\"\n",
        &backend,
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

/// Wait (bounded) until the trail has `n` records matching `pred`; returns them.
fn wait_records(dir: &Path, n: usize, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Value> = audit_records(dir).into_iter().filter(|r| pred(r)).collect();
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn metrics(admin: &str) -> String {
    reqwest::get(format!("http://{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn duration_series(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("portcullis_call_duration_seconds_count"))
        .map(str::to_owned)
        .collect()
}

/// Lines the gateway sent the demo backend that are `tools/list` requests.
fn upstream_tools_lists(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("requests.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|m| m["method"] == "tools/list"))
        .count()
}

#[test]
fn client_chosen_uris_never_become_metric_series_and_unsubscribe_passes_policy() {
    let (gw, admin, cfg) = setup();
    let nobody = mint_token(&cfg, "mallory", "");
    let alice = mint_token(&cfg, "alice", "eng");
    runtime().block_on(async {
        let mut m = RawClient::new(&gw.url).with_token(&nobody);
        m.initialize().await;
        let mut a = RawClient::new(&gw.url).with_token(&alice);
        a.initialize().await;
        // Alice's lists and one call give the catalogued labels their series.
        a.request("resources/list", json!({})).await;
        let before = metrics(&admin).await;

        // A principal who may do nothing unsubscribes from 400 URIs of its choosing: half match
        // the demo's template, half match nothing.
        const N: usize = 400;
        for i in 0..N {
            let uri = if i % 2 == 0 {
                format!("demo://items/m{i}")
            } else {
                format!("file:///chosen/by/the/client/{i}")
            };
            let r = m
                .request("resources/unsubscribe", json!({ "uri": uri }))
                .await;
            let code = r["error"]["code"].as_i64();
            if i % 2 == 0 {
                // Routed by the template, then decided: `subscribe_resource` is not permitted.
                assert_eq!(code, Some(-32003), "{uri}: {r}");
            } else {
                // No catalog has it and no backend takes unlisted URIs.
                assert_eq!(code, Some(-32002), "{uri}: {r}");
            }
        }
        let after = metrics(&admin).await;
        let grown = after.len().saturating_sub(before.len());
        eprintln!(
            "/metrics: {} bytes before, {} after {N} unsubscribes ({grown} bytes more)",
            before.len(),
            after.len()
        );
        assert!(grown < 2048, "/metrics grew by {grown} bytes:\n{after}");
        assert!(
            !after.contains("chosen/by/the/client") && !after.contains("demo://items/m"),
            "a client-chosen URI became a label:\n{after}"
        );
        // Every one of them is a recorded decision.
        let dir = gw.dir.path();
        let refused = wait_records(dir, N, |r| {
            r["method"] == "resources/unsubscribe"
                && r["principal"] == "urn:test|mallory"
                && r["decision"] == "deny"
        });
        assert_eq!(refused.len(), N, "unsubscribes recorded: {}", refused.len());

        // Alice reads 20 items through the template and unsubscribes from a listed resource:
        // one series for the template, one for the listed URI, whatever she names.
        for i in 0..20 {
            let r = a
                .request(
                    "resources/read",
                    json!({ "uri": format!("demo://items/a{i}") }),
                )
                .await;
            assert!(r["result"]["contents"].is_array(), "{r}");
        }
        let sub = a
            .request("resources/subscribe", json!({ "uri": "demo://readme" }))
            .await;
        assert!(sub["result"].is_object(), "{sub}");
        let unsub = a
            .request("resources/unsubscribe", json!({ "uri": "demo://readme" }))
            .await;
        assert!(unsub["result"].is_object(), "{unsub}");
        let text = metrics(&admin).await;
        let series = duration_series(&text);
        assert!(
            series
                .iter()
                .any(|l| l.contains("tool=\"demo://items/{id}\"") && l.ends_with(" 20")),
            "{series:#?}"
        );
        assert!(
            !text.contains("demo://items/a"),
            "a templated URI became a label: {series:#?}"
        );
        let allowed = wait_records(dir, 1, |r| {
            r["method"] == "resources/unsubscribe"
                && r["principal"] == "urn:test|alice"
                && r["decision"] == "allow"
        });
        assert_eq!(allowed.len(), 1, "alice's unsubscribe is recorded");
    });
}

#[test]
fn unknown_tool_names_do_not_relist_the_backends_per_call() {
    let (gw, _admin, cfg) = setup();
    let alice = mint_token(&cfg, "alice", "eng");
    let dir = gw.dir.path();
    runtime().block_on(async {
        let mut a = RawClient::new(&gw.url).with_token(&alice);
        a.initialize().await;
        let listed = a.request("tools/list", json!({})).await;
        assert!(listed["result"]["tools"].is_array(), "{listed}");
        let ok = a
            .request(
                "tools/call",
                json!({"name": "demo__echo", "arguments": {"message": "hi"}}),
            )
            .await;
        assert_eq!(ok["result"]["content"][0]["text"], "hi", "{ok}");
        let before = upstream_tools_lists(dir);

        for i in 0..100 {
            let r = a
                .request(
                    "tools/call",
                    json!({"name": format!("demo__nope{i}"), "arguments": {}}),
                )
                .await;
            assert_eq!(r["error"]["code"], -32602, "{r}");
            assert!(
                r["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("unknown tool `demo__nope{i}`")),
                "{r}"
            );
        }
        let after = upstream_tools_lists(dir);
        eprintln!("upstream tools/list: {before} before, {after} after 100 calls to unknown tools");
        assert!(
            after <= before + 1,
            "100 unknown names made {} upstream tools/list",
            after - before
        );
        // A known tool is still served, and each unknown call is a recorded refusal.
        let ok = a
            .request(
                "tools/call",
                json!({"name": "demo__echo", "arguments": {"message": "again"}}),
            )
            .await;
        assert_eq!(ok["result"]["content"][0]["text"], "again", "{ok}");
        let unknown = wait_records(dir, 100, |r| {
            r["kind"] == "call"
                && r["decision"] == "deny"
                && r["reason"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("unknown tool"))
        });
        assert_eq!(unknown.len(), 100);
    });
}

fn quarantine_config(dangerous_unlisted: bool) -> String {
    format!(
        r#"
[listen]
address = "127.0.0.1:0"

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true

[integrity]
new_items = "approve"

[audit]
file = "audit.jsonl"
fsync = "every_record"

[[backend]]
name = "demo"
command = ["{}", "demo-server"]
{}"#,
        portcullis_bin().display(),
        // Off unless set: the default is what the first run tests.
        if dangerous_unlisted {
            "dangerous_unlisted_resources = true\n"
        } else {
            ""
        }
    )
}

#[test]
fn a_uri_of_a_quarantined_template_does_not_route_even_with_one_resource_backend() {
    for dangerous_unlisted in [false, true] {
        let gw = start_gateway(&quarantine_config(dangerous_unlisted));
        let dir = gw.dir.path();
        runtime().block_on(async {
            let mut c = RawClient::new(&gw.url);
            c.initialize().await;
            // Nothing is approved: the demo's one template is new, so quarantined, and not
            // offered.
            let templates = c.request("resources/templates/list", json!({})).await;
            assert_eq!(
                templates["result"]["resourceTemplates"],
                json!([]),
                "{templates}"
            );
            // A URI it matches is refused as quarantined, not sent to the only resource
            // backend.
            let r = c
                .request("resources/read", json!({ "uri": "demo://items/7" }))
                .await;
            assert_eq!(r["error"]["code"], -32031, "{r}");
            assert_eq!(r["error"]["data"]["name"], "demo://items/{id}", "{r}");
            assert_eq!(r["error"]["data"]["quarantine"], "new", "{r}");
            let rec = wait_records(dir, 1, |r| {
                r["kind"] == "quarantined" && r["tool"] == "demo://items/7"
            });
            assert_eq!(rec.len(), 1, "the refusal is recorded");
            // Subscriptions too.
            let s = c
                .request("resources/subscribe", json!({ "uri": "demo://items/7" }))
                .await;
            assert_eq!(s["error"]["code"], -32031, "{s}");

            // Listed resources (not subject to pins) still read.
            let ok = c
                .request("resources/read", json!({ "uri": "demo://readme" }))
                .await;
            assert!(ok["result"]["contents"].is_array(), "{ok}");

            // A URI nothing lists or templates: refused at the gateway by default; with
            // `dangerous_unlisted_resources`, sent to the demo (which does not have it).
            let unlisted = c
                .request("resources/read", json!({ "uri": "demo://unlisted" }))
                .await;
            assert_eq!(unlisted["error"]["code"], -32002, "{unlisted}");
            let decided = |d: &'static str| {
                move |r: &Value| r["tool"] == "demo://unlisted" && r["decision"] == d
            };
            if dangerous_unlisted {
                let forwarded = wait_records(dir, 1, decided("allow"));
                assert_eq!(
                    forwarded.len(),
                    1,
                    "forwarded to the backend: {forwarded:?}"
                );
                assert_eq!(forwarded[0]["backend"], "demo");
            } else {
                let refused = wait_records(dir, 1, decided("deny"));
                assert_eq!(refused.len(), 1, "refused and recorded");
                let forwarded: Vec<Value> = audit_records(dir)
                    .into_iter()
                    .filter(decided("allow"))
                    .collect();
                assert!(forwarded.is_empty(), "never forwarded: {forwarded:?}");
            }
        });
    }
    // `check` names the dangerous setting.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.toml");
    write(&path, &quarantine_config(true));
    let (_, out, err) = check_config(&path);
    assert!(
        format!("{out}{err}").contains("dangerous_unlisted_resources"),
        "{out}{err}"
    );
}
