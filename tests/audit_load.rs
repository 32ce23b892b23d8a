//! The audit trail under load and under attack, through the running gateway with its demo
//! backend: 10,000 concurrent calls from several principals give exactly one record each in one
//! unbroken chain (and the metrics agree); an edited, deleted or reordered line is named by
//! `portcullis audit verify`; a gateway killed with SIGKILL continues the chain on restart; and
//! a trail that cannot be written refuses calls (or, with `on_failure = "continue"`, does not)
//! while the gateway keeps serving.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const PERMIT_DEMO: &str = r#"
@id("anyone-may-call-demo")
permit (principal, action in Action::"call_tool", resource in Backend::"demo");
"#;

const SESSIONS: usize = 8;
const CONCURRENCY: usize = 64;
const CALLS: usize = 10_000;

fn demo_backend() -> String {
    format!(
        "[[backend]]\nname = \"demo\"\ncommand = [\"{}\", \"demo-server\"]\n",
        portcullis_bin().display()
    )
}

/// Start `portcullis serve --config <config>` on a free port; returns it and its MCP URL.
fn spawn_gateway(config: &Path) -> (Proc, String) {
    let mut cmd = Command::new(portcullis_bin());
    cmd.arg("serve")
        .arg("--config")
        .arg(config)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .env("PORTCULLIS_LOG", "info,portcullis=debug");
    let proc = Proc::spawn(cmd);
    let line = proc.wait_for_line("listening on", Duration::from_secs(60));
    let url = line.rsplit(' ').next().unwrap().to_owned();
    (proc, url)
}

/// The admin address from the `portcullis admin on http://…` line (printed after "listening").
fn admin_addr(proc: &Proc) -> String {
    proc.wait_for_line("portcullis admin on", Duration::from_secs(10))
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_start_matches("http://")
        .to_owned()
}

fn mint(config: &Path, sub: &str) -> String {
    let out = Command::new(portcullis_bin())
        .args(["token", "mint", "--config"])
        .arg(config)
        .args(["--sub", sub])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `portcullis audit verify <file>`: (success, stdout + stderr).
fn verify(file: &Path) -> (bool, String) {
    let out = Command::new(portcullis_bin())
        .args(["audit", "verify"])
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

/// The line number `audit verify` names in "broken: `<file>` line <n> …".
fn broken_line(output: &str, file: &Path) -> u64 {
    let needle = format!("broken: `{}` line ", file.display());
    let rest = output
        .split_once(&needle)
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{output}"))
        .1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no line number in:\n{output}"))
}

fn records(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `seq` is 1, 2, 3… over the whole file.
fn assert_seq_contiguous(recs: &[Value]) {
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(
            r["seq"].as_u64(),
            Some(i as u64 + 1),
            "line {} breaks the sequence: {r}",
            i + 1
        );
    }
}

fn count(recs: &[Value], kind: &str, decision: &str) -> usize {
    recs.iter()
        .filter(|r| r["kind"] == kind && r["decision"] == decision)
        .count()
}

/// `seq kind[/event][ count]` of each record, for the log.
fn summary(recs: &[Value]) -> Vec<String> {
    recs.iter()
        .map(|r| {
            let mut s = format!("{} {}", r["seq"], r["kind"].as_str().unwrap_or("?"));
            if let Some(e) = r["extra"]["event"].as_str() {
                s.push('/');
                s.push_str(e);
            }
            if let Some(n) = r["extra"]["count"].as_u64() {
                s.push_str(&format!(" {n}"));
            }
            s
        })
        .collect()
}

async fn echo(c: &RawClient, message: &str) -> Value {
    c.request(
        "tools/call",
        json!({"name": "demo__echo", "arguments": {"message": message}}),
    )
    .await
}

/// `portcullis_decisions_total` by `outcome`, parsed with `prometheus-parse`.
async fn decisions(admin: &str) -> HashMap<String, f64> {
    let text = reqwest::get(format!("http://{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("metrics do not parse ({e}):\n{text}"));
    let mut out = HashMap::new();
    for s in scrape
        .samples
        .iter()
        .filter(|s| s.metric == "portcullis_decisions_total")
    {
        let v = match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("portcullis_decisions_total is not a counter: {other:?}"),
        };
        let outcome = s.labels.get("outcome").unwrap_or_default().to_owned();
        *out.entry(outcome).or_insert(0.0) += v;
    }
    assert!(!out.is_empty(), "no portcullis_decisions_total in:\n{text}");
    out
}

fn setup_load() -> (Gateway, String, PathBuf) {
    let dir = policy_dir(PERMIT_DEMO);
    let config = chain_config(
        "\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n\n[admin]\naddress = \"127.0.0.1:0\"\n",
        &demo_backend(),
    );
    let gw = start_gateway_in(&config, dir);
    let admin = admin_addr(&gw.proc);
    let trail = gw.dir.path().join("audit.jsonl");
    (gw, admin, trail)
}

#[test]
fn ten_thousand_concurrent_calls_one_record_each_in_one_chain_then_tampering_is_named() {
    let (gw, admin, trail) = setup_load();
    let subs: Vec<String> = (0..SESSIONS).map(|i| format!("load-{i}")).collect();
    let tokens: Vec<String> = subs.iter().map(|s| mint(&gw.config_path, s)).collect();

    let (elapsed, metrics) = runtime().block_on(async {
        let mut clients = Vec::new();
        for t in &tokens {
            let mut c = RawClient::new(&gw.url).with_token(t);
            c.initialize().await;
            clients.push(Arc::new(c));
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        let started = Instant::now();
        for i in 0..CALLS {
            let permit = permits.clone().acquire_owned().await.unwrap();
            let c = clients[i % SESSIONS].clone();
            tasks.spawn(async move {
                let message = format!("call-{i}");
                let r = echo(&c, &message).await;
                drop(permit);
                assert_eq!(r["result"]["content"][0]["text"], message.as_str(), "{r}");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let elapsed = started.elapsed();
        (elapsed, decisions(&admin).await)
    });
    println!(
        "{CALLS} calls ({SESSIONS} sessions, concurrency {CONCURRENCY}) in {elapsed:.2?} ({:.0} calls/s)",
        CALLS as f64 / elapsed.as_secs_f64()
    );

    // Every call was recorded before it was forwarded, so the trail is complete now.
    let recs = records(&trail);
    println!("{} records in the trail", recs.len());
    assert_seq_contiguous(&recs);
    let calls: Vec<&Value> = recs.iter().filter(|r| r["kind"] == "call").collect();
    assert_eq!(calls.len(), CALLS, "one call record per call");
    assert_eq!(count(&recs, "call", "allow"), CALLS);
    let mut per_principal: HashMap<&str, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for r in &calls {
        assert_eq!(r["tool"], "demo__echo", "{r}");
        assert_eq!(r["reason"], "allowed", "{r}");
        assert!(
            r["args_sha256"].as_str().is_some_and(|h| h.len() == 64),
            "{r}"
        );
        *per_principal
            .entry(r["principal"].as_str().unwrap())
            .or_default() += 1;
        assert!(
            ids.insert((
                r["session_id"].as_str().unwrap().to_owned(),
                r["request_id"].as_str().unwrap().to_owned()
            )),
            "two records of one request: {r}"
        );
    }
    let expected: HashMap<&str, usize> = subs
        .iter()
        .map(|s| (s.as_str(), CALLS / SESSIONS))
        .collect();
    let per_principal: HashMap<&str, usize> = per_principal
        .into_iter()
        .map(|(p, n)| (p.trim_start_matches("urn:test|"), n))
        .collect();
    assert_eq!(per_principal, expected);
    assert_eq!(
        count(&recs, "session_start", "info"),
        SESSIONS,
        "one session_start per session"
    );

    // The metrics count the same decisions.
    println!("portcullis_decisions_total: {metrics:?}");
    assert_eq!(metrics.get("allow").copied(), Some(CALLS as f64));
    assert_eq!(
        metrics.values().sum::<f64>(),
        CALLS as f64,
        "no other outcome: {metrics:?}"
    );

    let (ok, out) = verify(&trail);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("ok: {} records", recs.len())),
        "{out}"
    );
    println!("{}", out.trim());

    tamper_is_named(&trail);
}

/// Copies of an intact trail with (a) one `reason` edited, (b) one line deleted, (c) two lines
/// swapped: `audit verify` fails and names the line where the chain breaks.
fn tamper_is_named(trail: &Path) {
    let text = std::fs::read_to_string(trail).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // A call record in the middle (line numbers are 1-based; `k` is the index of line k + 1).
    let k = (lines.len() / 2..lines.len())
        .find(|&i| {
            lines[i].contains(r#""kind":"call""#) && lines[i + 1].contains(r#""kind":"call""#)
        })
        .unwrap();
    let line_no = k as u64 + 1;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, lines: &[String]| -> PathBuf {
        let p = dir.path().join(name);
        let mut body = lines.join("\n");
        body.push('\n');
        std::fs::write(&p, body).unwrap();
        p
    };
    let owned: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();

    // (a) An edited reason: the line itself still parses with the right seq; the NEXT line's
    // `prev` no longer matches.
    let mut edited = owned.clone();
    assert!(edited[k].contains(r#""reason":"allowed""#), "{}", edited[k]);
    edited[k] = edited[k].replace(r#""reason":"allowed""#, r#""reason":"denied""#);
    let a = write("edited.jsonl", &edited);
    let (ok, out) = verify(&a);
    assert!(!ok, "an edited line verified:\n{out}");
    assert_eq!(broken_line(&out, &a), line_no + 1, "{out}");
    assert!(out.contains("`prev` is not the SHA-256"), "{out}");
    println!("(a) edited line {line_no}: {}", out.trim());

    // (b) A deleted line: the line now in its place has the wrong seq.
    let mut deleted = owned.clone();
    deleted.remove(k);
    let b = write("deleted.jsonl", &deleted);
    let (ok, out) = verify(&b);
    assert!(!ok, "a trail with a deleted line verified:\n{out}");
    assert_eq!(broken_line(&out, &b), line_no, "{out}");
    assert!(
        out.contains(&format!("expected seq {line_no}, found {}", line_no + 1)),
        "{out}"
    );
    assert!(out.contains("were deleted"), "{out}");
    println!("(b) deleted line {line_no}: {}", out.trim());

    // (c) Two lines swapped: the first of them is out of order.
    let mut swapped = owned;
    swapped.swap(k, k + 1);
    let c = write("swapped.jsonl", &swapped);
    let (ok, out) = verify(&c);
    assert!(!ok, "a trail with swapped lines verified:\n{out}");
    assert_eq!(broken_line(&out, &c), line_no, "{out}");
    // At the first break `verify` cannot tell a swap from a deletion (the line where the chain
    // breaks looks the same), so its explanation reads "deleted"; the line number is exact.
    assert!(
        out.contains(&format!("expected seq {line_no}, found {}", line_no + 1)),
        "{out}"
    );
    println!(
        "(c) swapped lines {line_no} and {}: {}",
        line_no + 1,
        out.trim()
    );

    // The untouched original still verifies.
    let (ok, out) = verify(trail);
    assert!(ok, "{out}");
}

fn anon_config(audit: &str) -> String {
    format!("{ANON}\n[audit]\n{audit}\n\n{}", demo_backend())
}

#[test]
fn a_gateway_killed_with_sigkill_continues_the_chain_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("portcullis.toml");
    std::fs::write(
        &config,
        anon_config("file = \"audit.jsonl\"\nfsync = \"never\""),
    )
    .unwrap();
    let trail = dir.path().join("audit.jsonl");
    let rt = runtime();

    let (mut first, url) = spawn_gateway(&config);
    rt.block_on(async {
        let mut c = RawClient::new(&url);
        c.initialize().await;
        for i in 0..5 {
            let r = echo(&c, &format!("before-{i}")).await;
            assert_eq!(
                r["result"]["content"][0]["text"],
                format!("before-{i}"),
                "{r}"
            );
        }
    });
    first.kill(); // SIGKILL: no shutdown, no final sync
    let before = std::fs::read_to_string(&trail).unwrap();
    let before_recs = records(&trail);
    assert_seq_contiguous(&before_recs);
    assert_eq!(count(&before_recs, "call", "allow"), 5);
    let (ok, out) = verify(&trail);
    assert!(ok, "the trail of a killed gateway: {out}");
    let last_seq = before_recs.last().unwrap()["seq"].as_u64().unwrap();

    let (_second, url) = spawn_gateway(&config);
    rt.block_on(async {
        let mut c = RawClient::new(&url);
        c.initialize().await;
        for i in 0..5 {
            let r = echo(&c, &format!("after-{i}")).await;
            assert_eq!(
                r["result"]["content"][0]["text"],
                format!("after-{i}"),
                "{r}"
            );
        }
    });
    let after = std::fs::read_to_string(&trail).unwrap();
    assert!(
        after.starts_with(&before),
        "the restart changed records written before the kill"
    );
    let recs = records(&trail);
    assert_seq_contiguous(&recs);
    assert_eq!(count(&recs, "call", "allow"), 10);
    let first_new = &recs[before_recs.len()];
    assert_eq!(first_new["seq"].as_u64(), Some(last_seq + 1), "{first_new}");
    let (ok, out) = verify(&trail);
    assert!(ok, "{out}");
    println!(
        "killed at seq {last_seq}; after restart {} records: {}",
        recs.len(),
        out.trim()
    );
}

/// Starts a gateway whose trail is `<dir>/trail/audit.jsonl`, makes one call, then removes
/// `<dir>/trail`. Returns the gateway, its session, its admin address and the trail directory.
async fn gateway_losing_its_trail(on_failure: &str) -> (Gateway, RawClient, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let trail_dir = dir.path().join("trail");
    std::fs::create_dir(&trail_dir).unwrap();
    let config = format!(
        "{}\n[admin]\naddress = \"127.0.0.1:0\"\n",
        anon_config(&format!(
            "file = \"trail/audit.jsonl\"\nfsync = \"never\"\non_failure = \"{on_failure}\""
        ))
    );
    let gw = start_gateway_in(&config, dir);
    let admin = admin_addr(&gw.proc);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = echo(&c, "before").await;
    assert_eq!(r["result"]["content"][0]["text"], "before", "{r}");
    std::fs::remove_dir_all(&trail_dir).unwrap();
    (gw, c, admin, trail_dir)
}

#[test]
fn an_unwritable_trail_refuses_calls_and_the_gateway_keeps_serving() {
    let rt = runtime();
    rt.block_on(async {
        let (gw, c, admin, trail_dir) = gateway_losing_its_trail("fail_closed").await;
        for i in 0..3 {
            let r = echo(&c, &format!("refused-{i}")).await;
            assert_eq!(r["error"]["code"], -32030, "call {i}: {r}");
            assert_eq!(r["error"]["data"]["reason"], "audit_unavailable", "{r}");
        }
        // Everything that is not a call is still served.
        let ping = c.request("ping", json!({})).await;
        assert!(ping["result"].is_object(), "{ping}");
        let list = c.request("tools/list", json!({})).await;
        assert!(
            list["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "demo__echo"),
            "{list}"
        );
        let mut other = RawClient::new(&gw.url);
        other.initialize().await;
        let r = echo(&other, "new session").await;
        assert_eq!(r["error"]["code"], -32030, "{r}");
        let m = decisions(&admin).await;
        println!("fail_closed: portcullis_decisions_total {m:?}");
        assert_eq!(m.get("allow").copied(), Some(1.0), "{m:?}");
        assert_eq!(m.get("error").copied(), Some(4.0), "{m:?}");

        // When the directory is back, calls go through again and the trail says what happened.
        std::fs::create_dir(&trail_dir).unwrap();
        let r = echo(&c, "recovered").await;
        assert_eq!(r["result"]["content"][0]["text"], "recovered", "{r}");
        let recs = records(&trail_dir.join("audit.jsonl"));
        println!("fail_closed: the new file holds {:?}", summary(&recs));
        assert_eq!(recs[0]["kind"], "audit", "{recs:?}");
        assert_eq!(recs[0]["extra"]["event"], "file_reopened", "{recs:?}");
        assert!(
            recs.iter()
                .any(|r| r["kind"] == "call" && r["decision"] == "allow"),
            "{recs:?}"
        );
    });
}

#[test]
fn with_on_failure_continue_calls_go_on_without_a_trail() {
    let rt = runtime();
    rt.block_on(async {
        let (_gw, c, admin, trail_dir) = gateway_losing_its_trail("continue").await;
        for i in 0..3 {
            let r = echo(&c, &format!("unaudited-{i}")).await;
            assert_eq!(
                r["result"]["content"][0]["text"],
                format!("unaudited-{i}"),
                "{r}"
            );
        }
        let m = decisions(&admin).await;
        println!("continue: portcullis_decisions_total {m:?}");
        assert_eq!(m.get("allow").copied(), Some(4.0), "{m:?}");

        // Once the file can be written again, the loss is recorded.
        std::fs::create_dir(&trail_dir).unwrap();
        let r = echo(&c, "audited again").await;
        assert_eq!(r["result"]["content"][0]["text"], "audited again", "{r}");
        let recs = records(&trail_dir.join("audit.jsonl"));
        println!("continue: the new file holds {:?}", summary(&recs));
        let lost = recs
            .iter()
            .find(|r| r["extra"]["event"] == "records_lost")
            .unwrap_or_else(|| panic!("no records_lost notice: {recs:?}"));
        assert!(lost["extra"]["count"].as_u64().unwrap() >= 3, "{lost}");
    });
}

/// A change to the config file on disk is an audited event (valid or not); the running gateway
/// keeps serving with the config it started with.
#[test]
fn config_changes_on_disk_are_recorded_and_do_not_disturb_the_gateway() {
    let config = format!(
        "{ANON}\n[audit]\nfile = \"audit.jsonl\"\nfsync = \"never\"\n{}",
        demo_backend()
    );
    let gw = start_gateway(&config);
    let trail = gw.dir.path().join("audit.jsonl");
    let wait_for = |decision: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(r) = records(&trail)
                .into_iter()
                .find(|r| r["kind"] == "config_reload" && r["decision"] == decision)
            {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no config_reload/{decision} record"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    std::fs::write(&gw.config_path, format!("{config}\n# edited\n")).unwrap();
    let ok = wait_for("info");
    let reason = ok["reason"].as_str().unwrap();
    assert!(reason.contains("is valid; restart"), "{reason}");
    std::fs::write(&gw.config_path, format!("{config}\n[listen]\nbogus = 1\n")).unwrap();
    let bad = wait_for("error");
    let reason = bad["reason"].as_str().unwrap();
    assert!(reason.contains("is invalid"), "{reason}");
    assert!(reason.contains("portcullis.toml:"), "{reason}");
    // Still serving on the config it started with.
    let rt = runtime();
    rt.block_on(async {
        let mut c = RawClient::new(&gw.url);
        c.initialize().await;
        let r = c.request("tools/list", json!({})).await;
        assert!(!r["result"]["tools"].as_array().unwrap().is_empty(), "{r}");
    });
    assert!(verify(&trail).0);
}
