//! Graceful shutdown end to end: the real `portcullis` binary gets SIGTERM while a slow
//! `tools/call` (the demo backend's `slow`) is in flight. The listener closes at once (a new
//! connection is refused), the call in flight completes, upstream sessions are closed, the
//! audit trail is flushed and verifies; a call longer than `[listen] shutdown_grace_secs` is
//! cut off and the process still exits within the grace period plus a small margin.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn config(grace_secs: u64) -> String {
    let anon = ANON.replace(
        "address = \"127.0.0.1:0\"\n",
        &format!("address = \"127.0.0.1:0\"\nshutdown_grace_secs = {grace_secs}\n"),
    );
    assert_ne!(anon, ANON, "ANON no longer has the listen address line");
    format!(
        "{anon}\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n\n\
         [[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n",
        serde_json::to_string(&portcullis_bin().display().to_string()).unwrap()
    )
}

fn sigterm(gw: &Gateway) {
    let status = Command::new("kill")
        .args(["-TERM", &gw.proc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_log(gw: &Gateway, needle: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !gw.proc.stderr().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "{needle:?} not logged within {within:?}:\n{}",
            gw.proc.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait for the gateway process to exit; returns how long that took from `since`.
fn wait_exit(gw: &mut Gateway, since: Instant, limit: Duration) -> Duration {
    loop {
        if let Some(status) = gw.proc.child.try_wait().unwrap() {
            assert!(
                status.success(),
                "exit status {status}:\n{}",
                gw.proc.stderr()
            );
            return since.elapsed();
        }
        assert!(
            since.elapsed() < limit,
            "still running {limit:?} after SIGTERM:\n{}",
            gw.proc.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The trail verifies with `portcullis audit verify`; returns its records.
fn verified_trail(gw: &Gateway) -> Vec<Value> {
    let trail = gw.dir.path().join("audit.jsonl");
    let out = Command::new(portcullis_bin())
        .args(["audit", "verify"])
        .arg(&trail)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "audit verify failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("ok: "), "{stdout}");
    let text = std::fs::read_to_string(&trail).unwrap();
    assert!(text.ends_with('\n'), "the trail ends in a torn line");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Start `demo__slow` for `ms` on its own task; it resolves to the call's JSON-RPC response, or
/// to the transport error that ended it.
fn start_slow_call(
    rt: &tokio::runtime::Runtime,
    client: &RawClient,
    ms: u64,
) -> tokio::task::JoinHandle<Result<Value, String>> {
    let http = client.http.clone();
    let url = client.url.clone();
    let sid = client.session.clone().unwrap();
    rt.spawn(async move {
        let body = json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
            "params": {"name": "demo__slow", "arguments": {"ms": ms}}});
        let resp = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", sid)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("send: {e}"))?;
        let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
        common::rpc_messages(&text)
            .into_iter()
            .find(|m| m["id"] == 77)
            .ok_or_else(|| format!("no response in {text:?}"))
    })
}

/// Wait until the call record of the slow call is in the trail: the call passed the guard and
/// is running on the backend.
fn wait_call_recorded(gw: &Gateway) {
    let trail = gw.dir.path().join("audit.jsonl");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&trail).unwrap_or_default();
        if text.contains("\"tool\":\"demo__slow\"") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the slow call never reached the guard"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_in_flight_call_finishes_after_sigterm_and_new_connections_are_refused() {
    let mut gw = start_gateway(&config(40));
    let rt = runtime();
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    let slow = start_slow_call(&rt, &client, 3000);
    wait_call_recorded(&gw);

    let t0 = Instant::now();
    sigterm(&gw);
    wait_log(&gw, "listener closed", Duration::from_secs(5));
    // The grace period has begun: a new connection is refused by the OS.
    let refused =
        std::net::TcpStream::connect_timeout(&gw.addr.parse().unwrap(), Duration::from_secs(2));
    assert!(
        refused.is_err(),
        "a new connection was accepted while draining"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "the refusal came after the call finished"
    );

    // The call in flight completes normally.
    let m = rt.block_on(slow).unwrap().unwrap();
    assert_eq!(m["result"]["content"][0]["text"], "slept 3000 ms", "{m}");
    // Then the gateway exits on its own, long before the 40 s grace period. (It takes about
    // 3 s, the call's own length; the bound leaves room for a loaded machine, where one run
    // took 10 s, and still tells an exit after the call from one at the end of the grace.)
    let took = wait_exit(&mut gw, t0, Duration::from_secs(30));
    assert!(took < Duration::from_secs(20), "{took:?}");

    // Upstream sessions were closed and recorded, and the trail's last line is a whole record.
    let records = verified_trail(&gw);
    assert!(
        records
            .iter()
            .any(|r| r["kind"] == "call" && r["tool"] == "demo__slow" && r["decision"] == "allow"),
        "{records:?}"
    );
    let last = records.last().unwrap();
    assert_eq!(last["kind"], "session_end", "{last}");
    assert_eq!(last["reason"], "gateway shutting down", "{last}");
    assert_eq!(last["session_id"], client.session.clone().unwrap().as_str());
}

#[test]
fn a_call_longer_than_the_grace_period_is_cut_off() {
    let grace = 2;
    let mut gw = start_gateway(&config(grace));
    let rt = runtime();
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    let slow = start_slow_call(&rt, &client, 60_000);
    wait_call_recorded(&gw);

    let t0 = Instant::now();
    sigterm(&gw);
    // Cut off: the client sees its stream end without a response.
    let outcome = rt.block_on(slow).unwrap();
    assert!(outcome.is_err(), "the 60 s call completed: {outcome:?}");
    let cut = t0.elapsed();
    assert!(
        cut >= Duration::from_secs(grace) - Duration::from_millis(200),
        "{cut:?}"
    );
    // Exit within the grace period plus a margin for closing upstream sessions.
    let took = wait_exit(&mut gw, t0, Duration::from_secs(grace + 10));
    assert!(took < Duration::from_secs(grace + 5), "{took:?}");
    assert!(
        gw.proc
            .stderr()
            .contains("request still in flight at the end of the shutdown grace period"),
        "{}",
        gw.proc.stderr()
    );
    let records = verified_trail(&gw);
    assert_eq!(records.last().unwrap()["kind"], "session_end");
}

#[test]
fn an_open_get_stream_does_not_hold_shutdown() {
    let mut gw = start_gateway(&config(30));
    let rt = runtime();
    let mut client = RawClient::new(&gw.url);
    rt.block_on(client.initialize());
    // A standalone server-to-client stream, open until the gateway ends it.
    let http = client.http.clone();
    let (url, sid) = (client.url.clone(), client.session.clone().unwrap());
    let stream = rt.spawn(async move {
        let resp = http
            .get(&url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", sid)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // Ends (cleanly or not) when the gateway closes it.
        let _ = resp.text().await;
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(!stream.is_finished());

    let t0 = Instant::now();
    sigterm(&gw);
    let took = wait_exit(&mut gw, t0, Duration::from_secs(20));
    assert!(took < Duration::from_secs(5), "{took:?}");
    rt.block_on(stream).unwrap();
    verified_trail(&gw);
}
