#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Tool integrity end to end: the real gateway in front of the rmcp `drift-server` fixture, whose
//! catalog really changes mid-session (announced with `list_changed`, or silently and found by the
//! periodic refresh). Each kind of drift — a description rewritten into an `<IMPORTANT>` block, an
//! inputSchema-only change, a flipped annotation, a rename, an added tool — hides the tool and
//! refuses its call with the quarantine error while the other tools keep working, and is recorded
//! as a drift alert; `warn` keeps it callable; operator overrides are what clients see while the
//! backend's own drift is still caught; a stdio backend whose executable or package version
//! changed is refused at start until approved.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use portcullis::integrity::lockfile::{self, BackendPins, Lockfile};
use serde_json::{Value, json};

const QUARANTINED: i64 = -32031;

async fn control(http: &reqwest::Client, url: &str, change: &str, announce: bool) {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(json!({ "change": change, "announce": announce }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "control {change}");
}

/// A lockfile approving what the drift-server offers now (as `portcullis pins init` would).
async fn approve_current(http: &reqwest::Client, control_url: &str, lock_path: &Path) {
    let text = http
        .get(control_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cat: Value = serde_json::from_str(&text).unwrap();
    let pins = BackendPins::from_lists(
        &json!({ "name": "drift-server" }),
        cat["tools"].as_array().unwrap(),
        cat["prompts"].as_array().unwrap(),
        &[],
    )
    .unwrap();
    let mut lock = Lockfile::default();
    lock.backends.insert("drift".into(), pins);
    lockfile::save(&lock, lock_path).unwrap();
}

/// A temp dir (for the gateway's config) whose lockfile approves what the drift-server offers now.
fn approved_dir(control_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    runtime().block_on(approve_current(
        &reqwest::Client::new(),
        control_url,
        &dir.path().join("portcullis.lock"),
    ));
    dir
}

fn config(backend_url: &str, integrity: &str, backend_extra: &str) -> String {
    format!(
        r#"
[listen]
address = "127.0.0.1:0"

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true

[network]
dangerous_allow_private = ["127.0.0.1/32", "::1/128"]

[integrity]
{integrity}

[audit]
file = "audit.jsonl"
fsync = "never"

[naming]
strategy = "priority"

[[backend]]
name = "drift"
url = "{backend_url}"
{backend_extra}
"#
    )
}

async fn tool_names(c: &RawClient) -> Vec<String> {
    let r = c.request("tools/list", json!({})).await;
    r["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("tools/list failed: {r}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn call(c: &RawClient, name: &str, args: Value) -> Value {
    c.request("tools/call", json!({ "name": name, "arguments": args }))
        .await
}

/// Poll `tools/list` until `pred` holds (announced changes: at once; silent ones: within one
/// refresh), failing after 15 s.
async fn until_listed(c: &RawClient, what: &str, pred: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let names = tool_names(c).await;
        if pred(&names) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still listed {names:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn audit(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Wait until the audit trail has a record matching `pred` (records are written asynchronously).
fn wait_audit(dir: &Path, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = audit(dir).into_iter().find(|r| pred(r)) {
            return r;
        }
        assert!(Instant::now() < deadline, "no audit record: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_quarantined(resp: &Value, reason: &str) {
    assert_eq!(resp["error"]["code"], QUARANTINED, "{resp}");
    assert_eq!(resp["error"]["data"]["quarantine"], reason, "{resp}");
    let msg = resp["error"]["message"].as_str().unwrap();
    assert!(msg.contains("quarantined"), "{msg}");
    assert!(msg.contains("portcullis pins approve drift/"), "{msg}");
}

/// Every kind of drift, each change applied to the live backend in turn; `announce` picks
/// between `list_changed` (refresh off) and silence (found by a 1 s refresh).
fn each_drift_is_quarantined(announce: bool) {
    let (_drift, url, control_url) = start_drift_server();
    let dir = approved_dir(&control_url);
    let rt = runtime();
    let http = reqwest::Client::new();
    let refresh = if announce { 3600 } else { 1 };
    let gw = start_gateway_in(&config(&url, &format!("refresh_secs = {refresh}"), ""), dir);
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        // Declaring what the probe declares: only such a client's list is whole, so only it
        // can show a tool gone (a list shortened by fewer capabilities is not drift).
        c.initialize_with(
            json!({ "roots": { "listChanged": true }, "sampling": {}, "elicitation": {} }),
        )
        .await;
        let mut names = tool_names(&c).await;
        names.sort();
        assert_eq!(names, ["add", "delete_record", "echo", "search_notes"]);
        let ok = call(&c, "echo", json!({ "text": "before" })).await;
        assert_eq!(ok["result"]["content"][0]["text"], "before", "{ok}");

        // 1. The description turns into a rug pull: changed, and poisoned.
        control(&http, &control_url, "description", announce).await;
        until_listed(&c, "echo after description drift", |n| {
            !n.contains(&"echo".to_owned())
        })
        .await;
        assert_quarantined(&call(&c, "echo", json!({ "text": "x" })).await, "findings");
        let sum = call(&c, "add", json!({ "a": 2, "b": 3 })).await;
        assert_eq!(sum["result"]["content"][0]["text"], "5", "{sum}");

        // 2. Only the inputSchema changes (after a reset the description is the approved one).
        control(&http, &control_url, "reset", announce).await;
        until_listed(&c, "echo back after reset", |n| {
            n.contains(&"echo".to_owned())
        })
        .await;
        control(&http, &control_url, "input_schema", announce).await;
        until_listed(&c, "echo after schema drift", |n| {
            !n.contains(&"echo".to_owned())
        })
        .await;
        assert_quarantined(&call(&c, "echo", json!({ "text": "x" })).await, "changed");

        // 3. `destructiveHint` flipped to false: the tool would look safe to policy.
        control(&http, &control_url, "annotation", announce).await;
        until_listed(&c, "delete_record after annotation drift", |n| {
            !n.contains(&"delete_record".to_owned())
        })
        .await;
        assert_quarantined(
            &call(&c, "delete_record", json!({ "id": "r1" })).await,
            "changed",
        );

        // 4. A rename: the new name is new (quarantined), the old one is gone.
        control(&http, &control_url, "rename", announce).await;
        until_listed(&c, "search_notes after rename", |n| {
            !n.contains(&"search_notes".to_owned())
        })
        .await;
        let names = tool_names(&c).await;
        assert!(!names.contains(&"find_notes".to_owned()), "{names:?}");
        assert_quarantined(
            &call(&c, "find_notes", json!({ "query": "q" })).await,
            "new",
        );

        // 5. An added tool waits for approval.
        control(&http, &control_url, "add", announce).await;
        // Nothing to see in the list: poll the call until the gateway has re-read the catalog.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = call(&c, "export_all", json!({})).await;
            if r["error"]["code"] == QUARANTINED {
                assert_quarantined(&r, "new");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "export_all never quarantined: {r}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The untouched tool kept working throughout.
        let sum = call(&c, "add", json!({ "a": 1, "b": 1 })).await;
        assert_eq!(sum["result"]["content"][0]["text"], "2", "{sum}");
        let mut names = tool_names(&c).await;
        names.sort();
        assert_eq!(names, ["add"]);
    });

    // One alert per drift, and one record per refused call.
    let d = gw.dir.path();
    for (name, change) in [
        ("echo", "changed"),
        ("delete_record", "changed"),
        ("find_notes", "new"),
        ("export_all", "new"),
        ("search_notes", "removed"),
    ] {
        wait_audit(d, &format!("drift alert {name} {change}"), |r| {
            r["kind"] == "drift_alert"
                && r["original"] == name
                && r["extra"]["change"] == change
                && r["backend"] == "drift"
        });
    }
    let fields: Vec<Value> = audit(d)
        .into_iter()
        .filter(|r| r["kind"] == "drift_alert" && r["original"] == "echo")
        .map(|r| r["extra"]["fields"].clone())
        .collect();
    assert!(fields.contains(&json!(["description"])), "{fields:?}");
    assert!(fields.contains(&json!(["inputSchema"])), "{fields:?}");
    for name in ["echo", "delete_record", "find_notes", "export_all"] {
        wait_audit(d, &format!("quarantined call {name}"), |r| {
            r["kind"] == "quarantined" && r["original"] == name && r["decision"] == "deny"
        });
    }
    let status = Command::new(portcullis_bin())
        .args(["audit", "verify"])
        .arg(d.join("audit.jsonl"))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn announced_drift_is_quarantined_on_the_notification() {
    each_drift_is_quarantined(true);
}

#[test]
fn silent_drift_is_quarantined_by_the_periodic_refresh() {
    each_drift_is_quarantined(false);
}

#[test]
fn warn_mode_alerts_but_keeps_the_tool_callable() {
    let (_drift, url, control_url) = start_drift_server();
    let dir = approved_dir(&control_url);
    let rt = runtime();
    let http = reqwest::Client::new();
    let gw = start_gateway_in(&config(&url, "mode = \"warn\"", ""), dir);
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        control(&http, &control_url, "description", true).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = c.request("tools/list", json!({})).await;
            let echo = r["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == "echo")
                .cloned()
                .expect("echo stays listed in warn mode");
            if echo["description"]
                .as_str()
                .unwrap()
                .contains("<IMPORTANT>")
            {
                break;
            }
            assert!(Instant::now() < deadline, "new description never seen");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let r = call(&c, "echo", json!({ "text": "still works" })).await;
        assert_eq!(r["result"]["content"][0]["text"], "still works", "{r}");
    });
    let rec = wait_audit(gw.dir.path(), "warn-mode drift alert", |r| {
        r["kind"] == "drift_alert" && r["original"] == "echo"
    });
    assert_eq!(rec["extra"]["quarantined"], false, "{rec}");
    assert!(
        rec["reason"].as_str().unwrap().contains("mode warn"),
        "{rec}"
    );
}

#[test]
fn overrides_are_what_clients_see_while_backend_drift_is_still_caught() {
    let (_drift, url, control_url) = start_drift_server();
    let dir = approved_dir(&control_url);
    let rt = runtime();
    let http = reqwest::Client::new();
    let extra = r#"
deny_tools = ["search_notes"]

[backend.overrides.echo]
description = "Echo text (reviewed wording)."

[backend.overrides.add]
title = "Adder"
annotations = { destructiveHint = true }
"#;
    let gw = start_gateway_in(&config(&url, "", extra), dir);
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let r = c.request("tools/list", json!({})).await;
        let tools = r["result"]["tools"].as_array().unwrap();
        let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).cloned();
        assert!(by_name("search_notes").is_none(), "denied tool listed");
        assert_eq!(
            by_name("echo").unwrap()["description"],
            "Echo text (reviewed wording)."
        );
        let add = by_name("add").unwrap();
        assert_eq!(add["title"], "Adder");
        assert_eq!(add["annotations"]["destructiveHint"], true);
        assert_eq!(
            add["annotations"]["readOnlyHint"], true,
            "other annotations kept"
        );
        let hidden = call(&c, "search_notes", json!({ "query": "q" })).await;
        assert!(hidden["error"].is_object(), "{hidden}");
        // The backend's own definition is still pinned underneath the override.
        control(&http, &control_url, "input_schema", true).await;
        until_listed(&c, "overridden echo after drift", |n| {
            !n.contains(&"echo".to_owned())
        })
        .await;
        assert_quarantined(&call(&c, "echo", json!({ "text": "x" })).await, "changed");
    });
}

/// A copy of the drift-server run as a stdio backend through `runner` (its path), pinned on
/// first use by a gateway that is then stopped.
fn stdio_config(argv: &[String]) -> String {
    let cmd = argv
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"{ANON}
[[backend]]
name = "local"
command = [{cmd}]
"#
    )
}

fn first_run_pins(config: &str) -> tempfile::TempDir {
    let gw = start_gateway(config);
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let names = tool_names(&c).await;
        assert!(names.contains(&"local__echo".to_owned()), "{names:?}");
    });
    let lock = lockfile::load(&gw.dir.path().join("portcullis.lock")).unwrap();
    assert!(
        !lock.backends["local"].executables.is_empty(),
        "executable pinned on first use"
    );
    let Gateway { dir, .. } = gw;
    dir
}

fn refused_at_start(config: &str, dir: tempfile::TempDir, expect: &[&str]) {
    let gw = start_gateway_in(config, dir);
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        assert!(tool_names(&c).await.is_empty());
        let r = call(&c, "local__echo", json!({ "text": "x" })).await;
        let msg = r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for e in expect {
            assert!(msg.contains(e), "`{e}` missing from {msg}");
        }
    });
    let log = gw.proc.stderr();
    assert!(
        log.contains("portcullis pins approve --backend local"),
        "{log}"
    );
    wait_audit(gw.dir.path(), "executable drift alert", |r| {
        r["kind"] == "drift_alert" && r["method"] == "integrity/executable"
    });
}

#[test]
fn a_changed_stdio_executable_is_refused_at_start() {
    let bin_dir = tempfile::tempdir().unwrap();
    let copy = bin_dir.path().join("drift-copy");
    std::fs::copy(drift_server_bin(), &copy).unwrap();
    let argv = vec![copy.display().to_string(), "--stdio".to_owned()];
    let cfg = format!(
        "{}\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n",
        stdio_config(&argv)
    );
    let dir = first_run_pins(&cfg);
    // The same program, one byte longer: a different executable.
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes.push(0);
    std::fs::write(&copy, bytes).unwrap();
    refused_at_start(&cfg, dir, &["would run", "but the lockfile pins"]);
}

#[test]
fn a_changed_package_version_is_refused_at_start() {
    // A package runner named `npx` (here a script that starts the fixture, so nothing is
    // downloaded): the lockfile pins the package version the command names.
    let bin_dir = tempfile::tempdir().unwrap();
    let npx = bin_dir.path().join("npx");
    std::fs::write(
        &npx,
        format!("#!/bin/sh\nexec {:?} --stdio\n", drift_server_bin()),
    )
    .unwrap();
    std::fs::set_permissions(&npx, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let v1 = vec![
        npx.display().to_string(),
        "-y".into(),
        "drift-tools@1.0.0".into(),
    ];
    let v2 = vec![
        npx.display().to_string(),
        "-y".into(),
        "drift-tools@1.1.0".into(),
    ];
    let audit_cfg = "\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n";
    let dir = first_run_pins(&format!("{}{audit_cfg}", stdio_config(&v1)));
    let lock = lockfile::load(&dir.path().join("portcullis.lock")).unwrap();
    let pin = &lock.backends["local"].executables[0];
    assert_eq!(pin.package.as_deref(), Some("drift-tools"));
    assert_eq!(pin.version.as_deref(), Some("1.0.0"));
    refused_at_start(
        &format!("{}{audit_cfg}", stdio_config(&v2)),
        dir,
        &["drift-tools@1.1.0", "drift-tools@1.0.0"],
    );
}

#[test]
fn readyz_reports_pins_and_live_backend_state_and_metrics_count_alerts() {
    let (drift, url, control_url) = start_drift_server();
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/mcp")
        .to_owned();
    let rt = runtime();
    let http = reqwest::Client::new();
    let cfg = format!(
        "{}\n[admin]\naddress = \"127.0.0.1:0\"\n",
        config(&url, "new_items = \"trust_on_first_use\"", "")
    );
    let gw = start_gateway(&cfg);
    let admin = gw
        .proc
        .wait_for_line("portcullis admin on", Duration::from_secs(10))
        .split("http://")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let ready = |http: reqwest::Client, admin: String| async move {
        let text = http
            .get(format!("http://{admin}/readyz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let mut drift = Some(drift);
    rt.block_on(async {
        let r = ready(http.clone(), admin.clone()).await;
        assert_eq!(r["checks"]["pins"], true, "{r}");
        assert_eq!(r["checks"]["backends"]["drift"], "up", "{r}");
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        assert_eq!(tool_names(&c).await.len(), 4);
        control(&http, &control_url, "description", true).await;
        until_listed(&c, "echo quarantined", |n| !n.contains(&"echo".to_owned())).await;
        let metrics = http
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let alerts = metrics
            .lines()
            .find(|l| l.starts_with("portcullis_drift_alerts_total{") && l.contains("drift"))
            .unwrap_or_else(|| panic!("{metrics}"));
        assert!(alerts.ends_with(" 1"), "{alerts}");

        // The backend dies: the next call notices, and /readyz says so.
        drift.take().unwrap().kill();
        let r = call(&c, "add", json!({ "a": 1, "b": 2 })).await;
        assert!(r["error"].is_object(), "{r}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = ready(http.clone(), admin.clone()).await;
            if r["checks"]["backends"]["drift"] == "down" {
                break;
            }
            assert!(Instant::now() < deadline, "never reported down: {r}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // It comes back on the same port; the session reconnects and /readyz follows.
        let mut cmd = Command::new(drift_server_bin());
        cmd.args(["--port", &port]);
        let back = Proc::spawn(cmd);
        back.wait_for_line("listening on", Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = ready(http.clone(), admin.clone()).await;
            if r["checks"]["backends"]["drift"] == "up" {
                break;
            }
            assert!(Instant::now() < deadline, "never reported up again: {r}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        drop(back);
    });
}

/// A webhook receiver on 127.0.0.1 that refuses its first delivery (HTTP 500) and accepts the
/// rest, keeping every body.
fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let Some((_, body)) = read_http_request(&stream).unwrap() else {
                continue;
            };
            seen.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

#[test]
fn drift_alerts_are_posted_to_the_webhook_with_retries() {
    let (_drift, url, control_url) = start_drift_server();
    let (hook, bodies) = webhook_receiver();
    let dir = approved_dir(&control_url);
    let rt = runtime();
    let http = reqwest::Client::new();
    let gw = start_gateway_in(
        &config(
            &url,
            &format!("webhook = {{ url = \"{hook}\", retries = 2 }}"),
            "",
        ),
        dir,
    );
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        control(&http, &control_url, "annotation", true).await;
        until_listed(&c, "delete_record quarantined", |n| {
            !n.contains(&"delete_record".to_owned())
        })
        .await;
    });
    // The first delivery is refused; the retry (after ~500 ms) carries the same alert.
    let deadline = Instant::now() + Duration::from_secs(10);
    while bodies.lock().unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "webhook not retried: {:?}",
            bodies.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got[0], got[1], "a retry resends the same document");
    assert_eq!(got[0]["type"], "portcullis.integrity_alert");
    assert_eq!(got[0]["backend"], "drift");
    assert_eq!(got[0]["name"], "delete_record");
    assert_eq!(got[0]["details"]["change"], "changed");
    assert_eq!(got[0]["details"]["fields"], json!(["annotations"]));
}

#[test]
fn a_webhook_at_a_forbidden_address_stops_the_start() {
    let cfg = format!("{ANON}\n[integrity.webhook]\nurl = \"http://169.254.169.254/hook\"\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portcullis.toml");
    std::fs::write(&path, cfg).unwrap();
    let out = Command::new(portcullis_bin())
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("integrity.webhook.url"), "{err}");
    assert!(err.contains("169.254.169.254"), "{err}");
}

/// Findings are Cedar attributes: in `warn` mode a poisoned tool stays offered, and a policy
/// can still refuse it (`resource.findings`), while its clean neighbours are allowed.
#[test]
fn findings_reach_cedar_as_resource_attributes() {
    let (_drift, url, control_url) = start_drift_server();
    let dir = policy_dir(
        r#"@id("everything") permit (principal, action, resource);
@id("no-tools-with-findings")
forbid (principal, action in Action::"call_tool", resource)
when { !resource.findings.isEmpty() };
"#,
    );
    let rt = runtime();
    let http = reqwest::Client::new();
    rt.block_on(approve_current(
        &http,
        &control_url,
        &dir.path().join("portcullis.lock"),
    ));
    let cfg = format!(
        "{}\n[policy]\nschema = \"policies/portcullis.cedarschema\"\npolicies = \"policies\"\n",
        config(&url, "mode = \"warn\"", "")
    );
    let gw = start_gateway_in(&cfg, dir);
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let r = call(&c, "echo", json!({ "text": "clean" })).await;
        assert_eq!(r["result"]["content"][0]["text"], "clean", "{r}");
        control(&http, &control_url, "description", true).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let r = call(&c, "echo", json!({ "text": "x" })).await;
            if r["error"]["code"] == -32003 {
                assert_eq!(
                    r["error"]["data"]["policies"],
                    json!(["no-tools-with-findings"]),
                    "{r}"
                );
                break;
            }
            assert!(Instant::now() < deadline, "poisoned echo never denied: {r}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let sum = call(&c, "add", json!({ "a": 1, "b": 2 })).await;
        assert_eq!(sum["result"]["content"][0]["text"], "3", "{sum}");
    });
}
