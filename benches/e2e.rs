//! End to end: the same `tools/call` against a fast MCP backend directly, and through the real
//! `portcullis` binary with the whole chain on (TLS, JWT, Cedar, limits, audit, integrity
//! pins), at concurrency 1 and 16. Prints p50/p99 latency, calls/s, what the gateway adds, and
//! the gateway's memory (VmRSS/VmHWM) idle and after each load.
//!
//! The same pair again in MCP 2026-07-28 (`2026 direct`, `2026 gateway`): a stateless client
//! (no `initialize`, no session; version, capabilities and client info in `params._meta`,
//! mirrored in `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`) against the same backend
//! process, which serves both eras, directly and through a second full-chain gateway whose
//! backend is declared `protocol = "2026-07-28"` (stateless requests over the shared pool). The
//! report ends with what the gateway adds in each era, side by side.
//!
//! A peer row, `peer`: mcp-proxy 0.6.0 from crates.io (installed by the bench, pinned; see
//! `support/e2e_peer.rs`) in front of the same backend, plain HTTP (it has no TLS listener).
//!
//! With `PORTCULLIS_E2E_BASELINE=<path to another portcullis binary>` (an earlier commit's
//! release build, say), one more row, `baseline`, runs that binary with the same full-chain
//! 2025 config in the same run, so a change is compared with what it replaces under the same
//! machine load.
//!
//! Run: `cargo bench --bench e2e` (about two minutes). Everything runs on 127.0.0.1 on free ports;
//! every process started here is killed when the bench ends, also on failure. After the load,
//! the bench checks that every call left an `allow` record in an audit trail that verifies, and
//! that the tool is pinned in the lockfile: the chain really ran.
//!
//! The backend is a minimal MCP server over Streamable HTTP (`support/e2e_backend.rs`), run
//! as its own process (this binary with `--e2e-backend`). Not the rmcp fixture
//! (`fixtures/conformance-server`): its axum listener leaves Nagle's algorithm on, so on a
//! keep-alive connection each SSE response waits ~40 ms for the client's delayed ACK, and a
//! backend that slow hides everything the gateway costs. The bench backend answers in
//! microseconds, so the direct numbers are close to the cost of the HTTP round trip and of the
//! load generator itself.
//!
//! The load generator is one MCP client (reqwest, HTTP/1.1 keep-alive, one client and one MCP
//! session per worker) used unchanged for both targets; only the URL, the trusted CA and the
//! bearer token differ. Its idle pool is not capped at one connection: hyper returns a
//! connection to the pool asynchronously after a streamed (SSE) body ends, so with a cap of one
//! the next call often found the pool empty and paid a fresh TLS handshake.
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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The tool every call invokes; `[naming] strategy = "priority"` keeps its bare name through
/// the gateway, so both targets receive byte-identical requests.
const TOOL: &str = "test_simple_text";

/// Calls per configuration (measured), and warm-up calls before them.
const PLAN: &[(usize, usize, usize)] = &[
    // (concurrency, warm-up calls, measured calls)
    (1, 300, 2_000),
    (16, 2_000, 20_000),
];

const POLICY: &str = r#"
@id("eng-may-use-fast")
permit (principal in Group::"eng", action in Action::"call_tool", resource in Backend::"fast");

@id("no-tools-with-findings")
forbid (principal, action in Action::"call_tool", resource)
when { !resource.findings.isEmpty() };
"#;

#[path = "support/floor_proxy.rs"]
mod floor_proxy;
#[path = "support/e2e_peer.rs"]
mod peer;

/// `<bench> --e2e-floor <cert> <key> <backend url>`: run the bare proxy.
const FLOOR_FLAG: &str = "--e2e-floor";

fn main() {
    if std::env::args().any(|a| a == BACKEND_FLAG) {
        backend::serve();
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, cert, key, url] = args.as_slice()
        && flag == FLOOR_FLAG
    {
        floor_proxy::serve(cert.as_ref(), key.as_ref(), url);
        return;
    }
    // `cargo test --benches` runs each bench binary with no `--bench` flag: compile only.
    if !std::env::args().any(|a| a == "--bench") {
        println!("e2e: run with `cargo bench --bench e2e`");
        return;
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let load_at_start = load_average();
    let work = tempfile::tempdir().unwrap();
    let backend = start_backend();
    let gw = start_gateway(work.path(), &backend.url, "2025-11-25");
    let modern_dir = work.path().join("modern");
    std::fs::create_dir(&modern_dir).unwrap();
    let gw26 = start_gateway(&modern_dir, &backend.url, "2026-07-28");
    let baseline_dir = work.path().join("baseline");
    let baseline = std::env::var_os("PORTCULLIS_E2E_BASELINE").map(|bin| {
        std::fs::create_dir(&baseline_dir).unwrap();
        start_gateway_with(Path::new(&bin), &baseline_dir, &backend.url, "2025-11-25")
    });
    let floor = start_floor(work.path(), &backend.url);
    let peer = peer::binary().map(|bin| start_peer(&bin, work.path(), &backend.url));
    let bare_dir = work.path().join("bare");
    std::fs::create_dir(&bare_dir).unwrap();
    let bare_gw = start_bare_gateway(&bare_dir, &backend.url);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let direct = Target {
        url: backend.url.clone(),
        ca: None,
        token: None,
        modern: false,
        tool: TOOL.into(),
    };
    let direct26 = Target {
        url: backend.url.clone(),
        ca: None,
        token: None,
        modern: true,
        tool: TOOL.into(),
    };
    let through26 = Target {
        url: gw26.url.clone(),
        ca: Some(std::fs::read(modern_dir.join("certs/dev.crt")).unwrap()),
        token: Some(gw26.token.clone()),
        modern: true,
        tool: TOOL.into(),
    };
    let ca = std::fs::read(work.path().join("certs/dev.crt")).unwrap();
    let bare = Target {
        url: floor.url.clone(),
        ca: Some(ca.clone()),
        token: None,
        modern: false,
        tool: TOOL.into(),
    };
    let unchecked = Target {
        url: bare_gw.url.clone(),
        ca: Some(std::fs::read(bare_dir.join("certs/dev.crt")).unwrap()),
        token: None,
        modern: false,
        tool: TOOL.into(),
    };
    let through = Target {
        url: gw.url.clone(),
        ca: Some(ca),
        token: Some(gw.token.clone()),
        modern: false,
        tool: TOOL.into(),
    };

    let through_peer = peer.as_ref().map(|p| Target {
        url: p.url.clone(),
        ca: None,
        token: None,
        modern: false,
        tool: format!("{}/{TOOL}", peer::BACKEND),
    });
    let through_baseline = baseline.as_ref().map(|b| Target {
        url: b.url.clone(),
        ca: Some(std::fs::read(baseline_dir.join("certs/dev.crt")).unwrap()),
        token: Some(b.token.clone()),
        modern: false,
        tool: TOOL.into(),
    });

    let idle = memory(gw.proc.child.id());
    let mut rows = Vec::new();
    let mut after = Vec::new();
    for &(conc, warm, n) in PLAN {
        let mut targets = vec![
            ("direct", &direct, None),
            ("floor", &bare, Some(floor.proc.child.id())),
            ("no checks", &unchecked, Some(bare_gw.proc.child.id())),
            ("gateway", &through, Some(gw.proc.child.id())),
        ];
        if let (Some(t), Some(b)) = (&through_baseline, &baseline) {
            targets.push(("baseline", t, Some(b.proc.child.id())));
        }
        if let (Some(t), Some(p)) = (&through_peer, &peer) {
            targets.push(("peer", t, Some(p.proc.child.id())));
        }
        targets.push(("2026 direct", &direct26, None));
        targets.push(("2026 gateway", &through26, Some(gw26.proc.child.id())));
        for (name, target, middle) in targets {
            let pids = [
                backend.proc.child.id(),
                middle.unwrap_or(0),
                std::process::id(),
            ];
            let r = rt.block_on(measure(target, conc, warm, n, pids));
            rows.push((name, conc, r));
        }
        after.push((conc, memory(gw.proc.child.id())));
    }
    let calls_through: usize = PLAN.iter().map(|(_, w, n)| w + n).sum();
    let audited = check_audit(&gw, calls_through);
    let audited26 = check_audit(&gw26, calls_through);
    let audited_baseline = baseline
        .as_ref()
        .map_or(0, |b| check_audit(b, calls_through));
    // The integrity stage pinned the tool it checked every call against.
    for dir in [work.path(), modern_dir.as_path()] {
        let lock = std::fs::read_to_string(dir.join("portcullis.lock")).unwrap_or_default();
        assert!(
            lock.contains(TOOL),
            "`{TOOL}` is not pinned in {}",
            dir.join("portcullis.lock").display()
        );
    }
    // Each gateway spoke its era to the backend: the backend counted every `tools/call` by the
    // era it came in (direct, floor, no checks, gateway and the baseline in 2025; the 2026 pair
    // in 2026).
    let legacy_rows = 4 + u64::from(baseline.is_some()) + u64::from(peer.is_some());
    let (legacy, modern) = rt.block_on(backend_counts(&direct));
    assert_eq!(
        (legacy, modern),
        (legacy_rows * calls_through as u64, 2 * calls_through as u64),
        "tools/call per era at the backend (2025, 2026-07-28)"
    );

    print_report(
        &load_at_start,
        backend.label,
        &rows,
        idle,
        &after,
        audited + audited26 + audited_baseline,
    );
    print_eras(&rows);
    let (before, with, n) = rt.block_on(idle_sessions(&through, gw.proc.child.id(), IDLE_SESSIONS));
    println!(
        "idle sessions: {n} sessions (no client connection open; each with its upstream session to the one HTTP backend) took VmRSS {:.1} -> {:.1} MiB: {:.1} KiB per idle session",
        before as f64 / 1024.0,
        with as f64 / 1024.0,
        with.saturating_sub(before) as f64 / n as f64
    );
    drop(floor);
    drop(peer);
    drop(bare_gw);
    drop(baseline);
    drop(gw26);
    drop(gw);
    drop(backend);
}

/// The one backend, the same for both gateways.
fn backend_section(backend_url: &str, protocol: &str) -> String {
    format!(
        r#"
# The backend listens on loopback, which the SSRF guard refuses unless listed.
[network]
dangerous_allow_private = ["127.0.0.1/32"]

[naming]
strategy = "priority"

[[backend]]
name = "fast"
url = "{backend_url}"
protocol = "{protocol}"
"#
    )
}

/// The gateway with every check off: TLS, anonymous callers, no policy, no limits, no audit
/// trail, integrity off. Between the floor and the full chain, it shows what the MCP handling
/// itself costs (sessions, JSON-RPC, SSE from the backend) and what the checks add.
fn start_bare_gateway(dir: &Path, backend_url: &str) -> Gateway {
    dev_cert(dir);
    let port = free_port();
    let config = format!(
        r#"
[listen]
address = "127.0.0.1:{port}"
public_url = "https://127.0.0.1:{port}/mcp"
tls = {{ cert = "certs/dev.crt", key = "certs/dev.key" }}

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true

[integrity]
mode = "off"
{}"#,
        backend_section(backend_url, "2025-11-25")
    );
    let config_path = dir.join("portcullis.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(["serve", "--config", config_path.to_str().unwrap()])
        .current_dir(dir);
    let mut proc = Proc::spawn(cmd, Some(dir.join("gateway.log")));
    let line = proc.wait_for_line("listening on");
    let url = line.rsplit(' ').next().unwrap().to_owned();
    Gateway {
        proc,
        url,
        token: String::new(),
        audit: dir.join("none"),
    }
}

/// The floor: a bare TLS reverse proxy (this bench binary in floor mode, see
/// `support/floor_proxy.rs`) in front of the same backend, with the gateway's dev certificate.
fn start_floor(dir: &Path, backend_url: &str) -> Backend {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg(FLOOR_FLAG)
        .arg(dir.join("certs/dev.crt"))
        .arg(dir.join("certs/dev.key"))
        .arg(backend_url);
    let mut proc = Proc::spawn(cmd, None);
    let line = proc.wait_for_line("listening on");
    let url = line.rsplit(' ').next().unwrap().to_owned();
    Backend {
        proc,
        url,
        label: "the bare proxy",
    }
}

/// The peer row's proxy (`support/e2e_peer.rs`) in front of the same backend, plain HTTP.
fn start_peer(bin: &Path, dir: &Path, backend_url: &str) -> Backend {
    let port = free_port();
    let config = dir.join("peer.toml");
    std::fs::write(&config, peer::config(port, backend_url)).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("--config").arg(&config).current_dir(dir);
    let proc = Proc::spawn(cmd, Some(dir.join("peer.log")));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{} {} did not listen on {port}: {}",
            peer::CRATE,
            peer::VERSION,
            std::fs::read_to_string(dir.join("peer.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Backend {
        proc,
        url: format!("http://127.0.0.1:{port}/"),
        label: "the peer",
    }
}

// ----- processes -----

/// A child process, killed and reaped on drop. Its stdout lines go to a channel (drained by a
/// thread, so a chatty child never blocks on a full pipe); stderr goes to a file or nowhere.
struct Proc {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Where stderr goes (shown when the process fails to start).
    log: Option<PathBuf>,
}

impl Proc {
    fn spawn(mut cmd: Command, log: Option<PathBuf>) -> Proc {
        let stderr = match &log {
            Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
            None => Stdio::null(),
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Proc { child, lines, log }
    }

    fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no line containing {needle:?} (exit status {:?}); stderr:\n{}",
                    self.child.try_wait(),
                    self.log
                        .as_ref()
                        .and_then(|p| std::fs::read_to_string(p).ok())
                        .unwrap_or_default()
                ),
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Backend {
    proc: Proc,
    url: String,
    label: &'static str,
}

/// The backend: this bench binary again, in backend mode (its own process, as a real backend
/// would be), or with `PORTCULLIS_E2E_BACKEND=rmcp` the rmcp fixture, built in release.
fn start_backend() -> Backend {
    let (mut cmd, label) = match std::env::var("PORTCULLIS_E2E_BACKEND").as_deref() {
        Ok("rmcp") => (Command::new(rmcp_fixture()), "the rmcp fixture"),
        _ => {
            let mut c = Command::new(std::env::current_exe().unwrap());
            c.arg(BACKEND_FLAG);
            (c, "the bench backend")
        }
    };
    cmd.args(["--port", "0"]);
    let mut proc = Proc::spawn(cmd, None);
    let line = proc.wait_for_line("listening on");
    let url = line.rsplit(' ').next().unwrap().to_owned();
    Backend { proc, url, label }
}

fn rmcp_fixture() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--release", "-p", "conformance-server"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success(), "building the conformance fixture failed");
    // target/release/deps/e2e-<hash> → target/release/conformance-server
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("conformance-server"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| root.join("target/release/conformance-server"))
}

struct Gateway {
    proc: Proc,
    url: String,
    token: String,
    audit: PathBuf,
}

fn portcullis(args: &[&str], dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "portcullis {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> u16 {
    // Free now; the gateway binds it a moment later. Another process taking it in between
    // would make the gateway fail to start, loudly: good enough for a bench.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A dev certificate for 127.0.0.1 in `dir/certs/` (`dev.crt`, `dev.key`).
fn dev_cert(dir: &Path) {
    portcullis(
        &[
            "dev-cert",
            "--out",
            "certs",
            "--name",
            "localhost",
            "--name",
            "127.0.0.1",
        ],
        dir,
    );
}

/// The gateway with every stage of the chain on, as a production config would have it, speaking
/// `protocol` to the backend.
fn start_gateway(dir: &Path, backend_url: &str, protocol: &str) -> Gateway {
    start_gateway_with(
        Path::new(env!("CARGO_BIN_EXE_portcullis")),
        dir,
        backend_url,
        protocol,
    )
}

/// [`start_gateway`] with another `portcullis` binary (the baseline).
fn start_gateway_with(bin: &Path, dir: &Path, backend_url: &str, protocol: &str) -> Gateway {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dev_cert(dir);
    let pol = dir.join("policies");
    std::fs::create_dir(&pol).unwrap();
    std::fs::copy(
        root.join("policies/portcullis.cedarschema"),
        pol.join("portcullis.cedarschema"),
    )
    .unwrap();
    std::fs::write(pol.join("bench.cedar"), POLICY).unwrap();
    std::fs::create_dir(dir.join("audit")).unwrap();
    let port = free_port();
    let config = format!(
        r#"
[listen]
address = "127.0.0.1:{port}"
public_url = "https://127.0.0.1:{port}/mcp"
tls = {{ cert = "certs/dev.crt", key = "certs/dev.key" }}

[auth]
mode = "oidc"
required_scopes = ["mcp"]
[[auth.issuers]]
issuer = "urn:portcullis:bench"
dev_key_file = "dev-signing-key.pem"
groups_claim = "groups"

[policy]
schema = "policies/portcullis.cedarschema"
policies = "policies"

# Generous: nothing is refused, but every limiter is consulted and charged on every call.
[limits]
global = "1000000/s"
per_backend = "1000000/s"
per_principal = "1000000/s"
per_principal_tool = "1000000/s"
max_sessions_per_principal = 1000

[audit]
file = "audit/portcullis.jsonl"
fsync = {{ interval_ms = 1000 }}

[admin]
address = "127.0.0.1:0"

# INTEGRITY: tool pins are checked on every call; the bench tool is pinned on first sight.
[integrity]
new_items = "trust_on_first_use"
{}"#,
        backend_section(backend_url, protocol)
    );
    let config_path = dir.join("portcullis.toml");
    std::fs::write(&config_path, config).unwrap();
    let cfg = config_path.to_str().unwrap();
    let token = portcullis(
        &[
            "token", "mint", "--config", cfg, "--sub", "bench", "--groups", "eng", "--scope",
            "mcp", "--ttl", "3600",
        ],
        dir,
    )
    .trim()
    .to_owned();
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--config", cfg]).current_dir(dir);
    let mut proc = Proc::spawn(cmd, Some(dir.join("gateway.log")));
    let line = proc.wait_for_line("listening on");
    let url = line.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("https://"), "gateway is not on TLS: {line}");
    Gateway {
        proc,
        url,
        token,
        audit: dir.join("audit/portcullis.jsonl"),
    }
}

/// Every call through the gateway left an `allow` record, and the chain verifies: the
/// audit and policy stages really ran. Returns the number of call records.
fn check_audit(gw: &Gateway, expected: usize) -> usize {
    // Records are on disk once their call returned (write(2) before forwarding).
    let text = std::fs::read_to_string(&gw.audit).unwrap();
    let calls = text
        .lines()
        .filter(|l| l.contains(r#""kind":"call""#) && l.contains(r#""decision":"allow""#))
        .count();
    assert_eq!(calls, expected, "call records in the audit trail");
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["audit", "verify"])
        .arg(&gw.audit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    calls
}

/// (VmRSS, VmHWM) in KiB from /proc/<pid>/status.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Sessions opened (and left idle) to measure the memory one idle session costs.
const IDLE_SESSIONS: usize = 500;

/// Open `n` sessions and leave them idle — no client connection open, as an idle session of
/// Streamable HTTP has none; the gateway's VmRSS before and with them.
async fn idle_sessions(t: &Target, pid: u32, n: usize) -> (u64, u64, usize) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = memory(pid).0;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        // Dropping the client closes its connection; the session stays.
        let c = Client::initialize(t).await;
        ids.push(c.session.clone());
    }
    // Let every upstream session finish connecting and the closed connections be reaped.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with = memory(pid).0;
    let mut closer = Client::new(t);
    for id in ids {
        closer.session = id;
        closer.close().await;
    }
    (before, with, n)
}

// ----- the load generator -----

struct Target {
    url: String,
    /// The CA to trust (the gateway's dev certificate); `None` for plain HTTP.
    ca: Option<Vec<u8>>,
    token: Option<String>,
    /// MCP 2026-07-28: no `initialize`, no session; every request carries the revision's
    /// `_meta` envelope and its mirror headers.
    modern: bool,
    /// The tool's name at this target (the peer namespaces it).
    tool: String,
}

/// One worker: its own connection and, in 2025, its MCP session.
struct Client {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    session: Option<String>,
    modern: bool,
    tool: String,
}

impl Client {
    fn new(t: &Target) -> Client {
        let mut b = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30));
        if let Some(pem) = &t.ca {
            b = b.tls_certs_only([reqwest::Certificate::from_pem(pem).unwrap()]);
        }
        Client {
            http: b.build().unwrap(),
            url: t.url.clone(),
            token: t.token.clone(),
            session: None,
            modern: t.modern,
            tool: t.tool.clone(),
        }
    }

    async fn post(&self, body: String) -> (u16, Option<String>, bytes::Bytes) {
        self.post_with(body, &[]).await
    }

    async fn post_with(
        &self,
        body: String,
        headers: &[(&str, &str)],
    ) -> (u16, Option<String>, bytes::Bytes) {
        let mut req = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(s) = &self.session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let sid = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, sid, resp.bytes().await.unwrap())
    }

    async fn initialize(t: &Target) -> Client {
        let mut c = Client::new(t);
        if c.modern {
            // 2026-07-28 has no handshake: the first request is the first call.
            return c;
        }
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "portcullis-e2e-bench", "version": "0"}}});
        let (status, sid, body) = c.post(init.to_string()).await;
        assert_eq!(
            status,
            200,
            "initialize: {}",
            String::from_utf8_lossy(&body)
        );
        c.session = Some(sid.expect("no Mcp-Session-Id"));
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (status, _, _) = c.post(note.to_string()).await;
        assert_eq!(status, 202, "notifications/initialized");
        c
    }

    /// One `tools/call`; fails loudly unless the response is this call's result.
    async fn call(&self, id: u64) {
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": self.tool,
            "arguments": {"query": "status of build 4127", "limit": 10}}});
        let (status, _, body) = if self.modern {
            msg["params"]["_meta"] = modern_meta();
            self.post_with(
                msg.to_string(),
                &[
                    ("mcp-protocol-version", MODERN),
                    ("mcp-method", "tools/call"),
                    ("mcp-name", self.tool.as_str()),
                ],
            )
            .await
        } else {
            self.post(msg.to_string()).await
        };
        assert_eq!(
            status,
            200,
            "tools/call: {}",
            String::from_utf8_lossy(&body)
        );
        let ok = messages(&body)
            .iter()
            .any(|m| m["id"] == json!(id) && m["result"]["content"].is_array());
        assert!(
            ok,
            "no result for call {id}: {}",
            String::from_utf8_lossy(&body)
        );
    }

    async fn close(&self) {
        if self.modern {
            return;
        }
        let mut req = self.http.delete(&self.url);
        if let Some(s) = &self.session {
            req = req
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let _ = req.send().await;
    }
}

/// The revision the `2026` rows speak.
const MODERN: &str = "2026-07-28";

/// The `_meta` envelope of a 2026-07-28 request: version, capabilities, client info.
fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "portcullis-e2e-bench", "version": "0"}
    })
}

/// How many `tools/call` the bench backend answered in each era: (2025, 2026-07-28).
async fn backend_counts(direct: &Target) -> (u64, u64) {
    let c = Client::new(direct);
    let msg = json!({"jsonrpc": "2.0", "id": 1, "method": backend::COUNTS, "params": {}});
    let (status, _, body) = c.post(msg.to_string()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let m = messages(&body).into_iter().next().unwrap();
    (
        m["result"]["legacy"].as_u64().unwrap(),
        m["result"]["modern"].as_u64().unwrap(),
    )
}

/// The JSON-RPC messages of a response body: one JSON document, or SSE `data:` events.
fn messages(body: &[u8]) -> Vec<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return vec![v];
    }
    let text = String::from_utf8_lossy(body);
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            serde_json::from_str(&data.join("\n")).ok()
        })
        .collect()
}

struct Run {
    latencies: Vec<Duration>,
    wall: Duration,
    /// CPU time (user + system) the backend, the gateway and this load generator spent in the
    /// measured phase.
    cpu: [Duration; 3],
}

impl Run {
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

/// `conc` workers, each with its own session; `warm` calls to warm up, then exactly `n`
/// measured calls taken from a shared counter (so a slow worker does not stretch the run).
async fn measure(t: &Target, conc: usize, warm: usize, n: usize, pids: [u32; 3]) -> Run {
    let mut clients = Vec::new();
    for _ in 0..conc {
        clients.push(Arc::new(Client::initialize(t).await));
    }
    let ids = Arc::new(AtomicU64::new(1));
    let phase = |budget: usize| {
        let left = Arc::new(AtomicU64::new(budget as u64));
        let handles: Vec<_> = clients
            .iter()
            .map(|c| {
                let (c, left, ids) = (c.clone(), left.clone(), ids.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    while left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
                        .is_ok()
                    {
                        let id = ids.fetch_add(1, Ordering::Relaxed);
                        let t0 = Instant::now();
                        c.call(id).await;
                        lat.push(t0.elapsed());
                    }
                    lat
                })
            })
            .collect();
        async move {
            let t0 = Instant::now();
            let mut all = Vec::with_capacity(budget);
            for h in handles {
                all.extend(h.await.unwrap());
            }
            (all, t0.elapsed())
        }
    };
    phase(warm).await;
    let before = pids.map(cpu_time);
    let (mut latencies, wall) = phase(n).await;
    let after = pids.map(cpu_time);
    let cpu = [0, 1, 2].map(|i| after[i].saturating_sub(before[i]));
    for c in &clients {
        c.close().await;
    }
    latencies.sort();
    Run {
        latencies,
        wall,
        cpu,
    }
}

/// User + system CPU time of a process, all threads (`/proc/<pid>/stat`, in clock ticks of
/// 10 ms: Linux reports them in `USER_HZ` = 100 on every architecture).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `state`, field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

// ----- the report -----

#[path = "support/e2e_report.rs"]
mod report;
use report::{load_average, print_eras, print_report};

// ----- the backend -----

const BACKEND_FLAG: &str = "--e2e-backend";

/// The bench backend (`support/e2e_backend.rs`): both eras from one process, counting
/// `tools/call` per era.
#[path = "support/e2e_backend.rs"]
mod backend;
