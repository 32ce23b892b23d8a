//! Shared harness for integration tests: real processes (the gateway binary, npm MCP servers,
//! the rmcp conformance fixture, the Python `mcp` SDK client), each stopped when dropped.
#![allow(dead_code)]
// Test harness code: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// Paths of the test dependencies installed by `scripts/install-test-deps.sh`.
pub struct Deps {
    pub root: PathBuf,
    pub node22: PathBuf,
    pub conformance_0_1_16: PathBuf,
    pub conformance_0_2_0: PathBuf,
    pub server_everything: PathBuf,
    pub server_memory: PathBuf,
    pub server_filesystem: PathBuf,
    pub node_modules: PathBuf,
    pub python: PathBuf,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The installed test dependencies. Fails loudly (never skips) when they are missing: a test
/// that silently passes without its real components proves nothing.
pub fn deps() -> Deps {
    let root = repo_root();
    let env_file = root.join(".deps/env.sh");
    let text = std::fs::read_to_string(&env_file).unwrap_or_else(|_| {
        panic!(
            "test dependencies are missing ({}): run `scripts/install-test-deps.sh` or `make test`",
            env_file.display()
        )
    });
    let get = |key: &str| -> PathBuf {
        let prefix = format!("export {key}=");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{key} missing from {}", env_file.display()));
        let p = PathBuf::from(line.trim_start_matches(&prefix).trim_matches('"'));
        assert!(
            p.exists(),
            "{key} points at {} which does not exist: rerun scripts/install-test-deps.sh",
            p.display()
        );
        p
    };
    Deps {
        node22: get("PORTCULLIS_NODE22"),
        conformance_0_1_16: get("PORTCULLIS_CONFORMANCE_0_1_16"),
        conformance_0_2_0: get("PORTCULLIS_CONFORMANCE_0_2_0_ALPHA_12"),
        server_everything: get("PORTCULLIS_SERVER_EVERYTHING"),
        server_memory: get("PORTCULLIS_SERVER_MEMORY"),
        server_filesystem: get("PORTCULLIS_SERVER_FILESYSTEM"),
        node_modules: get("PORTCULLIS_NODE_MODULES"),
        python: get("PORTCULLIS_VENV_PYTHON"),
        root,
    }
}

/// A child process killed (and reaped) on drop, with its output collected.
pub struct Proc {
    pub child: Child,
    pub stdout_lines: Arc<Mutex<Vec<String>>>,
    pub stderr_lines: Arc<Mutex<Vec<String>>>,
    first_lines: mpsc::Receiver<String>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let lines = stdout_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                lines.lock().unwrap().push(line);
            }
        });
        let err = child.stderr.take().unwrap();
        let lines = stderr_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Proc {
            child,
            stdout_lines,
            stderr_lines,
            first_lines: rx,
        }
    }

    /// Wait for a stdout line containing `needle`; returns it.
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.first_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(_) => panic!(
                    "no stdout line containing {needle:?} within {timeout:?}; stderr:\n{}",
                    self.stderr()
                ),
            }
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr_lines.lock().unwrap().join("\n")
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn portcullis_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portcullis"))
}

/// A running gateway on a free loopback port.
pub struct Gateway {
    pub proc: Proc,
    pub url: String,
    pub addr: String,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

/// Start `portcullis serve` with `config` (TOML; its `[listen] address` is replaced by a free
/// port). The config file lives in a temp dir, which relative paths resolve against.
pub fn start_gateway(config: &str) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    start_gateway_in(config, dir)
}

pub fn start_gateway_in(config: &str, dir: tempfile::TempDir) -> Gateway {
    let config_path = dir.path().join("portcullis.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut cmd = Command::new(portcullis_bin());
    cmd.arg("serve")
        .arg("--config")
        .arg(&config_path)
        .arg("--listen")
        .arg("127.0.0.1:0");
    cmd.env("PORTCULLIS_LOG", "info,portcullis=debug");
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    let addr = url
        .split("//")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    Gateway {
        proc,
        url,
        addr,
        dir,
        config_path,
    }
}

/// Build (if needed) and return the rmcp conformance fixture binary.
pub fn conformance_server_bin() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "conformance-server"])
        .current_dir(repo_root())
        .status()
        .expect("cargo build -p conformance-server");
    assert!(status.success(), "building the conformance fixture failed");
    // Same target dir as this test binary: target/<profile>/deps/<test> → target/<profile>/.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let candidate = dir.join("conformance-server");
    if candidate.exists() {
        return candidate;
    }
    repo_root().join("target/debug/conformance-server")
}

/// Start the rmcp conformance fixture on a free port; returns it and its MCP URL.
pub fn start_conformance_server() -> (Proc, String) {
    let mut cmd = Command::new(conformance_server_bin());
    cmd.args(["--port", "0"]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(30));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// Build (if needed) and return the rmcp `drift-server` fixture: an MCP server whose catalog
/// changes on `POST /control` (see `fixtures/conformance-server/src/bin/drift-server.rs`).
pub fn drift_server_bin() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "conformance-server",
            "--bin",
            "drift-server",
        ])
        .current_dir(repo_root())
        .status()
        .expect("cargo build -p conformance-server --bin drift-server");
    assert!(status.success(), "building the drift-server fixture failed");
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let candidate = dir.join("drift-server");
    if candidate.exists() {
        return candidate;
    }
    repo_root().join("target/debug/drift-server")
}

/// Start the drift-server fixture on a free port; returns it, its MCP URL and its control URL.
pub fn start_drift_server() -> (Proc, String, String) {
    let mut cmd = Command::new(drift_server_bin());
    cmd.args(["--port", "0"]);
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(30));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    let control = format!("{}/control", url.trim_end_matches("/mcp"));
    (proc, url, control)
}

/// Run the Python `mcp` SDK client driver (`tests/py/mcp_client.py`) with a script of steps.
pub fn python_client(url: &str, steps: &Value, extra: &[&str]) -> Value {
    let d = deps();
    let out = Command::new(&d.python)
        .arg(d.root.join("tests/py/mcp_client.py"))
        .arg("--url")
        .arg(url)
        .args(extra)
        .arg(steps.to_string())
        .output()
        .expect("run python client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "python client printed no JSON ({e}); status {:?}\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Find the step results of a python client run, asserting none is fatal.
pub fn steps(run: &Value) -> &Vec<Value> {
    assert!(run.get("fatal").is_none(), "client failed: {run}");
    run["steps"].as_array().expect("steps")
}

/// A minimal HTTP/1.1 client for raw edge tests (so tests control every header and byte).
pub fn raw_http(addr: &str, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_http_response(&buf)
}

pub fn parse_http_response(buf: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let text = String::from_utf8_lossy(buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A config prelude for tests: anonymous on loopback (identity is tested separately), and
/// outbound connections allowed to loopback, where every test backend listens.
pub const ANON: &str = r#"
[listen]
address = "127.0.0.1:0"

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true

[network]
dangerous_allow_private = ["127.0.0.1/32", "::1/128"]

[integrity]
new_items = "trust_on_first_use"
"#;

/// Tests that are not about integrity pin what they first see (see [`ANON`]).
pub const TOFU: &str = "\n[integrity]\nnew_items = \"trust_on_first_use\"\n";

/// The `[network]` section tests with HTTP backends or a networked IdP need (see [`ANON`]).
pub const ALLOW_LOOPBACK: &str =
    "\n[network]\ndangerous_allow_private = [\"127.0.0.1/32\", \"::1/128\"]\n";

/// A temporary directory with `policies/`: the shipped Cedar schema and `rules` as
/// `rules.cedar` (configs point at `policies/portcullis.cedarschema` and `policies`).
pub fn policy_dir(rules: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pol = dir.path().join("policies");
    std::fs::create_dir(&pol).unwrap();
    std::fs::copy(
        repo_root().join("policies/portcullis.cedarschema"),
        pol.join("portcullis.cedarschema"),
    )
    .unwrap();
    std::fs::write(pol.join("rules.cedar"), rules).unwrap();
    dir
}

/// A bearer token from `portcullis token mint --config <config>` (the config's DEV ONLY key)
/// for `sub`, in the comma-separated `groups` (none when empty).
pub fn mint_token(config: &str, sub: &str, groups: &str) -> String {
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

/// The records of `dir/audit.jsonl` so far; a last line still being written is skipped.
pub fn audit_records(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The gateway with the whole chain on one backend, the demo server: OIDC with a dev key
/// (`urn:test`), `policies` in a policy directory, an audit trail synced on every record
/// (`audit.jsonl`), definitions pinned on first use. Returns it and its config path.
pub fn demo_gateway_with_policy(policies: &str) -> (Gateway, String) {
    let config = chain_config(
        "\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"every_record\"\n",
        &demo_backend_section(),
    );
    let gw = start_gateway_in(&config, policy_dir(policies));
    let cfg = gw.config_path.display().to_string();
    (gw, cfg)
}

/// The config of a gateway with the whole chain the policy tests share: OIDC with a dev key
/// (`urn:test`), the policy directory of [`policy_dir`], definitions pinned on first use; then
/// `rest` (read inside `[policy]` until its first table header: more policy keys, then
/// `[audit]`, `[limits]`, `[admin]`, …) and the `backend` section.
pub fn chain_config(rest: &str, backend: &str) -> String {
    format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "http://127.0.0.1:1/mcp"

[integrity]
new_items = "trust_on_first_use"

[auth]
mode = "oidc"
[[auth.issuers]]
issuer = "urn:test"
dev_key_file = "dev.pem"

[policy]
schema = "policies/portcullis.cedarschema"
policies = "policies"
{rest}
{backend}"#
    )
}

/// The built-in demo server as the one backend `demo`.
pub fn demo_backend_section() -> String {
    format!(
        "[[backend]]\nname = \"demo\"\ncommand = [\"{}\", \"demo-server\"]\n",
        portcullis_bin().display()
    )
}

/// The JSON-RPC messages of the `data:` lines of an SSE body, one per event.
pub fn sse_messages(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|ev| {
            let data: Vec<&str> = ev
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if data.is_empty() {
                None
            } else {
                serde_json::from_str(&data.join("\n")).ok()
            }
        })
        .collect()
}

/// The JSON-RPC messages of a POST response body whatever its type: one JSON document, or SSE
/// events (Streamable HTTP allows either).
pub fn rpc_messages(text: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => vec![v],
        Err(_) => sse_messages(text),
    }
}

/// A small raw MCP client over Streamable HTTP (reqwest), for tests that need exact control of
/// headers, cursors or concurrency. Parses JSON or SSE responses.
pub struct RawClient {
    pub http: reqwest::Client,
    pub url: String,
    pub session: Option<String>,
    pub token: Option<String>,
    next_id: std::sync::atomic::AtomicU64,
}

impl RawClient {
    pub fn new(url: &str) -> Self {
        RawClient {
            http: reqwest::Client::new(),
            url: url.to_owned(),
            session: None,
            token: None,
            next_id: std::sync::atomic::AtomicU64::new(1),
        }
    }

    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// POST one message; returns (status, every JSON-RPC message in the response).
    pub async fn post(&self, msg: &Value) -> (u16, Vec<Value>) {
        let mut req = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(msg.to_string());
        if let Some(s) = &self.session {
            req = req.header("mcp-session-id", s);
        }
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.expect("POST");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = resp.text().await.unwrap_or_default();
        let msgs = if ctype.starts_with("text/event-stream") {
            sse_messages(&text)
        } else if let Ok(v) = serde_json::from_str(&text) {
            vec![v]
        } else {
            Vec::new()
        };
        (status, msgs)
    }

    /// Initialize a session (stores the session id); returns the initialize result.
    pub async fn initialize(&mut self) -> Value {
        self.initialize_with(serde_json::json!({})).await
    }

    /// [`Self::initialize`] declaring `capabilities`.
    pub async fn initialize_with(&mut self, capabilities: Value) -> Value {
        let msg = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": capabilities,
            "clientInfo": {"name": "portcullis-tests", "version": "0"}}});
        let mut req = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(msg.to_string());
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.expect("initialize");
        assert_eq!(resp.status(), 200, "initialize refused");
        self.session = resp
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let v: Value = serde_json::from_str(&resp.text().await.unwrap()).expect("initialize JSON");
        let note = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (status, _) = self.post(&note).await;
        assert_eq!(status, 202);
        v["result"].clone()
    }

    /// A request; returns the JSON-RPC response (the last message with our id).
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let msg =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let (status, msgs) = self.post(&msg).await;
        assert_eq!(status, 200, "{method} got HTTP {status}: {msgs:?}");
        msgs.into_iter()
            .rfind(|m| m.get("id") == Some(&Value::from(id)) && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no response to {method}"))
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `portcullis check --config <path>`, bounded to 60 s: (success, stdout, stderr).
pub fn check_config(path: &Path) -> (bool, String, String) {
    let mut child = Command::new(portcullis_bin())
        .arg("check")
        .arg("--config")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`portcullis check` did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.success(), out, err)
}

/// Read one HTTP/1.1 request from `conn` (for hand-written hostile servers): its request line
/// and its body (`Content-Length`, at most 1 MiB). `None` when the peer closed first.
pub fn read_http_request(conn: &std::net::TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    use std::io::Read as _;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    Ok(Some((request_line, body)))
}
