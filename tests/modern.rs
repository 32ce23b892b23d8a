//! MCP 2026-07-28 through the running gateway, with the whole guard chain on (OIDC tokens,
//! Cedar policy, pins, limits, audit): the Python `mcp` 2.3.0 SDK client in each of its modes
//! against 2025-era backends (the Python SDK fixture and the rmcp fixture), and every new input
//! a hostile client can send — each followed by a request that is still served.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const POLICIES: &str = r#"
@id("eng-may-use-everything")
permit (principal in Group::"eng", action, resource);

@id("frozen-may-call-nothing")
forbid (principal in Group::"frozen", action in Action::"call_tool", resource);

@id("greet-only-from-2025-sessions")
forbid (principal, action in Action::"call_tool", resource)
when { resource.name == "greet" && context.protocol_version == "2026-07-28" };
"#;

/// A gateway in front of one backend at `url`, with OIDC (dev key), policy, pins (first use),
/// limits and an audit trail; bare tool names (one backend).
fn gateway(url: &str) -> (Gateway, String) {
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

[integrity]
new_items = "trust_on_first_use"

[limits]
per_principal = {{ rate = "600/min", burst = 100 }}

[audit]
file = "audit.jsonl"

[naming]
strategy = "priority"

[network]
dangerous_allow_private = ["127.0.0.1/32"]

[[backend]]
name = "b"
url = "{url}"
"#
    );
    let gw = start_gateway_in(&config, dir);
    let cfg = gw.config_path.display().to_string();
    (gw, cfg)
}

fn mint(config: &str, sub: &str, groups: &str) -> String {
    let mut cmd = Command::new(portcullis_bin());
    cmd.args(["token", "mint", "--config", config, "--sub", sub]);
    if !groups.is_empty() {
        cmd.args(["--groups", groups]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The Python fixture server (`tests/py/mcp2026_server.py`) in `era`.
fn python_server(era: &str) -> (Proc, String) {
    let d = deps();
    let mut cmd = Command::new(&d.python);
    cmd.arg(repo_root().join("tests/py/mcp2026_server.py"))
        .args(["--port", "0", "--era", era]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// The rmcp fixture `conformance-server-2026` in `protocol` (`2025-11-25`, `2026-07-28`, `dual`).
fn rmcp_server(protocol: &str) -> (Proc, String) {
    conformance_server_bin();
    let exe = conformance_server_bin().with_file_name("conformance-server-2026");
    let mut cmd = Command::new(exe);
    cmd.args(["--port", "0", "--protocol", protocol]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// Run `tests/py/mcp2026_client.py` in `mode` against `url`; its JSON lines.
fn python_client(url: &str, mode: &str, token: &str) -> Vec<Value> {
    let d = deps();
    let out = Command::new(&d.python)
        .arg(repo_root().join("tests/py/mcp2026_client.py"))
        .args(["--url", url, "--mode", mode, "--bearer", token])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn assert_every_step(lines: &[Value], what: &str, gw: &Gateway) {
    let summary = lines
        .iter()
        .find_map(|l| l.get("summary"))
        .unwrap_or_else(|| panic!("{what}: no summary: {lines:?}\n{}", gw.proc.stderr()));
    let passed: Vec<&str> = summary["passed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        passed,
        [
            "connect",
            "list_tools",
            "call_tool",
            "elicitation",
            "sampling",
            "subscription",
            "progress",
            "cancellation"
        ],
        "{what}: {lines:#?}"
    );
}

fn audit(gw: &Gateway) -> Vec<Value> {
    std::fs::read_to_string(gw.dir.path().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The Python SDK client in each mode against each backend, through the full guard chain: every
/// step passes, the client speaks the era its mode asks for (the backend's era never shows),
/// and the trail holds each allowed call and verifies.
fn matrix(backends: &[(&str, (Proc, String))], era: &str) {
    for (name, (_server, url)) in backends {
        let (gw, cfg) = gateway(url);
        let token = mint(&cfg, "alice", "eng");
        for mode in ["2026-07-28", "auto", "legacy"] {
            let lines = python_client(&gw.url, mode, &token);
            assert_every_step(
                &lines,
                &format!("{mode} client -> {name} {era} backend"),
                &gw,
            );
            let spoken = lines
                .iter()
                .find(|l| l["step"] == "connect")
                .map(|l| l["era"].clone())
                .unwrap();
            let expected = if mode == "legacy" { "2025" } else { "2026" };
            assert_eq!(spoken, expected, "{mode} against {name}: {lines:?}");
        }
        // The guard chain saw the calls of every mode: each allowed call recorded by policy.
        let records = audit(&gw);
        let calls = records
            .iter()
            .filter(|r| r["kind"] == "call" && r["decision"] == "allow")
            .count();
        assert!(calls >= 3 * 6, "{name}: {calls} allowed calls in the trail");
        let out = Command::new(portcullis_bin())
            .args(["audit", "verify"])
            .arg(gw.dir.path().join("audit.jsonl"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn python_clients_in_every_mode_reach_2025_backends_through_the_guard_chain() {
    matrix(
        &[
            ("python", python_server("legacy")),
            ("rmcp", rmcp_server("2025-11-25")),
        ],
        "2025",
    );
}

#[test]
fn python_clients_in_every_mode_reach_2026_and_dual_backends_through_the_guard_chain() {
    matrix(
        &[
            ("python", python_server("modern")),
            ("rmcp", rmcp_server("2026-07-28")),
        ],
        "2026-07-28",
    );
    matrix(
        &[
            ("python", python_server("dual")),
            ("rmcp", rmcp_server("dual")),
        ],
        "dual-era",
    );
}

/// A raw 2026-07-28 POST: the envelope in `_meta`, headers mirroring the body unless told.
struct Modern {
    http: reqwest::Client,
    url: String,
}

impl Modern {
    fn new(url: &str) -> Modern {
        Modern {
            http: reqwest::Client::new(),
            url: url.to_owned(),
        }
    }

    fn body(id: u64, method: &str, mut params: Value, caps: Value) -> Value {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
            "io.modelcontextprotocol/clientInfo": {"name": "hostile", "version": "1"},
        });
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    async fn send(&self, token: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Vec<Value>) {
        let mut req = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, rpc_messages(&text))
    }

    /// With the headers the body implies.
    async fn post(&self, token: &str, body: &Value) -> (u16, Vec<Value>) {
        let method = body["method"].as_str().unwrap().to_owned();
        let name = body["params"]["name"]
            .as_str()
            .or(body["params"]["uri"].as_str())
            .or(body["params"]["taskId"].as_str())
            .map(str::to_owned);
        let mut h = vec![
            ("mcp-protocol-version", "2026-07-28".to_owned()),
            ("mcp-method", method),
        ];
        if let Some(n) = name {
            h.push(("mcp-name", n));
        }
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.send(token, body, &h).await
    }
}

fn response(msgs: &[Value], id: u64) -> &Value {
    msgs.iter()
        .rfind(|m| m["id"] == json!(id) && m.get("method").is_none())
        .unwrap_or_else(|| panic!("no response {id}: {msgs:?}"))
}

#[test]
fn hostile_2026_inputs_get_their_errors_and_the_gateway_keeps_serving() {
    let (_server, url) = python_server("legacy");
    let (gw, cfg) = gateway(&url);
    let alice = mint(&cfg, "alice", "eng");
    let mallory = mint(&cfg, "mallory", "eng");
    let c = Modern::new(&gw.url);
    let caps = json!({"elicitation": {}});
    runtime().block_on(async {
        let served = |id: u64| {
            Modern::body(
                id,
                "tools/call",
                json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
                json!({}),
            )
        };
        let assert_served = |msgs: &Vec<Value>, id: u64| {
            let r = response(msgs, id);
            assert_eq!(r["result"]["content"][0]["text"], "5", "{r}");
            assert_eq!(r["result"]["resultType"], "complete", "{r}");
        };

        // A 2026 request without its envelope: -32602, HTTP 400, under its own id.
        let bare = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}});
        let (status, msgs) = c
            .send(
                &alice,
                &bare,
                &[
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "tools/list"),
                ],
            )
            .await;
        assert_eq!(status, 400, "{msgs:?}");
        assert_eq!(msgs[0]["id"], 7);
        assert_eq!(msgs[0]["error"]["code"], -32602);
        let (status, msgs) = c.post(&alice, &served(8)).await;
        assert_eq!(status, 200);
        assert_served(&msgs, 8);

        // Header and body disagree: -32020.
        let list = Modern::body(9, "tools/list", json!({}), json!({}));
        let (status, msgs) = c
            .send(
                &alice,
                &list,
                &[
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "prompts/list"),
                ],
            )
            .await;
        assert_eq!(
            (status, msgs[0]["error"]["code"].clone()),
            (400, json!(-32020)),
            "{msgs:?}"
        );
        let call = Modern::body(
            10,
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
            json!({}),
        );
        let (status, msgs) = c
            .send(
                &alice,
                &call,
                &[
                    ("mcp-protocol-version", "2026-07-28"),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", "ask_name"),
                ],
            )
            .await;
        assert_eq!(
            (status, msgs[0]["error"]["code"].clone()),
            (400, json!(-32020)),
            "{msgs:?}"
        );
        // An unsupported version: -32022 naming what is served.
        let mut odd = Modern::body(11, "tools/list", json!({}), json!({}));
        odd["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
        let (status, msgs) = c
            .send(
                &alice,
                &odd,
                &[
                    ("mcp-protocol-version", "v999.0.0"),
                    ("mcp-method", "tools/list"),
                ],
            )
            .await;
        assert_eq!(status, 400, "{msgs:?}");
        assert_eq!(msgs[0]["error"]["code"], -32022);
        assert_eq!(msgs[0]["error"]["data"]["requested"], "v999.0.0");
        assert!(
            msgs[0]["error"]["data"]["supported"]
                .as_array()
                .unwrap()
                .contains(&json!("2026-07-28"))
        );
        // A removed method: 404.
        let (status, msgs) = c
            .post(&alice, &Modern::body(12, "ping", json!({}), json!({})))
            .await;
        assert_eq!(
            (status, msgs[0]["error"]["code"].clone()),
            (404, json!(-32601))
        );
        let (_, msgs) = c.post(&alice, &served(13)).await;
        assert_served(&msgs, 13);

        // An MRTR round: the backend asks for a name mid-call.
        let ask = |id: u64| {
            Modern::body(
                id,
                "tools/call",
                json!({"name": "ask_name", "arguments": {}}),
                caps.clone(),
            )
        };
        let (status, msgs) = c.post(&alice, &ask(20)).await;
        assert_eq!(status, 200);
        let round = response(&msgs, 20)["result"].clone();
        assert_eq!(round["resultType"], "input_required", "{round}");
        let (key, request) = round["inputRequests"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        assert_eq!(request["method"], "elicitation/create");
        let state = round["requestState"].as_str().unwrap().to_owned();
        let retry = |id: u64, state: &str| {
            let mut b = ask(id);
            b["params"]["requestState"] = json!(state);
            b["params"]["inputResponses"] =
                json!({ key.clone(): {"action": "accept", "content": {"name": "Ada"}} });
            b
        };
        // Tampered: refused, nothing goes south, the call stays held for its owner.
        let (_, msgs) = c
            .post(&alice, &retry(21, &format!("{state}-TAMPERED")))
            .await;
        assert_eq!(response(&msgs, 21)["error"]["code"], -32602, "{msgs:?}");
        // Another principal with the genuine state: refused.
        let (_, msgs) = c.post(&mallory, &retry(22, &state)).await;
        assert_eq!(response(&msgs, 22)["error"]["code"], -32602, "{msgs:?}");
        // The state for other arguments: refused.
        let mut other = retry(23, &state);
        other["params"]["arguments"] = json!({"x": 1});
        let (_, msgs) = c.post(&alice, &other).await;
        assert_eq!(response(&msgs, 23)["error"]["code"], -32602, "{msgs:?}");
        // The owner's retry completes the held call.
        let (_, msgs) = c.post(&alice, &retry(24, &state)).await;
        let done = response(&msgs, 24);
        assert_eq!(
            done["result"]["content"][0]["text"], "Hello, Ada!",
            "{done}"
        );
        // Replayed: refused.
        let (_, msgs) = c.post(&alice, &retry(25, &state)).await;
        assert_eq!(response(&msgs, 25)["error"]["code"], -32602, "{msgs:?}");
        let (_, msgs) = c.post(&alice, &served(26)).await;
        assert_served(&msgs, 26);

        // A listen flood: 16 open listens per caller; the 17th is refused, the others stay.
        let listen = |id: u64| {
            Modern::body(
                id,
                "subscriptions/listen",
                json!({"notifications": {"toolsListChanged": true}}),
                json!({}),
            )
        };
        let mut open = Vec::new();
        for i in 0..16u64 {
            let req = c
                .http
                .post(&c.url)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {alice}"))
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "subscriptions/listen")
                .body(listen(100 + i).to_string());
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            open.push(resp);
        }
        let (_, msgs) = c.post(&alice, &listen(200)).await;
        assert_eq!(response(&msgs, 200)["error"]["code"], -32602, "{msgs:?}");
        let (_, msgs) = c.post(&alice, &served(201)).await;
        assert_served(&msgs, 201);
        drop(open);
    });
    // Refusals of requestState are in the trail.
    let refused = audit(&gw)
        .into_iter()
        .filter(|r| {
            r["reason"]
                .as_str()
                .is_some_and(|s| s.contains("requestState"))
        })
        .count();
    assert!(refused >= 4, "{refused} requestState refusals recorded");
}

/// The tasks extension through the gateway: a task created by one principal's call is that
/// principal's only (another gets the answer of an unknown task, and the trail says why), its
/// `tasks/*` are decided by policy as a call of its tool, and Cedar and every audit record carry
/// the revision the client spoke (2025-11-25 for a session, 2026-07-28 for a stateless request).
#[test]
fn a_task_belongs_to_its_creator_and_policy_decides_its_methods() {
    let (_server, url) = rmcp_server("dual");
    let (gw, cfg) = gateway(&url);
    let alice = mint(&cfg, "alice", "eng");
    // The same principal (`iss|sub`) with a token of a group policy forbids calls to.
    let alice_frozen = mint(&cfg, "alice", "eng,frozen");
    let mallory = mint(&cfg, "mallory", "eng");
    let c = Modern::new(&gw.url);
    let tasks = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let task_id = runtime().block_on(async {
        // Discover names the extension the gateway carries.
        let (_, msgs) = c
            .post(
                &alice,
                &Modern::body(1, "server/discover", json!({}), json!({})),
            )
            .await;
        let caps = &response(&msgs, 1)["result"]["capabilities"];
        assert!(
            caps["extensions"]["io.modelcontextprotocol/tasks"].is_object(),
            "{caps}"
        );
        let create = Modern::body(
            2,
            "tools/call",
            json!({"name": "slow_compute", "arguments": {"seconds": 30}}),
            tasks.clone(),
        );
        let (status, msgs) = c.post(&alice, &create).await;
        assert_eq!(status, 200, "{msgs:?}");
        let created = &response(&msgs, 2)["result"];
        assert_eq!(created["resultType"], "task", "{created}");
        let task_id = created["taskId"].as_str().unwrap().to_owned();
        let on_task = |id: u64, method: &str, task: &str, caps: &Value| {
            Modern::body(id, method, json!({"taskId": task}), caps.clone())
        };

        // The creator reads it.
        let (_, msgs) = c
            .post(&alice, &on_task(3, "tasks/get", &task_id, &tasks))
            .await;
        let got = &response(&msgs, 3)["result"];
        assert_eq!(got["taskId"], task_id.as_str(), "{got}");
        assert_eq!(got["status"], "working", "{got}");
        assert_eq!(got["resultType"], "complete", "{got}");

        // Another principal, with the genuine id: the answer of an unknown task, for every
        // method, and the task goes on.
        for (id, method) in [(4, "tasks/get"), (5, "tasks/cancel")] {
            let (status, msgs) = c
                .post(&mallory, &on_task(id, method, &task_id, &tasks))
                .await;
            let e = &response(&msgs, id)["error"];
            assert_eq!(
                (status, e["code"].clone()),
                (200, json!(-32602)),
                "{method}: {e}"
            );
            assert_eq!(e["message"], format!("unknown task `{task_id}`"), "{e}");
        }
        let mut update = on_task(6, "tasks/update", &task_id, &tasks);
        update["params"]["inputResponses"] = json!({"k": {"action": "accept"}});
        let (_, msgs) = c.post(&mallory, &update).await;
        assert_eq!(response(&msgs, 6)["error"]["code"], -32602, "{msgs:?}");
        let (_, msgs) = c
            .post(&alice, &on_task(7, "tasks/get", "no-such-task", &tasks))
            .await;
        let e = &response(&msgs, 7)["error"];
        assert_eq!(e["message"], "unknown task `no-such-task`", "{e}");

        // Policy decides as for a call of the task's tool: a token whose groups may not call
        // it may not read the task either.
        let (_, msgs) = c
            .post(&alice_frozen, &on_task(8, "tasks/get", &task_id, &tasks))
            .await;
        assert_eq!(response(&msgs, 8)["error"]["code"], -32003, "{msgs:?}");
        // Without the extension declared: -32021 naming it.
        let (status, msgs) = c
            .post(&alice, &on_task(9, "tasks/get", &task_id, &json!({})))
            .await;
        let e = &response(&msgs, 9)["error"];
        assert_eq!((status, e["code"].clone()), (400, json!(-32021)), "{e}");
        assert!(
            e["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"]
                .is_object(),
            "{e}"
        );

        // Still alice's, still running; she cancels it.
        let (_, msgs) = c
            .post(&alice, &on_task(10, "tasks/cancel", &task_id, &tasks))
            .await;
        assert_eq!(
            response(&msgs, 10)["result"]["resultType"],
            "complete",
            "{msgs:?}"
        );
        let (_, msgs) = c
            .post(&alice, &on_task(11, "tasks/get", &task_id, &tasks))
            .await;
        assert_eq!(
            response(&msgs, 11)["result"]["status"],
            "cancelled",
            "{msgs:?}"
        );

        // Cedar sees the revision: `greet` is forbidden to 2026-07-28 requests only.
        let greet = Modern::body(
            12,
            "tools/call",
            json!({"name": "greet", "arguments": {"name": "Ada"}}),
            json!({}),
        );
        let (_, msgs) = c.post(&alice, &greet).await;
        let e = &response(&msgs, 12)["error"];
        assert_eq!(e["code"], -32003, "{e}");
        assert!(
            e["data"]["policies"]
                .to_string()
                .contains("greet-only-from-2025-sessions"),
            "{e}"
        );

        // A 2025-era session of the same principal: the same call is allowed.
        let mut legacy = RawClient::new(&gw.url).with_token(&alice);
        legacy.initialize().await;
        let r = legacy
            .request(
                "tools/call",
                json!({"name": "greet", "arguments": {"name": "Ada"}}),
            )
            .await;
        assert!(r.get("result").is_some(), "{r}");
        task_id
    });

    let records = audit(&gw);
    let of = |method: &str, principal: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["method"] == method && r["principal"] == format!("urn:test|{principal}"))
            .collect()
    };
    // The creation and the owner's task methods: allowed, as calls of `slow_compute` on `b`,
    // each recorded with the revision its client spoke.
    for method in ["tools/call", "tasks/get", "tasks/cancel"] {
        let allowed: Vec<&Value> = of(method, "alice")
            .into_iter()
            .filter(|r| r["decision"] == "allow" && r["tool"] == "slow_compute")
            .collect();
        assert!(
            !allowed.is_empty(),
            "no allowed {method} of alice: {records:#?}"
        );
        for r in allowed {
            assert_eq!(r["backend"], "b", "{r}");
            assert_eq!(r["client"]["protocol"], "2026-07-28", "{r}");
        }
    }
    // Mallory's attempts: denied, and the trail (not the client) says whose the task is.
    let denied = of("tasks/get", "mallory");
    assert!(
        denied.iter().any(|r| r["decision"] == "deny"
            && r["reason"]
                .as_str()
                .is_some_and(|s| s.contains(&task_id) && s.contains("another principal"))),
        "{denied:#?}"
    );
    assert_eq!(of("tasks/cancel", "mallory").len(), 1);
    // The frozen token's read: denied by the forbid.
    assert!(
        of("tasks/get", "alice")
            .iter()
            .any(|r| r["decision"] == "deny"
                && r["policies"]
                    .to_string()
                    .contains("frozen-may-call-nothing")),
        "{records:#?}"
    );
    // Each `greet` record carries the revision its client spoke: the 2026 one denied, the
    // 2025-era session's allowed.
    let greets: Vec<(&Value, &Value)> = of("tools/call", "alice")
        .into_iter()
        .filter(|r| r["tool"] == "greet")
        .map(|r| (&r["client"]["protocol"], &r["decision"]))
        .collect();
    assert_eq!(
        greets,
        [
            (&json!("2026-07-28"), &json!("deny")),
            (&json!("2025-11-25"), &json!("allow"))
        ],
        "{records:#?}"
    );
    let session_greet = of("tools/call", "alice")
        .into_iter()
        .rfind(|r| r["tool"] == "greet")
        .unwrap();
    assert!(session_greet["session_id"].is_string(), "{session_greet}");
}
