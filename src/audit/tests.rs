use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::record::Encoded;
use super::*;

fn config(file: &Path) -> AuditConfig {
    AuditConfig {
        file: Some(file.to_path_buf()),
        fsync: Fsync::Never,
        ..AuditConfig::default()
    }
}

fn call(i: u64) -> AuditRecord {
    let mut r = AuditRecord::new(Kind::Call, Decision::Allow);
    r.request_id = Some(i.to_string());
    r.tool = Some("fs__read".into());
    r.backend = Some("fs".into());
    r.original = Some("read".into());
    r.principal = Some("https://idp.example|alice".into());
    r.latency_ms = Some(1.5);
    r
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn parse(line: &str) -> AuditRecord {
    serde_json::from_str(line).unwrap()
}

/// A trail of `n` records in a fresh directory.
async fn trail(n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    for i in 1..=n {
        audit.record(call(i)).await.unwrap();
    }
    audit.shutdown().await.unwrap();
    (dir, path)
}

fn broken(paths: &[PathBuf]) -> ChainBreak {
    match verify(paths) {
        Err(VerifyError::Broken(b)) => *b,
        other => panic!("expected a chain break, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_records_are_written_in_seq_order_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    let mut tasks = Vec::new();
    for t in 0..100u64 {
        let audit = audit.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..100u64 {
                audit.record(call(t * 100 + i)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let head = audit.shutdown().await.unwrap();
    let lines = lines(&path);
    assert_eq!(lines.len(), 10_000);
    let mut ids = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        let r = parse(l);
        assert_eq!(r.seq, i as u64 + 1);
        assert!(
            ids.insert(r.request_id.unwrap()),
            "a record was written twice"
        );
    }
    let report = verify(&[path]).unwrap();
    assert_eq!(report.records, 10_000);
    assert_eq!(report.head, head);
    assert_eq!(head.seq, 10_000);
    assert_eq!(head.hash, sha256_hex(lines.last().unwrap().as_bytes()));
}

#[tokio::test]
async fn format_skips_absent_fields_and_chains_from_genesis() {
    let (_dir, path) = trail(2).await;
    let lines = lines(&path);
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    let obj = first.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "time",
            "seq",
            "kind",
            "request_id",
            "principal",
            "backend",
            "tool",
            "original",
            "decision",
            "latency_ms",
            "prev"
        ]
    );
    assert!(!lines[0].contains("null"));
    assert_eq!(obj["prev"], GENESIS);
    assert_eq!(obj["kind"], "call");
    assert_eq!(obj["decision"], "allow");
    let time = obj["time"].as_str().unwrap();
    // 2026-05-01T12:34:56.789Z
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    assert_eq!(parse(&lines[1]).prev, sha256_hex(lines[0].as_bytes()));
}

#[test]
fn kinds_are_snake_case() {
    let s = serde_json::to_string(&[
        Kind::AuthFailure,
        Kind::RateLimited,
        Kind::DriftAlert,
        Kind::WorkflowStep,
    ])
    .unwrap();
    assert_eq!(
        s,
        r#"["auth_failure","rate_limited","drift_alert","workflow_step"]"#
    );
}

#[tokio::test]
async fn edited_line_breaks_the_chain_at_the_next_line() {
    let (_dir, path) = trail(10).await;
    let mut l = lines(&path);
    l[4] = l[4].replace(r#""decision":"allow""#, r#""decision":"deny""#);
    write_lines(&path, &l);
    let b = broken(std::slice::from_ref(&path));
    assert_eq!((b.line, b.seq), (6, Some(6)));
    assert_eq!(b.problem, Problem::PrevMismatch);
    assert!(b.to_string().contains("previous line was edited"), "{b}");
}

#[tokio::test]
async fn edit_that_breaks_json_is_reported_at_that_line() {
    let (_dir, path) = trail(10).await;
    let mut l = lines(&path);
    let cut = l[4].len() - 3;
    l[4].truncate(cut);
    write_lines(&path, &l);
    let b = broken(&[path]);
    assert_eq!(b.line, 5);
    assert!(matches!(b.problem, Problem::Unparseable(_)));
}

#[tokio::test]
async fn deleted_line_is_reported_at_that_line() {
    let (_dir, path) = trail(10).await;
    let mut l = lines(&path);
    l.remove(4);
    write_lines(&path, &l);
    let b = broken(std::slice::from_ref(&path));
    assert_eq!(b.line, 5);
    assert_eq!(
        b.problem,
        Problem::Gap {
            expected: 5,
            found: 6
        }
    );
    assert!(
        b.to_string()
            .contains("1 record(s) before this line were deleted")
    );
}

#[tokio::test]
async fn inserted_line_is_reported_at_that_line() {
    let (_dir, path) = trail(10).await;
    let mut l = lines(&path);
    let copy = l[3].clone();
    l.insert(4, copy);
    write_lines(&path, &l);
    let b = broken(&[path]);
    assert_eq!((b.line, b.seq), (5, Some(4)));
    assert_eq!(
        b.problem,
        Problem::Gap {
            expected: 5,
            found: 4
        }
    );
}

#[tokio::test]
async fn forged_line_with_a_correct_link_is_caught_by_the_line_after_it() {
    let (_dir, path) = trail(10).await;
    let mut l = lines(&path);
    let mut forged = parse(&l[4]);
    forged.decision = Decision::Deny;
    forged.prev = sha256_hex(l[3].as_bytes());
    l.insert(4, serde_json::to_string(&forged).unwrap());
    write_lines(&path, &l);
    let b = broken(&[path]);
    assert_eq!(b.line, 6);
    assert!(matches!(b.problem, Problem::Gap { .. }));
}

#[tokio::test]
async fn reordered_lines_are_reported_at_the_first_moved_line() {
    let (_dir, path) = trail(10).await;
    let mut l = lines(&path);
    l.swap(4, 5);
    write_lines(&path, &l);
    let b = broken(&[path]);
    assert_eq!((b.line, b.seq), (5, Some(6)));
}

#[tokio::test]
async fn deleting_the_first_line_is_a_bad_start() {
    let (_dir, path) = trail(3).await;
    let mut l = lines(&path);
    l.remove(0);
    write_lines(&path, &l);
    let b = broken(&[path]);
    assert_eq!((b.line, b.problem), (1, Problem::BadStart));
}

#[tokio::test]
async fn torn_last_line_is_reported() {
    let (_dir, path) = trail(5).await;
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 10]).unwrap();
    let b = broken(&[path]);
    assert_eq!((b.line, b.problem), (5, Problem::Torn));
}

#[tokio::test]
async fn restart_continues_the_chain() {
    let (dir, path) = trail(5).await;
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    assert_eq!(audit.head().seq, 5);
    for i in 6..=8 {
        audit.record(call(i)).await.unwrap();
    }
    audit.shutdown().await.unwrap();
    let report = verify(std::slice::from_ref(&path)).unwrap();
    assert_eq!(report.records, 8);
    assert_eq!(parse(&lines(&path)[5]).seq, 6);
}

#[tokio::test]
async fn restart_after_a_torn_write_removes_the_fragment_and_records_it() {
    let (dir, path) = trail(5).await;
    let fragment = r#"{"time":"2026-01-01T00:00:00.000Z","seq":6,"kind":"call","dec"#;
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(fragment);
    std::fs::write(&path, &text).unwrap();
    assert_eq!(broken(std::slice::from_ref(&path)).problem, Problem::Torn);

    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    audit.record(call(7)).await.unwrap();
    audit.shutdown().await.unwrap();

    let report = verify(std::slice::from_ref(&path)).unwrap();
    assert_eq!(report.records, 7);
    let l = lines(&path);
    let notice = parse(&l[5]);
    assert_eq!((notice.seq, notice.kind), (6, Kind::Audit));
    assert_eq!(notice.decision, Decision::Info);
    let extra = notice.extra.unwrap();
    assert_eq!(extra["event"], "torn_tail_removed");
    assert_eq!(extra["bytes"], fragment.len());
    assert_eq!(extra["text"], fragment);
    assert_eq!(extra["sha256"], sha256_hex(fragment.as_bytes()));
    assert_eq!(parse(&l[6]).request_id.as_deref(), Some("7"));
}

#[tokio::test]
async fn restart_refuses_a_trail_whose_last_line_is_not_a_record() {
    let (dir, path) = trail(2).await;
    let mut l = lines(&path);
    l.push("not json".into());
    write_lines(&path, &l);
    let err = Audit::start(&config(&path), dir.path()).unwrap_err();
    assert!(matches!(err, AuditError::Recover { .. }), "{err}");
    assert!(err.to_string().contains("portcullis audit verify"), "{err}");
}

#[tokio::test]
async fn rotation_keeps_one_chain_across_files_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let cfg = AuditConfig {
        max_file_bytes: 4096,
        ..config(&path)
    };
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    for i in 1..=100 {
        audit.record(call(i)).await.unwrap();
    }
    audit.shutdown().await.unwrap();
    // Restart: the rotation counter and the chain go on.
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    for i in 101..=200 {
        audit.record(call(i)).await.unwrap();
    }
    audit.shutdown().await.unwrap();

    let files = trail_files(&path).unwrap();
    assert!(files.len() > 5, "{files:?}");
    let mut total = 0;
    for (i, f) in files.iter().enumerate() {
        let len = std::fs::metadata(f).unwrap().len();
        assert!(len <= 4096, "{} is {len} bytes", f.display());
        if i + 1 < files.len() {
            assert_eq!(f, &PathBuf::from(format!("{}.{}", path.display(), i + 1)));
        }
        total += lines(f).len();
    }
    assert_eq!(total, 200);
    let report = verify(&files).unwrap();
    assert_eq!((report.records, report.head.seq), (200, 200));

    // The second file alone does not start a trail; files out of order break it.
    let b = broken(&files[1..2]);
    assert_eq!((b.line, b.problem), (1, Problem::BadStart));
    let mut swapped = files.clone();
    swapped.swap(1, 2);
    let b = broken(&swapped);
    assert_eq!((b.file.as_path(), b.line), (files[2].as_path(), 1));
}

#[tokio::test]
async fn restart_after_a_crash_right_after_rotation_chains_to_the_rotated_file() {
    let (dir, path) = trail(3).await;
    std::fs::rename(&path, format!("{}.1", path.display())).unwrap();
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    audit.record(call(4)).await.unwrap();
    audit.shutdown().await.unwrap();
    let report = verify(&trail_files(&path).unwrap()).unwrap();
    assert_eq!(report.records, 4);
}

#[test]
fn redaction_applies_at_any_depth_and_ignores_case() {
    let mut v = json!({
        "user": "bob",
        "Password": "hunter2",
        "nested": {"deeper": [{"token": {"a": 1}}, {"ok": "x", "API_KEY": "k"}]},
    });
    redact(&mut v, &AuditConfig::default().redact_keys);
    assert_eq!(
        v,
        json!({
            "user": "bob",
            "Password": "[redacted]",
            "nested": {"deeper": [{"token": "[redacted]"}, {"ok": "x", "API_KEY": "[redacted]"}]},
        })
    );
}

#[test]
fn redaction_survives_hostile_nesting() {
    let mut v = json!("leaf");
    for _ in 0..100_000 {
        v = Value::Array(vec![v]);
    }
    redact(&mut v, &["password".into()]);
    // Drop iteratively too: serde_json's recursive drop would overflow the test thread.
    let mut cur = v;
    while let Value::Array(mut items) = cur {
        cur = items.pop().unwrap_or(Value::Null);
    }
}

#[tokio::test]
async fn args_are_hashed_canonically_and_kept_only_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let cfg = AuditConfig {
        include_args: true,
        ..config(&path)
    };
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    let mut r = call(1);
    r.args = Some(json!({"b": 1, "a": {"password": "hunter2", "z": [1, 2]}}));
    audit.record(r).await.unwrap();
    audit.shutdown().await.unwrap();
    let line = &lines(&path)[0];
    assert!(!line.contains("hunter2"));
    let rec = parse(line);
    let expected = json!({"b": 1, "a": {"password": "[redacted]", "z": [1, 2]}});
    assert_eq!(rec.args.as_ref(), Some(&expected));
    // JCS: sorted keys, no whitespace.
    assert_eq!(
        rec.args_sha256.as_deref(),
        Some(sha256_hex(br#"{"a":{"password":"[redacted]","z":[1,2]},"b":1}"#).as_str())
    );

    let path2 = dir.path().join("b.jsonl");
    let audit = Audit::start(&config(&path2), dir.path()).unwrap();
    let mut r = call(1);
    r.args = Some(json!({"a": {"z": [1, 2], "password": "other"}, "b": 1}));
    audit.record(r).await.unwrap();
    audit.shutdown().await.unwrap();
    let rec2 = parse(&lines(&path2)[0]);
    assert_eq!(rec2.args, None);
    assert_eq!(rec2.args_sha256, rec.args_sha256);
}

#[tokio::test]
async fn fail_closed_when_the_directory_is_removed_after_start() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("logs");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("audit.jsonl");
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    audit.record(call(1)).await.unwrap();
    assert!(audit.is_healthy());
    std::fs::remove_dir_all(&sub).unwrap();
    let err = audit.record(call(2)).await.unwrap_err();
    assert!(matches!(err, AuditError::Write { .. }), "{err}");
    assert!(err.to_string().contains("audit.jsonl"), "{err}");
    assert!(!audit.is_healthy());
    // Still failing closed on the next call, and recovering once the directory is back.
    assert!(audit.record(call(3)).await.is_err());
    std::fs::create_dir(&sub).unwrap();
    audit.record(call(4)).await.unwrap();
    assert!(audit.is_healthy());
    audit.shutdown().await.unwrap();
    // The new file records what happened: the reopen, and the two lost records.
    let l = lines(&path);
    let events: Vec<String> = l
        .iter()
        .map(|l| parse(l))
        .filter_map(|r| r.extra.map(|e| e["event"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(events, ["file_reopened", "records_lost"], "{l:?}");
    assert_eq!(parse(&l[0]).seq, 2);
    let lost = parse(&l[1]);
    assert_eq!(lost.extra.unwrap()["count"], 2);
    assert_eq!(parse(&l[2]).request_id.as_deref(), Some("4"));
}

#[tokio::test]
async fn a_deleted_live_file_is_reopened_and_the_reopen_recorded() {
    let (dir, path) = trail(0).await;
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    audit.record(call(1)).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    audit.record(call(2)).await.unwrap();
    audit.record(call(3)).await.unwrap();
    audit.shutdown().await.unwrap();
    let l = lines(&path);
    let recs: Vec<AuditRecord> = l.iter().map(|l| parse(l)).collect();
    assert_eq!(recs[0].seq, 2);
    assert_eq!(recs[0].extra.as_ref().unwrap()["event"], "file_reopened");
    assert_eq!(recs[1].request_id.as_deref(), Some("2"));
    // The new file does not verify on its own: its first line links to the deleted file.
    assert_eq!(broken(&[path]).problem, Problem::BadStart);
}

#[tokio::test]
async fn start_fails_when_the_file_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let err = Audit::start(&config(&not_a_dir.join("audit.jsonl")), dir.path()).unwrap_err();
    assert!(matches!(err, AuditError::Open { .. }), "{err}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn write_errors_fail_closed_or_continue_as_configured() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let audit = Audit::start(&config(full), Path::new("/")).unwrap();
    let err = audit.record(call(1)).await.unwrap_err();
    assert!(err.to_string().contains("/dev/full"), "{err}");
    assert!(!audit.is_healthy());

    let cfg = AuditConfig {
        on_failure: OnFailure::Continue,
        ..config(full)
    };
    let audit = Audit::start(&cfg, Path::new("/")).unwrap();
    audit.record(call(1)).await.unwrap();
    assert!(!audit.is_healthy());
}

#[tokio::test]
async fn fsync_every_record_and_stdout_only_sinks_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let cfg = AuditConfig {
        fsync: Fsync::EveryRecord,
        ..config(&path)
    };
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    for i in 1..=20 {
        audit.record(call(i)).await.unwrap();
    }
    audit.shutdown().await.unwrap();
    assert_eq!(verify(&[path]).unwrap().records, 20);

    // Stdout alone (this prints one line into the test output).
    let cfg = AuditConfig {
        stdout: true,
        ..AuditConfig::default()
    };
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    let mut r = AuditRecord::new(Kind::BackendUp, Decision::Info);
    r.backend = Some("stdout-sink-test".into());
    audit.record(r).await.unwrap();
    assert_eq!(audit.shutdown().await.unwrap().seq, 1);
}

#[tokio::test]
async fn nowait_records_are_written_and_shutdown_closes() {
    let (dir, path) = trail(0).await;
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    for i in 1..=50 {
        audit.record_nowait(call(i));
    }
    let head = audit.shutdown().await.unwrap();
    assert_eq!(head.seq, 50);
    assert!(matches!(
        audit.record(call(51)).await,
        Err(AuditError::Closed)
    ));
    assert_eq!(verify(&[path]).unwrap().head, head);
}

#[test]
fn config_section_parses_and_checks() {
    let cfg: AuditConfig = toml::from_str(
        r#"
        file = "audit.jsonl"
        fsync = { interval_ms = 250 }
        max_file_bytes = 1048576
        include_args = true
        redact_keys = ["password"]
        on_failure = "continue"
        "#,
    )
    .unwrap();
    assert_eq!(cfg.fsync, Fsync::IntervalMs(250));
    assert_eq!(cfg.on_failure, OnFailure::Continue);
    assert!(cfg.check().is_ok());
    assert_eq!(cfg.warnings().len(), 2);

    let every: AuditConfig = toml::from_str("stdout = true\nfsync = \"every_record\"").unwrap();
    assert_eq!(every.fsync, Fsync::EveryRecord);
    assert_eq!(every.on_failure, OnFailure::FailClosed);
    assert!(every.warnings().is_empty());

    assert!(toml::from_str::<AuditConfig>("file = \"a\"\nfsink = \"never\"").is_err());
    let none: AuditConfig = toml::from_str("").unwrap();
    assert_eq!(none.check().unwrap_err().0, "file");
}

#[test]
fn verify_reports_unreadable_files_and_empty_input() {
    assert!(matches!(verify(&[]), Err(VerifyError::NoFiles)));
    let err = verify(&[PathBuf::from("/nonexistent/audit.jsonl")]).unwrap_err();
    assert!(matches!(err, VerifyError::Read { .. }), "{err}");
}

#[tokio::test]
async fn dropped_best_effort_records_are_reported_in_the_trail() {
    let (dir, path) = trail(0).await;
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    // What `record_nowait` does when the queue is full.
    audit.shared.dropped.fetch_add(3, Ordering::Relaxed);
    audit.record(call(1)).await.unwrap();
    audit.shutdown().await.unwrap();
    let l = lines(&path);
    let notice = parse(&l[0]);
    assert_eq!((notice.kind, notice.seq), (Kind::Audit, 1));
    let extra = notice.extra.unwrap();
    assert_eq!(
        (extra["event"].as_str(), extra["count"].as_u64()),
        (Some("records_dropped"), Some(3))
    );
    assert_eq!(parse(&l[1]).seq, 2);
}

const MINIMAL: &str = r#"
[listen]
address = "127.0.0.1:8080"

[auth]
mode = "anonymous"
dangerous_allow_anonymous = true
"#;

#[test]
fn gateway_config_audit_section_is_optional_and_checked() {
    let base = Path::new("/etc/portcullis");
    let cfg = crate::config::Config::parse(MINIMAL, "test.toml", base).unwrap();
    assert!(cfg.audit.is_none());

    let text = format!("{MINIMAL}\n[audit]\nfile = \"audit.jsonl\"\non_failure = \"continue\"\n");
    let cfg = crate::config::Config::parse(&text, "test.toml", base).unwrap();
    let audit = cfg.audit.as_ref().unwrap().get_ref();
    assert_eq!(audit.file.as_deref(), Some(Path::new("audit.jsonl")));
    assert!(
        cfg.warnings()
            .iter()
            .any(|w| w.contains("audit.on_failure"))
    );

    let text = format!("{MINIMAL}\n[audit]\nstdout = false\n");
    let err = crate::config::Config::parse(&text, "test.toml", base)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("test.toml:9: key `audit.file`"), "{err}");

    let text = format!("{MINIMAL}\n[audit]\nfile = \"a\"\nfsync = \"sometimes\"\n");
    let err = crate::config::Config::parse(&text, "test.toml", base)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test.toml:11") && err.contains("sometimes"),
        "{err}"
    );
}

#[test]
fn a_record_encoded_before_the_lock_is_byte_for_byte_the_record_encoded_under_it() {
    // Strings that could fool a search for the chain fields: quotes, the field names
    // themselves, escapes, non-ASCII.
    let tricky = r#"x","seq":0,"prev":"" \" \\ é ✓ "#;
    let mut records = vec![call(1)];
    let mut r = call(2);
    r.time = now_rfc3339();
    r.reason = Some(tricky.into());
    r.tool = Some(tricky.into());
    r.policies = vec![tricky.into(), "p".into()];
    r.args = Some(json!({"seq": 0, "prev": "", "k": tricky}));
    r.extra = Some(json!({"prev": tricky}));
    records.push(r);
    let mut bare = AuditRecord::new(Kind::Audit, Decision::Info);
    bare.time = now_rfc3339();
    records.push(bare);
    for rec in records {
        let e = Encoded::new(&rec).expect("the usual layout");
        for (seq, prev) in [(1, GENESIS.to_owned()), (u64::MAX, sha256_hex(b"line"))] {
            let mut finished = rec.clone();
            finished.seq = seq;
            finished.prev.clone_from(&prev);
            assert_eq!(
                String::from_utf8(e.line(seq, &prev)).unwrap(),
                serde_json::to_string(&finished).unwrap()
            );
        }
    }
    // A record that already has a place in a chain is not pre-encoded.
    let mut placed = call(3);
    placed.seq = 7;
    assert!(Encoded::new(&placed).is_none());
}

#[test]
fn lines_escape_every_control_and_line_separator_and_parse_back_the_same() {
    let mut hostile: String = (0u32..0xa0)
        .filter_map(char::from_u32)
        .filter(|c| c.is_control())
        .collect();
    hostile.push_str("\u{2028}\u{2029}\u{061C}\u{200E}\u{200F}\u{202A}\u{202E}\u{2066}\u{2069}");
    hostile.push_str(" é ✓ 𝄞 \u{2027}\u{202F}\u{206A} plain");
    let mut r = call(1);
    r.time = now_rfc3339();
    r.reason = Some(hostile.clone());
    r.args = Some(json!({ hostile.clone(): [hostile.clone()] }));
    let line = String::from_utf8(super::record::to_line(&r).unwrap()).unwrap();
    let raw: Vec<char> = line
        .chars()
        .filter(|c| {
            c.is_control()
                || ('\u{2028}'..='\u{202E}').contains(c)
                || ('\u{2066}'..='\u{2069}').contains(c)
                || ['\u{061C}', '\u{200E}', '\u{200F}'].contains(c)
        })
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in {line}");
    // Neighbours of the escaped ranges and other non-ASCII text stay as they are.
    assert!(
        line.contains(" é ✓ 𝄞 \u{2027}\u{202F}\u{206A} plain"),
        "{line}"
    );
    assert!(line.contains(r"\u2028\u2029\u061c"), "{line}");
    let back: AuditRecord = serde_json::from_str(&line).unwrap();
    assert_eq!(back, r);
    // Pre-encoded (outside the lock) gives the same bytes.
    let e = Encoded::new(&r).unwrap();
    let mut placed = r.clone();
    placed.seq = 9;
    placed.prev = GENESIS.into();
    assert_eq!(e.line(9, GENESIS), super::record::to_line(&placed).unwrap());
    // Text with nothing to escape is byte for byte what serde_json writes.
    let plain = call(2);
    assert_eq!(
        super::record::to_line(&plain).unwrap(),
        serde_json::to_vec(&plain).unwrap()
    );
}
