//! Harness of the cluster tests and bench: a real `redis-server` and a real HAProxy (Debian
//! packages, installed by `scripts/install-test-deps.sh`) on loopback ports, and replicas of
//! `portcullis serve` behind them. Every process is started here and killed on drop.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A program of the cluster tests: `$PORTCULLIS_<VAR>` if set (install-test-deps writes it to
/// `.deps/env.sh`), else the program on PATH. Missing: a loud failure, never a skip.
fn program(var: &str, name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(var)
        && !p.is_empty()
    {
        return PathBuf::from(p);
    }
    let env_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".deps/env.sh");
    if let Ok(text) = std::fs::read_to_string(env_file) {
        let prefix = format!("export {var}=");
        if let Some(line) = text.lines().find(|l| l.starts_with(&prefix)) {
            let p = PathBuf::from(line.trim_start_matches(&prefix).trim_matches('"'));
            if p.exists() {
                return p;
            }
        }
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{name}` not found: run scripts/install-test-deps.sh (it installs redis-server and haproxy)"
    )
}

/// A free TCP port on 127.0.0.1 (bound, read, released: a server started next takes it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} not listening on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child killed (SIGKILL) and reaped on drop.
pub struct Child {
    child: std::process::Child,
    pub log: PathBuf,
}

impl Child {
    fn spawn(mut cmd: Command, log: PathBuf) -> Child {
        let out = std::fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Child { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A real `redis-server` on a loopback port: no persistence, so a restart starts empty (as a
/// failed-over Redis without its data would).
pub struct Redis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    starts: u32,
}

impl Redis {
    pub fn start() -> Redis {
        let mut r = Redis {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
            starts: 0,
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stop it hard (SIGKILL): clients see their connections reset.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill();
        }
    }

    /// Start (again) on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let mut cmd = Command::new(program("PORTCULLIS_REDIS_SERVER", "redis-server"));
        cmd.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
        ])
        .arg(self.dir.path());
        let log = self
            .dir
            .path()
            .join(format!("redis-{}.log", Instant::now().elapsed().as_nanos()));
        self.child = Some(Child::spawn(cmd, log));
        wait_for_port(self.port, "redis-server", Duration::from_secs(10));
    }

    /// A connection for the test's own look at what the gateway keeps there.
    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

/// A real HAProxy, round robin over `servers`, on `port` (chosen before the replicas start,
/// since their `public_url` names it). A server that refuses connections is retried on the next
/// one (`option redispatch`) and marked down by a TCP check within a quarter second.
pub struct Haproxy {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Haproxy {
    pub fn start(port: u16, servers: &[String]) -> Haproxy {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = format!(
            "global\n  maxconn 4096\n\ndefaults\n  mode http\n  timeout connect 1s\n  \
             timeout client 60s\n  timeout server 60s\n  retries 3\n  option redispatch\n\n\
             frontend mcp\n  bind 127.0.0.1:{port}\n  default_backend gateways\n\n\
             backend gateways\n  balance roundrobin\n"
        );
        for (i, s) in servers.iter().enumerate() {
            cfg.push_str(&format!(
                "  server r{} {s} check inter 250ms fall 1 rise 2\n",
                i + 1
            ));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let mut cmd = Command::new(program("PORTCULLIS_HAPROXY", "haproxy"));
        cmd.arg("-db").arg("-f").arg(&path);
        let child = Child::spawn(cmd, dir.path().join("haproxy.log"));
        wait_for_port(port, "haproxy", Duration::from_secs(10));
        Haproxy { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    pub fn output(&self) -> String {
        self.child.output()
    }
}

/// A replica of `portcullis serve` started by the cluster tests: its own directory (config,
/// audit trail), its public and admin addresses.
pub struct Replica {
    pub id: String,
    pub dir: tempfile::TempDir,
    pub addr: String,
    pub admin: String,
    child: Child,
}

impl Replica {
    /// Start `portcullis serve --config <dir>/portcullis.toml --listen 127.0.0.1:0`; waits for
    /// both listeners.
    pub fn start(id: &str, dir: tempfile::TempDir, config: &str) -> Replica {
        let path = dir.path().join("portcullis.toml");
        std::fs::write(&path, config).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        cmd.arg("serve")
            .arg("--config")
            .arg(&path)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("PORTCULLIS_LOG", "info,portcullis=debug");
        let child = Child::spawn(cmd, dir.path().join("serve.log"));
        let deadline = Instant::now() + Duration::from_secs(60);
        let (addr, admin) = loop {
            let out = child.output();
            let find = |needle: &str| {
                out.lines()
                    .find(|l| l.contains(needle))
                    .and_then(|l| l.split("http://").nth(1))
                    .map(|rest| rest.split(['/', ' ']).next().unwrap().to_owned())
            };
            if let (Some(a), Some(m)) = (find("listening on"), find("admin on")) {
                break (a, m);
            }
            assert!(
                Instant::now() < deadline,
                "replica {id} did not start:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Replica {
            id: id.to_owned(),
            dir,
            addr,
            admin,
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// SIGKILL: no drain, no goodbye.
    pub fn kill(&mut self) {
        self.child.kill();
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub fn log(&self) -> String {
        self.child.output()
    }

    pub fn trail_path(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    /// Every record of this replica's trail so far.
    pub fn trail(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.trail_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
