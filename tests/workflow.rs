//! Workflows through the running gateway against a real rmcp backend (`workflow-fixture`, whose
//! tools report when they ran and fail on command), behind OIDC and Cedar: parallel branches
//! overlap at the backend, retries reach the backend as configured, a denied step stops the
//! workflow with the policy's error, every step is audited, and `portcullis check` /
//! `workflow plan` reject cycles and unknown tools and show the order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Build (if needed) and start the workflow fixture; returns it and its MCP URL.
fn start_fixture() -> (Proc, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "conformance-server",
            "--bin",
            "workflow-fixture",
        ])
        .current_dir(repo_root())
        .status()
        .unwrap();
    assert!(status.success(), "building workflow-fixture failed");
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin: PathBuf = [
        dir.join("workflow-fixture"),
        repo_root().join("target/debug/workflow-fixture"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["--port", "0"]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(30));
    (proc, line.rsplit(' ').next().unwrap().to_owned())
}

/// `eng` may call every tool; interns may not read retry counters (`attempts`).
const POLICIES: &str = r#"
@id("eng-may-call")
permit (principal in Group::"eng", action in Action::"call_tool", resource);

@id("interns-no-attempts")
forbid (principal in Group::"interns", action in Action::"call_tool", resource)
when { resource.original_name == "attempts" };
"#;

const WORKFLOWS: &str = r#"
[[workflows]]
name = "fan_out"
description = "Two slow steps side by side, then one that joins them"
input_schema = { type = "object", properties = { ms = { type = "integer", default = 600 } } }

[[workflows.steps]]
id = "left"
tool = "wf__slow_step"
arguments = { label = "left", ms = "{{ inputs.ms }}" }

[[workflows.steps]]
id = "right"
tool = "wf__slow_step"
arguments = { label = "right", ms = "{{ inputs.ms }}" }

[[workflows.steps]]
id = "join"
tool = "wf__echo_json"
depends_on = ["left", "right"]
arguments = { value = { left = "{{ steps.left.json.label }}", right = "{{ steps.right.json.label }}" } }

[[workflows]]
name = "retrying"
description = "A flaky call retried, then the backend's own count of attempts"
input_schema = { type = "object", properties = { key = { type = "string" } }, required = ["key"] }
output = "attempts seen by the backend: {{ steps.count.json.attempts }}"

[[workflows.steps]]
id = "flaky"
tool = "wf__flaky"
arguments = { key = "{{ inputs.key }}", failures = 2 }
on_error = "retry"
retries = 3
backoff_ms = 100

[[workflows.steps]]
id = "count"
tool = "wf__attempts"
depends_on = ["flaky"]
arguments = { key = "{{ inputs.key }}" }

[[workflows]]
name = "guarded"
description = "A step an intern may not take, between two they may"

[[workflows.steps]]
id = "one"
tool = "wf__echo_json"
arguments = { value = 1 }

[[workflows.steps]]
id = "two"
tool = "wf__attempts"
depends_on = ["one"]
arguments = { key = "k" }

[[workflows.steps]]
id = "three"
tool = "wf__echo_json"
depends_on = ["two"]
arguments = { value = 3 }

[[workflows]]
name = "three_steps"
description = "Two parallel steps and one after them (the benchmark in the README)"
input_schema = { type = "object", properties = { ms = { type = "integer" } }, required = ["ms"] }
output = "{{ steps.c.text }}"

[[workflows.steps]]
id = "a"
tool = "wf__slow_step"
arguments = { label = "a", ms = "{{ inputs.ms }}" }

[[workflows.steps]]
id = "b"
tool = "wf__slow_step"
arguments = { label = "b", ms = "{{ inputs.ms }}" }

[[workflows.steps]]
id = "c"
tool = "wf__slow_step"
depends_on = ["a", "b"]
arguments = { label = "c", ms = "{{ inputs.ms }}" }
"#;

fn config(fixture_url: &str, workflows: &str) -> String {
    format!(
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

[[backend]]
name = "wf"
url = "{fixture_url}"
{workflows}
"#
    )
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

async fn call(c: &RawClient, name: &str, args: Value) -> Value {
    c.request("tools/call", json!({ "name": name, "arguments": args }))
        .await
}

fn audit(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_audit(dir: &std::path::Path, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let records = audit(dir);
        if pred(&records) {
            return records;
        }
        assert!(Instant::now() < deadline, "audit: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn workflows_run_through_the_guard_chain() {
    let (_fixture, url) = start_fixture();
    let gw = start_gateway_in(&config(&url, WORKFLOWS), policy_dir(POLICIES));
    let cfg = gw.config_path.display().to_string();
    let eng = mint(&cfg, "erin", "eng");
    let intern = mint(&cfg, "ivan", "eng,interns");
    runtime().block_on(async {
        let mut e = RawClient::new(&gw.url).with_token(&eng);
        e.initialize().await;
        let list = e.request("tools/list", json!({})).await;
        let tools = list["result"]["tools"].as_array().unwrap();
        let guarded = tools.iter().find(|t| t["name"] == "guarded").unwrap();
        assert_eq!(
            guarded["description"],
            "A step an intern may not take, between two they may"
        );
        assert!(tools.iter().any(|t| t["name"] == "fan_out"));

        // Parallel branches overlap at the backend.
        let started = Instant::now();
        let r = call(&e, "fan_out", json!({ "ms": 600 })).await;
        let wall = started.elapsed();
        let steps = &r["result"]["structuredContent"]["steps"];
        assert_eq!(steps["join"]["status"], "ok", "{r}");
        assert_eq!(
            steps["join"]["output"],
            json!({ "left": "left", "right": "right" })
        );
        let (l, rt) = (&steps["left"]["output"], &steps["right"]["output"]);
        let (ls, le) = (
            l["start_ms"].as_u64().unwrap(),
            l["end_ms"].as_u64().unwrap(),
        );
        let (rs, re) = (
            rt["start_ms"].as_u64().unwrap(),
            rt["end_ms"].as_u64().unwrap(),
        );
        assert!(
            ls < re && rs < le,
            "the two branches ran one after the other: {l} {rt}"
        );
        println!("fan_out: left {ls}..{le}, right {rs}..{re}; wall {wall:?}");

        // Retries happen as configured, and the backend saw each one.
        let r = call(&e, "retrying", json!({ "key": "k1" })).await;
        assert_eq!(
            r["result"]["content"][0]["text"], "attempts seen by the backend: 3",
            "{r}"
        );
        // Bad arguments get a clear error.
        let r = call(&e, "retrying", json!({})).await;
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("missing required argument `key`")
        );

        // The intern cannot see `guarded`; calling it anyway is denied at step `two`, by the
        // policy that denies the step's tool, and step `three` never runs.
        let mut i = RawClient::new(&gw.url).with_token(&intern);
        i.initialize().await;
        let list = i.request("tools/list", json!({})).await;
        let names: Vec<&str> = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            !names.contains(&"guarded") && !names.contains(&"retrying"),
            "{names:?}"
        );
        assert!(names.contains(&"fan_out"), "{names:?}");
        let r = call(&i, "guarded", json!({})).await;
        assert_eq!(r["error"]["code"], -32003, "{r}");
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("workflow `guarded` stopped at step `two`"),
            "{msg}"
        );
        assert!(
            msg.contains("denied by policy") && msg.contains("interns-no-attempts"),
            "{msg}"
        );
        let statuses: Vec<(&str, &str)> = r["error"]["data"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [("one", "ok"), ("two", "denied"), ("three", "not_run")]
        );
        // The same workflow for an engineer completes.
        let r = call(&e, "guarded", json!({})).await;
        assert!(r["result"]["isError"].is_null(), "{r}");
    });

    // The trail: the workflow, each step with its inputs digest and outcome, and the guard's
    // own record of every real call (three for the retried step).
    let dir = gw.dir.path();
    let records = wait_audit(dir, "workflow records", |rs| {
        rs.iter()
            .filter(|r| r["kind"] == "workflow" && r["extra"]["phase"] == "end")
            .count()
            >= 4
    });
    let step = |wf: &str, id: &str| {
        records
            .iter()
            .find(|r| {
                r["kind"] == "workflow_step"
                    && r["extra"]["workflow"] == wf
                    && r["extra"]["step"] == id
            })
            .cloned()
            .unwrap_or_else(|| panic!("no step record {wf}/{id}"))
    };
    let flaky = step("retrying", "flaky");
    assert_eq!(flaky["extra"]["attempts"], 3);
    assert_eq!(flaky["decision"], "allow");
    assert!(flaky["args_sha256"].is_string());
    let calls = records
        .iter()
        .filter(|r| r["kind"] == "call" && r["tool"] == "wf__flaky")
        .count();
    assert_eq!(calls, 3, "each retry is a guarded call");
    let denied = records
        .iter()
        .find(|r| {
            r["kind"] == "workflow_step" && r["extra"]["step"] == "two" && r["decision"] == "deny"
        })
        .unwrap();
    assert!(
        denied["reason"]
            .as_str()
            .unwrap()
            .contains("denied by policy")
    );
    assert!(records.iter().any(|r| r["kind"] == "workflow"
        && r["tool"] == "guarded"
        && r["decision"] == "deny"
        && r["extra"]["phase"] == "end"));
    assert!(
        records
            .iter()
            .any(|r| r["kind"] == "call" && r["tool"] == "wf__attempts" && r["decision"] == "deny")
    );
}

/// The README figure: a 3-step workflow (two parallel steps, then one) against the same three
/// calls made one by one by a client, through the same gateway. Printed, not asserted.
#[test]
fn a_cancelled_workflow_stops_and_cancels_its_running_steps() {
    let (_fixture, url) = start_fixture();
    let gw = start_gateway_in(&config(&url, WORKFLOWS), policy_dir(POLICIES));
    let cfg = gw.config_path.display().to_string();
    let eng = mint(&cfg, "erin", "eng");
    runtime().block_on(async {
        let mut c = RawClient::new(&gw.url).with_token(&eng);
        c.initialize().await;
        let c = std::sync::Arc::new(c);
        // Two 5 s steps side by side, then `join`.
        let call = json!({"jsonrpc": "2.0", "id": 900, "method": "tools/call",
            "params": {"name": "fan_out", "arguments": {"ms": 5000}}});
        let started = Instant::now();
        let running = {
            let c = c.clone();
            tokio::spawn(async move { c.post(&call).await })
        };
        let dir = gw.dir.path();
        // Both steps are at the backend once their call records are written.
        let steps_started = |r: &[Value]| {
            r.iter()
                .filter(|x| x["kind"] == "call" && x["tool"] == "wf__slow_step")
                .count()
                == 2
        };
        wait_audit(dir, "both slow steps admitted", steps_started);
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 900, "reason": "the user changed their mind"}});
        let (status, _) = c.post(&cancel).await;
        assert_eq!(status, 202);

        let (status, msgs) = tokio::time::timeout(Duration::from_secs(3), running)
            .await
            .expect("the cancelled workflow still ran to its end")
            .unwrap();
        let waited = started.elapsed();
        assert_eq!(status, 200);
        let r = msgs.iter().find(|m| m["id"] == 900).expect("a response");
        assert_eq!(r["error"]["code"], -32800, "{r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("workflow `fan_out` was cancelled by the client"),
            "{r}"
        );
        let cancelled = r["error"]["data"]["cancelled_steps"].as_array().unwrap();
        assert_eq!(cancelled.len(), 2, "both running steps are cancelled: {r}");
        assert!(
            waited < Duration::from_secs(4),
            "the steps take 5 s; the cancelled workflow answered after {waited:?}"
        );

        // The end is recorded, and `join` never ran.
        let records = wait_audit(dir, "the cancelled end", |r| {
            r.iter()
                .any(|x| x["kind"] == "workflow" && x["reason"] == "cancelled by the client")
        });
        let end = records
            .iter()
            .find(|x| x["kind"] == "workflow" && x["reason"] == "cancelled by the client")
            .unwrap();
        assert_eq!(
            end["extra"]["running"].as_array().unwrap().len(),
            2,
            "{end}"
        );
        assert!(
            !records
                .iter()
                .any(|x| x["kind"] == "call" && x["tool"] == "wf__echo_json"),
            "`join` ran after the cancel"
        );

        // The session goes on: the same workflow, short, completes.
        let r = c
            .request(
                "tools/call",
                json!({"name": "fan_out", "arguments": {"ms": 10}}),
            )
            .await;
        assert_eq!(
            r["result"]["structuredContent"]["steps"]["join"]["status"], "ok",
            "{r}"
        );
    });
}

#[test]
fn three_step_workflow_against_client_round_trips() {
    let (_fixture, url) = start_fixture();
    let gw = start_gateway_in(&config(&url, WORKFLOWS), policy_dir(POLICIES));
    let token = mint(&gw.config_path.display().to_string(), "erin", "eng");
    runtime().block_on(async {
        let mut c = RawClient::new(&gw.url).with_token(&token);
        c.initialize().await;
        println!("\n| step time | 3-step workflow (median) | same calls one by one (median) |");
        println!("|---|---|---|");
        for ms in [0u64, 50, 200] {
            let mut wf = Vec::new();
            let mut seq = Vec::new();
            for _ in 0..7 {
                let t = Instant::now();
                let r = call(&c, "three_steps", json!({ "ms": ms })).await;
                assert!(r["result"].is_object(), "{r}");
                wf.push(t.elapsed());
                let t = Instant::now();
                for label in ["a", "b", "c"] {
                    let r = call(&c, "wf__slow_step", json!({ "label": label, "ms": ms })).await;
                    assert!(r["result"].is_object(), "{r}");
                }
                seq.push(t.elapsed());
            }
            wf.sort();
            seq.sort();
            println!(
                "| {ms} ms | {:.1} ms | {:.1} ms |",
                wf[3].as_secs_f64() * 1000.0,
                seq[3].as_secs_f64() * 1000.0
            );
        }
    });
}

#[test]
fn check_and_plan_reject_cycles_and_unknown_tools_and_show_the_order() {
    let (_fixture, url) = start_fixture();
    let dir = policy_dir(POLICIES);
    let path = dir.path().join("portcullis.toml");
    let run = |args: &[&str]| {
        let out = Command::new(portcullis_bin()).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let p = path.display().to_string();

    std::fs::write(&path, config(&url, WORKFLOWS)).unwrap();
    let (ok, out, err) = run(&["workflow", "plan", "--config", &p, "three_steps"]);
    assert!(ok, "{err}");
    assert!(out.contains("1. a, b (in parallel"), "{out}");
    assert!(out.contains("2. c"), "{out}");
    assert!(
        out.contains("c → tool `wf__slow_step`, after a, b"),
        "{out}"
    );
    let (ok, _, err) = run(&["workflow", "plan", "--config", &p, "nope"]);
    assert!(!ok && err.contains("no workflow `nope`"), "{err}");
    let (ok, out, err) = run(&["catalog", "tokens", "--config", &p]);
    assert!(ok, "{err}");
    assert!(
        out.contains("full catalog") && out.contains("saving:"),
        "{out}"
    );
    // Four fixture tools plus four workflows listed in full; the meta list is two tools.
    assert!(
        out.contains("meta-tools (+ always_visible)      2"),
        "{out}"
    );
    let (ok, out, _) = run(&["catalog", "export", "--config", &p]);
    assert!(ok);
    let exported: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(exported["tools"].as_array().unwrap().len(), 8, "{out}");

    let cyclic = r#"
[[workflows]]
name = "cyclic"
description = "d"
[[workflows.steps]]
id = "a"
tool = "wf__echo_json"
depends_on = ["b"]
[[workflows.steps]]
id = "b"
tool = "wf__echo_json"
depends_on = ["a"]
"#;
    std::fs::write(&path, config(&url, cyclic)).unwrap();
    let (ok, _, err) = run(&["check", "--config", &p]);
    assert!(!ok);
    assert!(
        err.contains("dependency cycle: a → b → a") || err.contains("dependency cycle: b → a → b"),
        "{err}"
    );
    assert!(err.contains(&format!("{p}:")), "names the file: {err}");

    let unknown = r#"
[[workflows]]
name = "typo"
description = "d"
[[workflows.steps]]
id = "a"
tool = "wf__echo_jsn"
"#;
    std::fs::write(&path, config(&url, unknown)).unwrap();
    let (ok, _, err) = run(&["check", "--config", &p]);
    assert!(!ok);
    assert!(err.contains("unknown tool `wf__echo_jsn`"), "{err}");
    assert!(err.contains("workflows[0].steps[0].tool"), "{err}");
    // The gateway refuses to start with it, too.
    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["serve", "--config", &p, "--listen", "127.0.0.1:0"]);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown tool `wf__echo_jsn`"));
}
