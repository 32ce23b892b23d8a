//! The cluster tests' side of the wire: a cluster of replicas behind HAProxy with one Redis
//! (`start_cluster`), 2026-07-28 and 2025-era requests through it, and the fixtures (the Python
//! SDK server, a webhook receiver, an approved lockfile) the tests drive.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use portcullis::identity::dev;
use serde_json::{Value, json};

use crate::cluster_support::{Haproxy, Redis, Replica, free_port};
use crate::common::{self, portcullis_bin, repo_root, rpc_messages};

pub const ISSUER: &str = "urn:cluster-test";
pub const RATE_LIMITED: i64 = -32029;

/// What differs between the clusters of these tests.
#[derive(Default, Clone)]
pub struct Opts {
    /// `[limits]`, `[session]` and other sections.
    pub sections: String,
    /// Extra `[cluster]` keys.
    pub cluster: String,
    /// `[[backend]]` (default: the demo server over stdio).
    pub backend: Option<String>,
    /// `[integrity]` (default: trust on first use, each replica its own lockfile).
    pub integrity: Option<String>,
    /// Per replica (index from 0), extra lines appended to its `[integrity]`.
    pub integrity_of: Option<fn(usize) -> String>,
}

pub struct Cluster {
    pub redis: Redis,
    pub lb: Haproxy,
    pub replicas: Vec<Replica>,
    pub key: dev::DevKey,
    pub public: String,
    /// Holds the dev key and the requestState key every replica reads.
    _shared: tempfile::TempDir,
}

pub fn demo_backend() -> String {
    format!(
        "[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n",
        serde_json::to_string(&portcullis_bin().display().to_string()).unwrap()
    )
}

pub fn start_cluster(n: usize, opts: &Opts) -> Cluster {
    let redis = Redis::start();
    let shared = tempfile::tempdir().unwrap();
    let key_file = shared.path().join("dev.pem");
    let key = dev::DevKey::load_or_create(&key_file).unwrap();
    let state_key = shared.path().join("state.key");
    std::fs::write(&state_key, hex_key()).unwrap();
    let lb_port = free_port();
    let public = format!("http://127.0.0.1:{lb_port}/mcp");
    let replicas: Vec<Replica> = (0..n)
        .map(|i| {
            let id = format!("r{}", i + 1);
            let integrity = opts
                .integrity
                .clone()
                .unwrap_or_else(|| "[integrity]\nnew_items = \"trust_on_first_use\"\n".into());
            let integrity_extra = opts.integrity_of.map(|f| f(i)).unwrap_or_default();
            let config = format!(
                r#"
[listen]
address = "127.0.0.1:0"
public_url = "{public}"

[auth]
mode = "oidc"
dangerous_no_policy = true
[[auth.issuers]]
issuer = "{ISSUER}"
dev_key_file = "{key_file}"

[admin]
address = "127.0.0.1:0"

[audit]
file = "audit.jsonl"
fsync = "never"

[naming]
strategy = "priority"

[network]
dangerous_allow_private = ["127.0.0.1/32"]

{integrity}{integrity_extra}

{sections}

[cluster]
redis = {{ url = "{redis}" }}
replica_id = "{id}"
request_state_key = {{ file = "{state_key}" }}
timeout_ms = 300
{cluster}

{backend}
"#,
                key_file = key_file.display(),
                state_key = state_key.display(),
                redis = redis.url(),
                sections = opts.sections,
                cluster = opts.cluster,
                backend = opts.backend.clone().unwrap_or_else(demo_backend),
            );
            Replica::start(&id, tempfile::tempdir().unwrap(), &config)
        })
        .collect();
    let servers: Vec<String> = replicas.iter().map(|r| r.addr.clone()).collect();
    let lb = Haproxy::start(lb_port, &servers);
    Cluster {
        redis,
        lb,
        replicas,
        key,
        public,
        _shared: shared,
    }
}

pub fn hex_key() -> String {
    "5a".repeat(32)
}

impl Cluster {
    pub fn token(&self, sub: &str) -> String {
        self.key
            .sign(&dev::claims(ISSUER, &self.public, sub, &[], &[], 3600))
            .unwrap()
    }

    /// Every record of every replica's trail.
    pub fn records(&self) -> Vec<Value> {
        self.replicas.iter().flat_map(|r| r.trail()).collect()
    }
}

/// A 2026-07-28 request body (no session; the envelope in `_meta`).
pub fn modern(id: u64, method: &str, mut params: Value, caps: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "cluster-test", "version": "1"},
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// POST a 2026-07-28 request; (HTTP status, JSON-RPC messages).
pub async fn post_modern(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> (u16, Vec<Value>) {
    let method = body["method"].as_str().unwrap();
    let mut req = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    let params = &body["params"];
    if let Some(name) = ["name", "uri", "taskId"]
        .iter()
        .find_map(|k| params[*k].as_str())
    {
        req = req.header("mcp-name", name);
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, rpc_messages(&text))
}

pub fn response(msgs: &[Value], id: u64) -> Value {
    msgs.iter()
        .rfind(|m| m["id"] == json!(id) && m.get("method").is_none())
        .cloned()
        .unwrap_or_else(|| panic!("no response {id}: {msgs:?}"))
}

/// One `add` call of `token` through `url`: `Ok(())` allowed (and answered 5), `Err(error)`.
pub async fn add(http: &reqwest::Client, url: &str, token: &str, id: u64) -> Result<(), Value> {
    let body = modern(
        id,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
        json!({}),
    );
    let (status, msgs) = post_modern(http, url, token, &body).await;
    assert_eq!(status, 200, "{msgs:?}");
    let r = response(&msgs, id);
    match r.get("error") {
        Some(e) => Err(e.clone()),
        None => {
            assert_eq!(r["result"]["structuredContent"]["sum"], 5, "{r}");
            Ok(())
        }
    }
}

/// `calls` `add` calls per token through `url`, 16 at a time, all tokens at once. Returns the
/// allowed count per token (refusals must be rate limits) and how long the whole run took.
pub async fn readyz(http: &reqwest::Client, r: &Replica) -> (u16, Value) {
    let resp = http
        .get(format!("http://{}/readyz", r.admin))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn metrics(http: &reqwest::Client, r: &Replica) -> String {
    http.get(format!("http://{}/metrics", r.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Wait (bounded) until `f` holds.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> F,
) -> Duration {
    let started = Instant::now();
    loop {
        if f().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "{what}: not within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An `initialize` through `url`: (HTTP status, session id).
pub async fn initialize(http: &reqwest::Client, url: &str, token: &str) -> (u16, Option<String>) {
    let msg = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "cluster-test", "version": "0"}}});
    let resp = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(msg.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let sid = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, sid)
}

pub fn python_server(era: &str) -> (common::Proc, String) {
    let d = common::deps();
    let mut cmd = std::process::Command::new(&d.python);
    cmd.arg(repo_root().join("tests/py/mcp2026_server.py"))
        .args(["--port", "0", "--era", era]);
    let proc = common::Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// The rmcp fixture `conformance-server-2026` in `protocol` (`2025-11-25`, `2026-07-28`, `dual`).
pub fn rmcp_server(protocol: &str) -> (common::Proc, String) {
    let exe = common::conformance_server_bin().with_file_name("conformance-server-2026");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--port", "0", "--protocol", protocol]);
    let proc = common::Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

pub fn webhook_receiver() -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some((_, body)) = common::read_http_request(&stream).unwrap() else {
                continue;
            };
            seen.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

/// Write a lockfile approving what the drift-server lists now (as `pins approve` would).
pub async fn approve_current(
    http: &reqwest::Client,
    control_url: &str,
    lock_path: &std::path::Path,
) {
    use portcullis::integrity::lockfile::{self, BackendPins, Lockfile};
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
