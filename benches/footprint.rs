//! Processes and memory behind the gateway by `[[backend]] upstream_sessions`: S client
//! sessions over B stdio backends, for each setting, through the real `portcullis` binary.
//!
//! Run: `cargo bench --bench footprint` (release build; `--profile dev` reuses the test build).
//! For each run it starts the gateway (OIDC on a dev key, no policy, so several principals can
//! connect), opens S sessions round-robin over P principals (each `initialize`, then
//! `tools/list`, so every upstream session is up and has listed), waits a second, and prints:
//! the gateway's descendant processes, VmRSS of the gateway and the sum of its descendants'
//! VmRSS, and the same as PSS (`/proc/<pid>/smaps_rollup`: shared pages divided among the
//! processes sharing them, so the sum is what the machine really spends). The gateway then gets
//! SIGTERM and closes every child.
//!
//! Knobs (environment):
//! - `FOOTPRINT_SESSIONS` (100), `FOOTPRINT_BACKENDS` (10);
//! - `FOOTPRINT_KIND`: `sh` (default: a stdio MCP server in POSIX sh, about 1 MB each, so even
//!   `per_session` runs at full scale) or `node` (npm `server-memory` on Node 22 from `.deps`,
//!   what operators run; each child costs tens of MB);
//! - `FOOTPRINT_RUNS`: `mode:principals` pairs, default
//!   `per_principal:1,per_principal:10,shared:10,per_session:10`.

// A benchmark is a harness: a failed expectation should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A stdio MCP server in POSIX sh (builtins only): `initialize`, `tools/list` (one tool),
/// `tools/call`, `ping`; notifications ignored.
const SH_SERVER: &str = r#"
while IFS= read -r line; do
  case "$line" in *'"id":'*) ;; *) continue ;; esac
  id=${line#*\"id\":}
  id=${id%%,*}
  id=${id%%\}*}
  case "$line" in
    *'"method":"initialize"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{}},\"serverInfo\":{\"name\":\"sh\",\"version\":\"1\"}}}" ;;
    *'"method":"tools/list"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"tools\":[{\"name\":\"hello\",\"description\":\"Say hello.\",\"inputSchema\":{\"type\":\"object\"}}]}}" ;;
    *'"method":"tools/call"'*)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}}" ;;
    *)
      printf '%s\n' "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{}}" ;;
  esac
done
"#;

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn qp(p: &Path) -> String {
    q(p.to_str().unwrap())
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path from `.deps/env.sh` (the installed test dependencies).
fn dep(key: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join(".deps/env.sh"))
        .expect(".deps/env.sh: run scripts/install-test-deps.sh");
    let prefix = format!("export {key}=");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{key} not in .deps/env.sh"));
    PathBuf::from(line.trim_start_matches(&prefix).trim_matches('"'))
}

fn backends(kind: &str, count: usize, mode: &str, dir: &Path) -> String {
    let mut out = String::new();
    let script = dir.join("server.sh");
    std::fs::write(&script, SH_SERVER).unwrap();
    for i in 0..count {
        let (command, env) = match kind {
            "node" => (
                format!(
                    "[{}, {}]",
                    qp(&dep("PORTCULLIS_NODE22")),
                    qp(&dep("PORTCULLIS_SERVER_MEMORY"))
                ),
                format!(
                    "env = {{ MEMORY_FILE_PATH = {} }}\n",
                    qp(&dir.join(format!("memory-{i}.jsonl")))
                ),
            ),
            _ => (format!("[\"/bin/sh\", {}]", qp(&script)), String::new()),
        };
        out.push_str(&format!(
            "\n[[backend]]\nname = \"b{i}\"\ncommand = {command}\n{env}upstream_sessions = {}\n",
            q(mode)
        ));
    }
    out
}

fn config(backends: &str) -> String {
    format!(
        r#"
[listen]
address = "127.0.0.1:0"
public_url = "http://127.0.0.1:8080/mcp"

[auth]
mode = "oidc"
dangerous_no_policy = true

[[auth.issuers]]
issuer = "urn:portcullis:dev"
dev_key_file = "dev-key.pem"

[session]
max_sessions = 100000

[integrity]
new_items = "trust_on_first_use"
{backends}
"#
    )
}

fn portcullis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
}

fn mint(config: &Path, sub: &str) -> String {
    let out = portcullis()
        .args(["token", "mint", "--sub", sub, "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The gateway and its URL; SIGTERM and reaped on drop.
struct Gateway {
    child: Child,
    url: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &Path) -> Gateway {
    let mut child = portcullis()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("PORTCULLIS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the gateway exited before listening")
            .unwrap();
        if line.contains("listening on") {
            break line.rsplit(' ').next().unwrap().to_owned();
        }
    };
    // Keep draining stdout so the gateway never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    Gateway { child, url }
}

async fn rpc(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    session: Option<&str>,
    msg: Value,
) -> (Option<String>, String) {
    let mut req = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(msg.to_string());
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let sid = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (sid, resp.text().await.unwrap())
}

/// One session: `initialize`, `notifications/initialized`, `tools/list`; returns the number of
/// tools listed.
async fn open_session(http: &reqwest::Client, url: &str, token: &str) -> usize {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "footprint", "version": "0"}}});
    let (sid, _) = rpc(http, url, token, None, init).await;
    let sid = sid.expect("a session id");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    rpc(http, url, token, Some(&sid), note).await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let (_, body) = rpc(http, url, token, Some(&sid), list).await;
    let json = body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .next_back()
        .map(str::trim)
        .unwrap_or(&body)
        .to_owned();
    let v: Value = serde_json::from_str(&json).unwrap();
    v["result"]["tools"].as_array().map_or(0, Vec::len)
}

fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in list
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                if !out.contains(&c) {
                    out.push(c);
                    todo.push(c);
                }
            }
        }
    }
    out
}

/// (VmRSS, PSS) of a process, KiB.
fn memory(pid: u32) -> (u64, u64) {
    let field = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&status, "VmRSS:"), field(&rollup, "Pss:"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let sessions: usize = env_or("FOOTPRINT_SESSIONS", "100").parse().unwrap();
    let count: usize = env_or("FOOTPRINT_BACKENDS", "10").parse().unwrap();
    let kind = env_or("FOOTPRINT_KIND", "sh");
    let runs = env_or(
        "FOOTPRINT_RUNS",
        "per_principal:1,per_principal:10,shared:10,per_session:10",
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{sessions} sessions over {count} stdio backends ({kind}), {}",
        env!("CARGO_BIN_EXE_portcullis")
    );
    println!(
        "| upstream_sessions | principals | processes (gateway + children) | RSS gateway / children / total | PSS gateway / children / total | sessions opened in |"
    );
    println!("|---|---|---|---|---|---|");
    for run in runs.split(',') {
        let (mode, principals) = run.split_once(':').unwrap_or((run, "1"));
        let principals: usize = principals.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("portcullis.toml");
        std::fs::write(&cfg, config(&backends(&kind, count, mode, dir.path()))).unwrap();
        let tokens: Vec<String> = (0..principals)
            .map(|i| mint(&cfg, &format!("agent-{i}")))
            .collect();
        let gw = start(&cfg);
        let pid = gw.child.id();
        let http = reqwest::Client::new();
        let t = Instant::now();
        rt.block_on(async {
            for i in 0..sessions {
                let tools = open_session(&http, &gw.url, &tokens[i % principals]).await;
                assert_eq!(tools, count, "every backend listed its tool");
            }
        });
        let opened = t.elapsed();
        std::thread::sleep(Duration::from_secs(1));
        let children = descendants(pid);
        let (g_rss, g_pss) = memory(pid);
        let (c_rss, c_pss) = children
            .iter()
            .map(|c| memory(*c))
            .fold((0, 0), |(r, p), (r2, p2)| (r + r2, p + p2));
        println!(
            "| `{mode}` | {principals} | 1 + {} | {} / {} / {} | {} / {} / {} | {:.1} s |",
            children.len(),
            mib(g_rss),
            mib(c_rss),
            mib(g_rss + c_rss),
            mib(g_pss),
            mib(c_pss),
            mib(g_pss + c_pss),
            opened.as_secs_f64(),
        );
        drop(gw);
    }
}
