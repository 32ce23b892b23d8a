//! What an operator meets on day one (issue 16), through the real binary:
//!
//! - a backend that never answers its `initialize` (an HTTP listener that accepts and never
//!   answers, a stdio child that reads and never writes) never delays a session: the session
//!   starts with what is up, the dead backends show in `/readyz` and the logs, and a backend that
//!   comes up later joins every session with `notifications/tools/list_changed`;
//! - stdio children are shared by `[[backend]] upstream_sessions`: a principal's sessions share
//!   one child (the default), `per_session` gives each session its own, principals never share
//!   one unless the backend is `shared`;
//! - on a child several principals share, what the backend sends on its own (a log message that
//!   belongs to no call) reaches none of them: it never lands on another principal's call.
//!
//! Timings are printed (`-- --nocapture`), never asserted.

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
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A TOML basic string (JSON string escapes are valid TOML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn qp(p: &Path) -> String {
    q(p.to_str().expect("test paths are UTF-8"))
}

/// A stdio child that reads its input and never writes a byte (its stdout stays open: a child
/// that closes it is seen to exit at once).
const SILENT_SH: &str = "while read -r line; do :; done";

/// A stdio backend that is silent (as [`SILENT_SH`]) while `$FLAG` exists, and the built-in
/// demo server otherwise: a backend that is down, or comes up, on the test's cue.
const LATE_SH: &str = "if [ -e \"$FLAG\" ]; then while read -r line; do :; done; exit 0; fi\n\
                       exec \"$DEMO\" demo-server\n";

/// An HTTP "backend" that accepts connections and never answers a byte.
fn silent_http_backend() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    url
}

/// The admin listener's address, from the gateway's banner.
fn admin_of(gw: &Gateway) -> String {
    gw.proc
        .wait_for_line("portcullis admin on", Duration::from_secs(10))
        .split("http://")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned()
}

async fn readyz(admin: &str) -> Value {
    let text = reqwest::Client::new()
        .get(format!("http://{admin}/readyz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Poll `/readyz` until `backend` is reported `state`.
async fn until_ready_says(admin: &str, backend: &str, state: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let r = readyz(admin).await;
        if r["checks"]["backends"][backend] == state {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz never said {backend} is {state}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Open the session's standalone (GET) stream; every JSON-RPC message on it is sent to the
/// returned channel. Must be called inside the runtime.
fn open_stream(c: &RawClient) -> mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut req = c
        .http
        .get(&c.url)
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(s) = &c.session {
        req = req.header("mcp-session-id", s);
    }
    if let Some(t) = &c.token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    tokio::spawn(async move {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "GET stream refused");
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(i) = buf.find("\n\n") {
                let event: String = buf.drain(..i + 2).collect();
                for m in sse_messages(&event) {
                    let _ = tx.send(m);
                }
            }
        }
    });
    rx
}

/// Wait for a message with `method` on a stream; `false` when none came in time.
async fn heard(rx: &mut mpsc::UnboundedReceiver<Value>, method: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) if m["method"] == method => return true,
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return false,
        }
    }
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

/// Poll `tools/list` until it lists `name`.
async fn until_listed(c: &RawClient, name: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let names = tool_names(c).await;
        if names.iter().any(|n| n == name) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "`{name}` never listed: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn timed_initialize(c: &mut RawClient) -> Duration {
    let t = Instant::now();
    c.initialize().await;
    t.elapsed()
}

/// The gateway's log without colours.
fn plain_log(gw: &Gateway) -> String {
    let raw = gw.proc.stderr();
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Child processes of `pid` whose command line contains `needle`.
fn children_matching(pid: u32, needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(list) = std::fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        for child in list
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(needle) && !out.contains(&child) {
                out.push(child);
            }
        }
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

// ----- 1. a backend that never answers never delays a session -----

#[test]
fn a_backend_that_never_answers_never_delays_a_session_and_joins_when_it_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let bin = portcullis_bin();
    let script = dir.path().join("late.sh");
    write(&script, LATE_SH);
    let flag = |name: &str| dir.path().join(format!("{name}.silent"));
    // `late` and `early` are down at start; `flaky` is up at start and goes silent later.
    write(&flag("late"), "");
    write(&flag("early"), "");
    let late_backend = |name: &str, extra: &str| {
        format!(
            "\n[[backend]]\nname = {}\ncommand = [\"/bin/sh\", {}]\n\
             env = {{ FLAG = {}, DEMO = {}, PATH = \"/usr/bin:/bin\" }}\ninit_timeout_secs = 3\n{extra}",
            q(name),
            qp(&script),
            qp(&flag(name)),
            qp(&bin),
        )
    };
    let config = format!(
        "{ANON}\n[admin]\naddress = \"127.0.0.1:0\"\n\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n\
         \n[[backend]]\nname = \"demo\"\ncommand = [{bin}, \"demo-server\"]\n\
         \n[[backend]]\nname = \"silent_http\"\nurl = {silent}\ninit_timeout_secs = 3\n\
         \n[[backend]]\nname = \"silent_stdio\"\ncommand = [\"/bin/sh\", \"-c\", {silent_sh}]\n\
         init_timeout_secs = 3\n{late}{early}{flaky}",
        bin = qp(&bin),
        silent_sh = q(SILENT_SH),
        silent = q(&silent_http_backend()),
        late = late_backend("late", ""),
        early = late_backend("early", ""),
        flaky = late_backend("flaky", "upstream_sessions = \"per_session\"\n"),
    );
    let flags = (flag("late"), flag("early"), flag("flaky"));
    let started = Instant::now();
    let gw = start_gateway_in(&config, dir);
    let start_up = started.elapsed();
    let admin = admin_of(&gw);
    // `early` comes up after the start-up probe found it down, before any session.
    std::fs::remove_file(&flags.1).unwrap();
    let rt = runtime();
    rt.block_on(async {
        let mut clients = Vec::new();
        let mut times = Vec::new();
        for _ in 0..5 {
            let mut c = RawClient::new(&gw.url);
            times.push(timed_initialize(&mut c).await);
            clients.push(c);
        }
        let first = &clients[0];
        let mut stream = open_stream(first);

        // The session works with what is up.
        let names = tool_names(first).await;
        assert!(names.contains(&"demo__add".to_owned()), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("silent_")), "{names:?}");
        let r = first
            .request(
                "tools/call",
                json!({ "name": "demo__add", "arguments": { "a": 2, "b": 40 } }),
            )
            .await;
        assert_eq!(r["result"]["structuredContent"]["sum"], 42, "{r}");

        // The dead backends are reported, the others up.
        let r = readyz(&admin).await;
        for dead in ["silent_http", "silent_stdio", "late"] {
            assert_eq!(r["checks"]["backends"][dead], "down", "{dead}: {r}");
        }
        assert_eq!(r["checks"]["backends"]["demo"], "up", "{r}");
        assert_eq!(r["checks"]["backends"]["flaky"], "up", "{r}");
        assert_eq!(
            r["ready"], true,
            "a backend down does not make the gateway unready: {r}"
        );

        // `early`, up since before the session started, joins it: the session hears
        // list_changed, lists its tools, and /readyz says it is up.
        let t = Instant::now();
        assert!(
            heard(
                &mut stream,
                "notifications/tools/list_changed",
                Duration::from_secs(15)
            )
            .await,
            "no list_changed for `early`"
        );
        until_listed(first, "early__echo", Duration::from_secs(5)).await;
        until_ready_says(&admin, "early", "up", Duration::from_secs(5)).await;
        let early_joined = t.elapsed();

        // `late` comes up while the session runs: the same.
        let t = Instant::now();
        std::fs::remove_file(&flags.0).unwrap();
        assert!(
            heard(
                &mut stream,
                "notifications/tools/list_changed",
                Duration::from_secs(30)
            )
            .await,
            "no list_changed for `late`"
        );
        until_listed(first, "late__echo", Duration::from_secs(30)).await;
        until_ready_says(&admin, "late", "up", Duration::from_secs(5)).await;
        let late_joined = t.elapsed();
        // The other sessions of the principal share `late`'s link: they see it too.
        until_listed(&clients[4], "late__echo", Duration::from_secs(5)).await;

        // `flaky` was up at start and now never answers. A backend believed up is waited for at
        // most its `init_timeout_secs`, once: the failure marks it down, and the next session
        // does not wait for it.
        write(&flags.2, "");
        let mut x = RawClient::new(&gw.url);
        let x_time = timed_initialize(&mut x).await;
        let mut y = RawClient::new(&gw.url);
        let y_time = timed_initialize(&mut y).await;
        let mut y_stream = open_stream(&y);
        let names = tool_names(&y).await;
        assert!(names.contains(&"demo__echo".to_owned()), "{names:?}");
        assert!(!names.contains(&"flaky__echo".to_owned()), "{names:?}");
        until_ready_says(&admin, "flaky", "down", Duration::from_secs(5)).await;
        std::fs::remove_file(&flags.2).unwrap();
        assert!(
            heard(
                &mut y_stream,
                "notifications/tools/list_changed",
                Duration::from_secs(30)
            )
            .await,
            "no list_changed for `flaky`"
        );
        until_listed(&y, "flaky__echo", Duration::from_secs(30)).await;

        println!(
            "gateway start (probe bounded by init_timeout_secs = 3 of the silent backends): {}",
            ms(start_up)
        );
        println!(
            "initialize of 5 sessions with 3 backends silent and 1 just up: {}",
            times.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ")
        );
        println!(
            "`early` (up before the session) in its lists: {}; `late` (up during it): {}",
            ms(early_joined),
            ms(late_joined)
        );
        println!(
            "a backend up at start that stopped answering: first new session {}, next {}",
            ms(x_time),
            ms(y_time)
        );
    });
    let log = plain_log(&gw);
    for dead in ["silent_http", "silent_stdio", "late", "early"] {
        assert!(
            log.lines()
                .any(|l| l.contains("backend probe failed") && l.contains(dead)),
            "the log does not name `{dead}` as down:\n{log}"
        );
    }
    assert!(
        log.lines().any(|l| (l.contains("backend back up")
            || l.contains("backend up after it was found down"))
            && l.contains("backend=late")),
        "the log does not say `late` came up:\n{log}"
    );
    let audit = std::fs::read_to_string(gw.dir.path().join("audit.jsonl")).unwrap();
    for up in ["early", "late"] {
        assert!(
            audit.lines().any(|l| {
                let r: Value = serde_json::from_str(l).unwrap();
                r["kind"] == "backend_up" && r["backend"] == up
            }),
            "no backend_up record for `{up}`"
        );
    }
}

// ----- 2. sharing stdio children -----

#[test]
fn a_principals_sessions_share_one_child_and_per_session_gives_each_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let bin = portcullis_bin();
    // Another name for the same program, so the two backends' children can be told apart.
    let solo = dir.path().join("solo-demo");
    std::os::unix::fs::symlink(&bin, &solo).unwrap();
    let config = format!(
        "{ANON}\n[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n\
         \n[[backend]]\nname = \"solo\"\ncommand = [{}, \"demo-server\"]\nupstream_sessions = \"per_session\"\n",
        qp(&bin),
        qp(&solo),
    );
    let gw = start_gateway_in(&config, dir);
    let pid = gw.proc.child.id();
    let rt = runtime();
    let clients = rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..20 {
            let mut c = RawClient::new(&gw.url);
            c.initialize().await;
            let names = tool_names(&c).await;
            assert!(
                names.contains(&"demo__echo".to_owned())
                    && names.contains(&"solo__echo".to_owned()),
                "{names:?}"
            );
            clients.push(c);
        }
        clients
    });
    let bin_text = bin.display().to_string();
    let shared = children_matching(pid, &bin_text);
    let own = children_matching(pid, &solo.display().to_string());
    println!(
        "20 sessions of one principal: {} `demo` child(ren) (per_principal), {} `solo` children (per_session)",
        shared.len(),
        own.len()
    );
    assert_eq!(shared.len(), 1, "per_principal: one child for 20 sessions");
    assert_eq!(own.len(), 20, "per_session: one child per session");
    drop(clients);
}

/// A gateway with OIDC on a dev key (two principals can connect), no policy.
fn two_principal_config(backends: &str) -> String {
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

[integrity]
new_items = "trust_on_first_use"
{backends}
"#
    )
}

fn mint(config: &Path, sub: &str) -> String {
    let out = Command::new(portcullis_bin())
        .args(["token", "mint", "--sub", sub, "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn principals_never_share_a_child_unless_shared_and_then_get_none_of_each_others_messages() {
    let d = deps();
    let dir = tempfile::tempdir().unwrap();
    let bin = portcullis_bin();
    let backends = format!(
        "\n[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n\
         \n[[backend]]\nname = \"everything\"\ncommand = [{}, {}]\nupstream_sessions = \"shared\"\n",
        qp(&bin),
        qp(&d.node22),
        qp(&d.server_everything),
    );
    let config = two_principal_config(&backends);
    let cfg_path = dir.path().join("portcullis.toml");
    write(&cfg_path, &config);
    let alice = mint(&cfg_path, "alice");
    let bob = mint(&cfg_path, "bob");
    let gw = start_gateway_in(&config, dir);
    let pid = gw.proc.child.id();
    let rt = runtime();
    rt.block_on(async {
        let mut sessions = Vec::new();
        for token in [&alice, &alice, &alice, &bob, &bob, &bob] {
            let mut c = RawClient::new(&gw.url).with_token(token);
            c.initialize().await;
            sessions.push(c);
        }
        let demo = children_matching(pid, &bin.display().to_string());
        let everything = children_matching(pid, &d.server_everything.display().to_string());
        println!(
            "3 sessions each of 2 principals: {} `demo` children (per_principal), {} `everything` child(ren) (shared)",
            demo.len(),
            everything.len()
        );
        assert_eq!(demo.len(), 2, "per_principal: one child per principal");
        assert_eq!(everything.len(), 1, "shared: one child for both principals");

        let mut streams: Vec<_> = sessions.iter().map(open_stream).collect();
        let (a, b) = (&sessions[0], &sessions[3]);
        // Alice makes the shared backend log every 5 s, to no call in particular.
        let r = a
            .request(
                "tools/call",
                json!({ "name": "everything__toggle-simulated-logging", "arguments": {} }),
            )
            .await;
        assert!(r["result"].is_object(), "{r}");
        // Meanwhile Bob's call is the only one in flight on the shared child for 11 s.
        let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "everything__trigger-long-running-operation",
            "arguments": { "duration": 11, "steps": 11 },
            "_meta": { "progressToken": "bob-1" }}});
        let (status, msgs) = b.post(&call).await;
        assert_eq!(status, 200, "{msgs:?}");
        let progress = msgs
            .iter()
            .filter(|m| m["method"] == "notifications/progress")
            .collect::<Vec<_>>();
        assert!(!progress.is_empty(), "Bob's own progress reaches him: {msgs:?}");
        assert!(
            progress.iter().all(|m| m["params"]["progressToken"] == "bob-1"),
            "{progress:?}"
        );
        let logs: Vec<&Value> = msgs
            .iter()
            .filter(|m| m["method"] == "notifications/message")
            .collect();
        assert!(
            logs.is_empty(),
            "a log message of the shared backend reached Bob's call: {logs:?}"
        );
        assert!(
            msgs.last().is_some_and(|m| m["id"] == 7 && m["result"].is_object()),
            "{msgs:?}"
        );
        let r = a
            .request(
                "tools/call",
                json!({ "name": "everything__toggle-simulated-logging", "arguments": {} }),
            )
            .await;
        assert!(r["result"].is_object(), "{r}");
        // Bob's standalone streams got none of it either.
        for (i, s) in streams.iter_mut().enumerate().skip(3) {
            while let Ok(m) = s.try_recv() {
                assert_ne!(
                    m["method"], "notifications/message",
                    "Bob's session {i} got a log message of the shared backend: {m}"
                );
            }
        }
    });
}
