//! The audit trail's two findings of the outside security test (issue 15), through the real
//! binary: a line-splitting reader sees exactly one line per record whatever control or
//! line-separator characters a client puts in its fields (finding 8), and records cut from
//! the END of a trail are caught — by `portcullis audit verify` with the saved head, and by a
//! restarted gateway, which refuses to start instead of reusing their sequence numbers unless
//! told to go on, loudly (finding 15).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn demo_backend() -> String {
    format!(
        "[[backend]]\nname = \"demo\"\ncommand = [\"{}\", \"demo-server\"]\n",
        portcullis_bin().display()
    )
}

fn config(audit: &str) -> String {
    format!("{ANON}\n[audit]\n{audit}\n\n{}", demo_backend())
}

/// `portcullis audit verify [args…] <file>`: (success, stdout + stderr).
fn verify(args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new(portcullis_bin())
        .args(["audit", "verify"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn records(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Python's `str.splitlines()` boundaries: what a line-splitting reader (log shippers, SIEM
/// agents, `splitlines`, many JSON-lines readers) takes for a line end.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{1C}'
            | '\u{1D}'
            | '\u{1E}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Every character a client may use to split or disguise an audit line: the line breaks
/// above, the rest of C0 and C1, DEL, and a bidirectional override.
const HOSTILE: &str = "a\u{2028}b\u{2029}c\u{85}d\re\u{0B}f\u{0C}g\u{1C}h\u{1D}i\u{1E}j\u{7F}k\u{9B}l\u{1B}[2Jm\u{202E}n\u{0}o\tp";

async fn initialize_as(url: &str, name: &str) -> String {
    let http = reqwest::Client::new();
    let msg = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": name, "version": name}}});
    let resp = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(msg.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers()
        .get("mcp-session-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn control_and_line_separator_characters_are_escaped_one_line_per_record() {
    let gw = start_gateway(&config(
        "file = \"audit.jsonl\"\nfsync = \"never\"\ninclude_args = true",
    ));
    let trail = gw.dir.path().join("audit.jsonl");
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.session = Some(initialize_as(&gw.url, HOSTILE).await);
        let (status, _) = c
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(status, 202);
        let call = json!({"jsonrpc": "2.0", "id": HOSTILE, "method": "tools/call",
            "params": {"name": "demo__echo", "arguments": {"message": HOSTILE, HOSTILE: 1}}});
        // The demo refuses the unknown argument: the call is still allowed and recorded.
        let (status, msgs) = c.post(&call).await;
        assert_eq!(status, 200, "{msgs:?}");
        let call = json!({"jsonrpc": "2.0", "id": HOSTILE, "method": "tools/call",
            "params": {"name": "demo__echo", "arguments": {"message": HOSTILE}}});
        let (status, msgs) = c.post(&call).await;
        assert_eq!(status, 200, "{msgs:?}");
        assert_eq!(
            msgs.last().unwrap()["result"]["content"][0]["text"],
            HOSTILE
        );
    });

    let text = std::fs::read_to_string(&trail).unwrap();
    let recs = records(&trail);
    let calls: Vec<&Value> = recs.iter().filter(|r| r["kind"] == "call").collect();
    assert_eq!(calls.len(), 2, "{text}");
    // The client's text reached the records intact…
    let start = recs.iter().find(|r| r["kind"] == "session_start").unwrap();
    assert_eq!(start["client"]["name"], HOSTILE, "{start}");
    assert_eq!(start["client"]["version"], HOSTILE, "{start}");
    for r in &calls {
        // A string id is recorded as its JSON text.
        assert_eq!(r["request_id"], json!(HOSTILE).to_string(), "{r}");
        assert_eq!(r["args"]["message"], HOSTILE, "{r}");
    }
    assert_eq!(calls[0]["args"][HOSTILE], 1, "{}", calls[0]);
    // …and no character of it is raw in the file: a line-splitting reader sees one line per
    // record, and nothing in a line is a control character.
    let split: Vec<&str> = text
        .split(is_line_break)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(split.len(), recs.len(), "line-splitting reader: {split:#?}");
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line
            .chars()
            .find(|c| c.is_control() || ('\u{2028}'..='\u{202E}').contains(c))
        {
            panic!("line {} carries U+{:04X} raw: {line}", i + 1, u32::from(c));
        }
    }
    let (ok, out) = verify(&[], &trail);
    assert!(ok, "{out}");
    println!("{} records, one line each; {}", recs.len(), out.trim());
    drop(gw);
}

fn sigterm_and_wait(mut gw: Gateway) -> tempfile::TempDir {
    let status = Command::new("kill")
        .args(["-TERM", &gw.proc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while gw.proc.is_running() {
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let Gateway { dir, .. } = gw;
    dir
}

async fn echo_calls(url: &str, n: usize, tag: &str) {
    let mut c = RawClient::new(url);
    c.initialize().await;
    for i in 0..n {
        let r = c
            .request(
                "tools/call",
                json!({"name": "demo__echo", "arguments": {"message": format!("{tag}-{i}")}}),
            )
            .await;
        assert_eq!(
            r["result"]["content"][0]["text"],
            format!("{tag}-{i}"),
            "{r}"
        );
    }
}

/// `serve` on `config`; waits until it listens or exits. `Ok(url)`, or `Err(stderr)` when it
/// exited (with a failure status).
fn serve(config: &Path) -> Result<(Proc, String), String> {
    let mut cmd = Command::new(portcullis_bin());
    cmd.arg("serve")
        .arg("--config")
        .arg(config)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .env("PORTCULLIS_LOG", "info")
        .stdin(Stdio::null());
    let mut proc = Proc::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listening = proc
            .stdout_lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains("listening on"))
            .map(|line| line.rsplit(' ').next().unwrap().to_owned());
        if let Some(url) = listening {
            return Ok((proc, url));
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            assert!(!status.success(), "exited with success before listening");
            // Let the reader threads catch the last lines.
            std::thread::sleep(Duration::from_millis(200));
            return Err(proc.stderr());
        }
        assert!(Instant::now() < deadline, "neither listening nor exited");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Removes the last `n` lines of `file`; returns them.
fn cut_tail(file: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let cut: Vec<String> = lines
        .split_off(lines.len() - n)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut body = lines.join("\n");
    body.push('\n');
    std::fs::write(file, body).unwrap();
    cut
}

#[test]
fn records_cut_from_the_end_are_caught_by_verify_and_by_a_restart() {
    let gw = start_gateway(&config("file = \"audit.jsonl\""));
    let trail = gw.dir.path().join("audit.jsonl");
    let head_file = gw.dir.path().join("audit.jsonl.head");
    let config_path = gw.config_path.clone();
    runtime().block_on(echo_calls(&gw.url, 5, "first"));
    let dir = sigterm_and_wait(gw);

    // The head file beside the trail names the last record written (`SEQ:HASH`).
    let saved = std::fs::read_to_string(&head_file).unwrap();
    let saved = saved.trim();
    let recs = records(&trail);
    let last = recs.last().unwrap()["seq"].as_u64().unwrap();
    let (ok, out) = verify(&[], &trail);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!(
            "last seq {last}, head {}",
            &saved[saved.find(':').unwrap() + 1..]
        )),
        "{out}"
    );
    assert_eq!(saved.split(':').next().unwrap(), last.to_string());
    // The intact trail proves itself against the head, given as text or as the file.
    let (ok, out) = verify(&["--expect-head", saved], &trail);
    assert!(ok, "{out}");
    let (ok, out) = verify(&["--expect-head", head_file.to_str().unwrap()], &trail);
    assert!(ok, "{out}");

    // Cut the last two records: the chain itself still links, but the head does not match.
    let copy = dir.path().join("intact.jsonl");
    std::fs::copy(&trail, &copy).unwrap();
    let cut = cut_tail(&trail, 2);
    println!("cut {} records: {cut:?}", cut.len());
    for args in [
        vec!["--expect-head", saved],
        vec!["--expect-head", head_file.to_str().unwrap()],
        vec![], // the head file beside the trail is found on its own
    ] {
        let (ok, out) = verify(&args, &trail);
        assert!(!ok, "a cut trail verified with {args:?}:\n{out}");
        assert!(
            out.contains(&format!("ends at seq {}", last - 2))
                && out.contains(&format!("seq {last}"))
                && out.contains("cut from the end"),
            "{args:?}: {out}"
        );
        println!("verify {args:?}: {}", out.trim());
    }

    // A restart on the cut trail refuses to start, naming both files and the fixes.
    let err = serve(&config_path).map(|_| ()).unwrap_err();
    println!("restart refused:\n{err}");
    for needle in [
        trail.display().to_string(),
        head_file.display().to_string(),
        format!("ends at seq {}", last - 2),
        "dangerous_continue_after_gap".to_owned(),
    ] {
        assert!(err.contains(&needle), "no {needle:?} in:\n{err}");
    }
    assert_eq!(
        records(&trail).len(),
        recs.len() - 2,
        "the refused start wrote"
    );

    // Told to go on, it does so loudly: an `audit_gap` record first, numbered after the saved
    // head (no sequence number is used twice), and `verify` names the gap.
    let text = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(
        &config_path,
        text.replace(
            "file = \"audit.jsonl\"",
            "file = \"audit.jsonl\"\ndangerous_continue_after_gap = true",
        ),
    )
    .unwrap();
    let (proc, url) = serve(&config_path).unwrap();
    assert!(
        proc.stderr().contains("audit_gap") || proc.stderr().contains("cut from the end"),
        "{}",
        proc.stderr()
    );
    runtime().block_on(echo_calls(&url, 2, "second"));
    drop(proc);
    let after = records(&trail);
    let gap = &after[recs.len() - 2];
    assert_eq!(gap["kind"], "audit", "{gap}");
    assert_eq!(gap["extra"]["event"], "audit_gap", "{gap}");
    assert_eq!(gap["seq"].as_u64(), Some(last + 1), "{gap}");
    assert_eq!(gap["prev"], saved[saved.find(':').unwrap() + 1..], "{gap}");
    assert_eq!(
        gap["extra"]["missing_from"].as_u64(),
        Some(last - 1),
        "{gap}"
    );
    assert_eq!(gap["extra"]["missing_to"].as_u64(), Some(last), "{gap}");
    let seqs: Vec<u64> = after.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    let mut unique = seqs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seqs.len(), "a seq used twice: {seqs:?}");
    let (ok, out) = verify(&[], &trail);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("line {}", recs.len() - 1)) && out.contains("were deleted"),
        "{out}"
    );
    println!("after going on: {}", out.trim());

    // The untouched copy still proves itself against the head.
    let (ok, out) = verify(&["--expect-head", saved], &copy);
    assert!(ok, "{out}");
    let _keep: PathBuf = dir.path().to_path_buf();
}
