//! Integrity and configuration an operator meets on day one (issue 16), through the real binary:
//!
//! - a list that differs because of what the client declared is not drift: npm
//!   `server-everything` lists `get-roots-list`, `trigger-sampling-request` and
//!   `trigger-elicitation-request` only to clients that declare roots, sampling or elicitation,
//!   and a session of a client without them raises no drift alert, while a real change still
//!   does;
//! - a bare program name in a stdio backend's `command` is found only on that backend's own
//!   `env.PATH` (nothing is inherited from the gateway), by the spawn and by the executable pins
//!   alike; without one, `check` and `serve` refuse the config naming the key, its line and the
//!   fix.

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
use portcullis::integrity::lockfile::{self, BackendPins};
use serde_json::{Value, json};

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn qp(p: &Path) -> String {
    q(p.to_str().expect("test paths are UTF-8"))
}

/// Tools server-everything lists only to clients that declare roots, sampling or elicitation.
const CONDITIONAL: [&str; 3] = [
    "get-roots-list",
    "trigger-elicitation-request",
    "trigger-sampling-request",
];

/// What the start-up probe declares (and the Python SDK client does): roots, sampling,
/// elicitation.
fn full_capabilities() -> Value {
    json!({ "roots": { "listChanged": true }, "sampling": {}, "elicitation": {} })
}

/// `initialize` with these client capabilities (the harness's own declares none).
async fn initialize_with(c: &mut RawClient, capabilities: Value) {
    let msg = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities,
        "clientInfo": {"name": "portcullis-tests", "version": "0"}}});
    let resp = c
        .http
        .post(&c.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(msg.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    c.session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let _ = resp.text().await;
    let (status, _) = c
        .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    assert_eq!(status, 202);
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

fn audit_records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn drift_alerts(path: &Path) -> Vec<(String, String)> {
    audit_records(path)
        .iter()
        .filter(|r| r["kind"] == "drift_alert")
        .map(|r| {
            (
                r["original"].as_str().unwrap_or("").to_owned(),
                r["extra"]["change"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

// ----- 3. capability-limited lists are not drift -----

#[test]
fn a_list_limited_by_client_capabilities_is_not_drift_and_a_real_change_still_alerts() {
    let d = deps();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[listen]\naddress = \"127.0.0.1:0\"\n\n[auth]\nmode = \"anonymous\"\n\
         dangerous_allow_anonymous = true\n\n[integrity]\nreload_secs = 1\n\n\
         [audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n\n\
         [[backend]]\nname = \"everything\"\ncommand = [{}, {}]\n",
        qp(&d.node22),
        qp(&d.server_everything),
    );
    let cfg_path = dir.path().join("portcullis.toml");
    write(&cfg_path, &config);
    // The operator approves what the backend offers (`pins init` probes as the gateway does).
    let out = Command::new(portcullis_bin())
        .args(["pins", "init", "--config"])
        .arg(&cfg_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pins init: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lock_path = dir.path().join("portcullis.lock");
    let approved = lockfile::load(&lock_path).unwrap();
    for name in CONDITIONAL {
        assert!(
            approved.backends["everything"].tools.contains_key(name),
            "the probe declares every capability, so `{name}` is approved"
        );
    }
    let audit = dir.path().join("audit.jsonl");
    let gw = start_gateway_in(&config, dir);
    let rt = runtime();
    rt.block_on(async {
        // A client that declares nothing: the backend lists fewer tools to it.
        let mut bare = RawClient::new(&gw.url);
        bare.initialize().await;
        let names = tool_names(&bare).await;
        assert!(names.contains(&"everything__echo".to_owned()), "{names:?}");
        for name in CONDITIONAL {
            assert!(
                !names.contains(&format!("everything__{name}")),
                "the backend lists `{name}` only to capable clients: {names:?}"
            );
        }
        // A client that declares roots, sampling and elicitation sees them all.
        let mut full = RawClient::new(&gw.url);
        initialize_with(&mut full, full_capabilities()).await;
        let names = tool_names(&full).await;
        for name in CONDITIONAL {
            assert!(
                names.contains(&format!("everything__{name}")),
                "{name}: {names:?}"
            );
        }
        assert_eq!(
            drift_alerts(&audit),
            Vec::<(String, String)>::new(),
            "nothing changed, so nothing is drift"
        );

        // A real change: the approvals now differ from what the backend serves — `echo` was
        // approved with another description, and `retired` was approved and is gone.
        let mut lock = lockfile::load(&lock_path).unwrap();
        let pins = &lock.backends["everything"];
        let mut tools: Vec<Value> = pins.tools.values().map(|p| p.definition.clone()).collect();
        for t in &mut tools {
            if t["name"] == "echo" {
                t["description"] = json!("Echoes back the input (as approved last month).");
            }
        }
        tools.push(json!({
            "name": "retired", "description": "A tool the backend no longer offers.",
            "inputSchema": { "type": "object" }
        }));
        let prompts: Vec<Value> = pins
            .prompts
            .values()
            .map(|p| p.definition.clone())
            .collect();
        let templates: Vec<Value> = pins
            .resource_templates
            .values()
            .map(|p| p.definition.clone())
            .collect();
        let mut changed =
            BackendPins::from_lists(&pins.server_info, &tools, &prompts, &templates).unwrap();
        changed.executables = pins.executables.clone();
        lock.backends.insert("everything".into(), changed);
        let reloads = |a: &Path| {
            audit_records(a)
                .iter()
                .filter(|r| {
                    r["kind"] == "pin_approval"
                        && r["reason"].as_str().is_some_and(|s| s.contains("reloaded"))
                })
                .count()
        };
        lockfile::save(&lock, &lock_path).unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while reloads(&audit) == 0 {
            assert!(Instant::now() < deadline, "the lockfile was never reloaded");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The capability-limited session sees the change to `echo` (quarantined, alerted)...
        let names = tool_names(&bare).await;
        assert!(!names.contains(&"everything__echo".to_owned()), "{names:?}");
        // ... and the capable one the removal of `retired`.
        let names = tool_names(&full).await;
        assert!(!names.contains(&"everything__echo".to_owned()), "{names:?}");
    });
    let mut alerts = drift_alerts(&audit);
    alerts.sort();
    assert_eq!(
        alerts,
        vec![
            ("echo".to_owned(), "changed".to_owned()),
            ("retired".to_owned(), "removed".to_owned()),
        ],
        "exactly the real changes are alerted, none of the tools a client without capabilities \
         is not offered"
    );
    drop(gw);
}

// ----- 5. a bare program name is found only on the backend's own PATH -----

/// A config whose one stdio backend runs `command` with `env`.
fn bare_config(command: &str, env: &str) -> String {
    format!(
        "[listen]\naddress = \"127.0.0.1:0\"\n\n[auth]\nmode = \"anonymous\"\n\
         dangerous_allow_anonymous = true\n\n[integrity]\nnew_items = \"trust_on_first_use\"\n\n\
         [[backend]]\nname = \"memory\"\n{env}command = {command}\n"
    )
}

/// A directory holding a decoy `node` that leaves a mark when run, to put first on the gateway's
/// own PATH: nothing may run it.
fn decoy_path(dir: &Path) -> (String, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("decoy-bin");
    std::fs::create_dir(&bin).unwrap();
    let mark = dir.join("decoy-ran");
    let node = bin.join("node");
    write(
        &node,
        &format!("#!/bin/sh\ntouch {}\nexit 1\n", mark.display()),
    );
    std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (path, mark)
}

#[test]
fn a_bare_command_without_env_path_is_refused_by_check_and_serve_naming_the_key() {
    let d = deps();
    let dir = tempfile::tempdir().unwrap();
    let command = format!("[\"node\", {}]", qp(&d.server_memory));
    let config = bare_config(&command, "");
    let cfg = dir.path().join("portcullis.toml");
    write(&cfg, &config);
    let line = config
        .lines()
        .position(|l| l.starts_with("command ="))
        .unwrap()
        + 1;
    let (decoy, mark) = decoy_path(dir.path());
    let expect = |what: &str, stderr: &str| {
        assert!(
            stderr.contains(&format!("portcullis.toml:{line}: key `backend[0].command`")),
            "{what} names neither the line nor the key:\n{stderr}"
        );
        assert!(
            stderr.contains("`node`") && stderr.contains("PATH"),
            "{what} does not say what is wrong:\n{stderr}"
        );
        assert!(
            stderr.contains("absolute path") && stderr.contains("env.PATH"),
            "{what} does not give the fix:\n{stderr}"
        );
    };
    let out = Command::new(portcullis_bin())
        .args(["check", "--config"])
        .arg(&cfg)
        .env("PATH", &decoy)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "check passed a bare `node` without env.PATH"
    );
    expect("check", &String::from_utf8_lossy(&out.stderr));

    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .env("PATH", &decoy);
    let mut serve = Proc::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    while serve.is_running() {
        assert!(
            Instant::now() < deadline,
            "serve started with a bare `node` and no env.PATH:\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(!serve.child.wait().unwrap().success());
    expect("serve", &serve.stderr());
    assert!(!mark.exists(), "the gateway's own `node` was run");
    assert!(
        !dir.path().join("portcullis.lock").exists(),
        "nothing is pinned from a refused config"
    );
}

#[test]
fn a_bare_command_is_found_on_the_backends_own_path_by_the_spawn_and_the_pins_alike() {
    let d = deps();
    let dir = tempfile::tempdir().unwrap();
    let node_dir = d.node22.parent().unwrap();
    let memory_file = dir.path().join("memory.jsonl");
    let command = format!("[\"node\", {}]", qp(&d.server_memory));
    let env = format!(
        "env = {{ PATH = {}, MEMORY_FILE_PATH = {} }}\n",
        qp(node_dir),
        qp(&memory_file)
    );
    let config = bare_config(&command, &env);
    let cfg = dir.path().join("portcullis.toml");
    write(&cfg, &config);
    let (decoy, mark) = decoy_path(dir.path());
    let out = Command::new(portcullis_bin())
        .args(["check", "--config"])
        .arg(&cfg)
        .env("PATH", &decoy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check refused a bare `node` on env.PATH:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .env("PATH", &decoy)
        .env("PORTCULLIS_LOG", "info,portcullis=debug");
    let serve = Proc::spawn(cmd);
    let line = serve.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&url);
        c.initialize().await;
        let r = c
            .request(
                "tools/call",
                json!({ "name": "memory__create_entities", "arguments": { "entities": [
                    { "name": "Ada", "entityType": "person", "observations": ["wrote notes"] }
                ] } }),
            )
            .await;
        assert!(
            r["result"].is_object() && r["result"]["isError"] != true,
            "{r}"
        );
    });
    assert!(
        std::fs::read_to_string(&memory_file).is_ok_and(|t| t.contains("Ada")),
        "the backend that ran is the real server-memory"
    );
    assert!(!mark.exists(), "the gateway's own `node` was run");
    // What the pins hold is what ran: node from the backend's PATH, not the gateway's.
    let lock = lockfile::load(&dir.path().join("portcullis.lock")).unwrap();
    let exes = &lock.backends["memory"].executables;
    let real_node = d.node22.canonicalize().unwrap();
    assert_eq!(
        exes.first().map(|e| e.path.clone()),
        Some(real_node.display().to_string()),
        "{exes:?}"
    );
    drop(serve);
}
