//! The saved head: its text form, the start-up check against the trail (cut, replaced, torn,
//! rotated, missing) and when the head file is written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::super::continuity::{Reach, reach};
use super::super::*;

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
    r
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn cut_last(path: &Path, n: usize) {
    let mut l = lines(path);
    l.truncate(l.len() - n);
    let mut text = l.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn saved(path: &Path) -> Head {
    read_head_file(&head_file(path)).unwrap().unwrap()
}

/// A trail of `n` records, shut down cleanly (so its head file names the last one).
async fn trail(cfg: &AuditConfig, n: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let cfg = AuditConfig {
        file: Some(path.clone()),
        ..cfg.clone()
    };
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    for i in 1..=n {
        audit.record(call(i)).await.unwrap();
    }
    let head = audit.shutdown().await.unwrap();
    assert_eq!(saved(&path), head, "the head file names the final head");
    (dir, path)
}

#[test]
fn a_head_reads_back_from_its_text_and_nothing_else_does() {
    let h = Head {
        seq: 42,
        hash: "ab".repeat(32),
    };
    assert_eq!(h.to_string(), format!("42:{}", "ab".repeat(32)));
    assert_eq!(h.to_string().parse::<Head>().unwrap(), h);
    assert_eq!(format!(" {h}\n").parse::<Head>().unwrap(), h);
    for bad in [
        String::new(),
        "42".into(),
        format!("42:{}", "AB".repeat(32)),
        format!("42:{}", "ab".repeat(31)),
        format!("-1:{}", "ab".repeat(32)),
        format!("+1:{}", "ab".repeat(32)),
        format!("x:{}", "ab".repeat(32)),
        format!("1:{}g", "ab".repeat(31)),
    ] {
        let err = bad.parse::<Head>().unwrap_err().to_string();
        assert!(err.contains("SEQ:HASH"), "{bad:?}: {err}");
    }
    assert_eq!(
        head_file(Path::new("/a/audit.jsonl")),
        Path::new("/a/audit.jsonl.head")
    );
    assert!(expected_head("/nonexistent/audit.jsonl.head").is_err());
    assert_eq!(expected_head(&h.to_string()).unwrap(), h);
}

#[tokio::test]
async fn the_head_file_is_written_at_start_rotation_shutdown_and_within_an_interval() {
    for fsync in [Fsync::Never, Fsync::IntervalMs(50), Fsync::EveryRecord] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let cfg = AuditConfig {
            fsync,
            max_file_bytes: 4096,
            ..config(&path)
        };
        let audit = Audit::start(&cfg, dir.path()).unwrap();
        assert_eq!(saved(&path).seq, 0, "{fsync:?}: written at start");
        audit.record(call(1)).await.unwrap();
        // Not written per record, but within the interval (polled: the writer thread may be
        // slow on a loaded machine).
        let deadline = std::time::Instant::now() + HEAD_INTERVAL * 10;
        while saved(&path) != audit.head() {
            assert!(
                std::time::Instant::now() < deadline,
                "{fsync:?}: not written"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Rotation: the rotated file's last record is named before the live file grows.
        let mut i = 2;
        while rotated_files(&path).unwrap().is_empty() {
            audit.record(call(i)).await.unwrap();
            i += 1;
        }
        assert!(saved(&path).seq >= i - 2, "{fsync:?}: at rotation");
        let head = audit.shutdown().await.unwrap();
        assert_eq!(saved(&path), head, "{fsync:?}: at shutdown");
        let files = trail_files(&path).unwrap();
        verify_against(&files, Some(&head)).unwrap();
    }
}

#[tokio::test]
async fn a_start_on_a_cut_trail_is_refused_and_changes_nothing() {
    let (dir, path) = trail(&config(Path::new("x")), 6).await;
    let head = saved(&path);
    cut_last(&path, 2);
    // A torn write after the cut: the refusal must not repair it either.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"time":"2026"#);
    std::fs::write(&path, &text).unwrap();
    let err = Audit::start(&config(&path), dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AuditError::Cut { .. }), "{msg}");
    assert!(
        msg.contains("ends at seq 4")
            && msg.contains("says seq 6 was written")
            && msg.contains("2 record(s) were cut")
            && msg.contains(&path.display().to_string())
            && msg.contains(&head_file(&path).display().to_string())
            && msg.contains("dangerous_continue_after_gap"),
        "{msg}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(saved(&path), head);
}

#[tokio::test]
async fn a_replaced_end_is_refused_even_when_the_trail_is_longer() {
    let (dir, path) = trail(&config(Path::new("x")), 6).await;
    // Cut two records and chain three forged ones on: the trail is longer than the head and
    // verifies, but its record at the head's seq is not the one written.
    cut_last(&path, 2);
    let mut l = lines(&path);
    for i in 5..=7u64 {
        let mut r = call(100 + i);
        r.seq = i;
        r.prev = sha256_hex(l.last().unwrap().as_bytes());
        l.push(serde_json::to_string(&r).unwrap());
    }
    let mut text = l.join("\n");
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    verify(std::slice::from_ref(&path)).unwrap();
    assert!(matches!(
        verify_against(std::slice::from_ref(&path), Some(&saved(&path))),
        Err(VerifyError::Replaced { .. })
    ));
    let err = Audit::start(&config(&path), dir.path()).unwrap_err();
    assert!(matches!(err, AuditError::Replaced { .. }), "{err}");
    assert!(err.to_string().contains("no record at seq 6"), "{err}");
}

#[tokio::test]
async fn going_on_after_a_cut_numbers_after_the_saved_head_and_records_the_gap() {
    let (dir, path) = trail(&config(Path::new("x")), 6).await;
    let head = saved(&path);
    cut_last(&path, 2);
    let cfg = AuditConfig {
        dangerous_continue_after_gap: true,
        ..config(&path)
    };
    assert!(
        cfg.warnings()
            .iter()
            .any(|w| w.contains("dangerous_continue_after_gap"))
    );
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    audit.record(call(7)).await.unwrap();
    audit.shutdown().await.unwrap();
    let l = lines(&path);
    let gap: AuditRecord = serde_json::from_str(&l[4]).unwrap();
    assert_eq!((gap.seq, gap.kind), (7, Kind::Audit));
    assert_eq!(gap.prev, head.hash);
    let extra = gap.extra.unwrap();
    assert_eq!(extra["event"], "audit_gap");
    assert_eq!(
        (extra["missing_from"].as_u64(), extra["missing_to"].as_u64()),
        (Some(5), Some(6))
    );
    assert_eq!(extra["saved_head"], head.to_string());
    let next: AuditRecord = serde_json::from_str(&l[5]).unwrap();
    assert_eq!(next.seq, 8);
    // The break stays visible to `verify`; a plain restart goes on (the head moved on).
    let b = match verify(std::slice::from_ref(&path)) {
        Err(VerifyError::Broken(b)) => b,
        other => panic!("{other:?}"),
    };
    assert_eq!((b.line, b.seq), (5, Some(7)));
    let again = Audit::start(&config(&path), dir.path()).unwrap();
    assert_eq!(again.head().seq, 8);
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_saved_head_is_found_in_a_rotated_file_and_past_a_torn_write() {
    let cfg = AuditConfig {
        max_file_bytes: 4096,
        ..config(Path::new("x"))
    };
    let (dir, path) = trail(&cfg, 60).await;
    assert!(!rotated_files(&path).unwrap().is_empty());
    let last = saved(&path);
    // A head named inside the newest rotated file, with the live file past it.
    let rotated = rotated_files(&path).unwrap().last().unwrap().1.clone();
    let in_rotated = lines(&rotated).last().unwrap().clone();
    let seq = serde_json::from_str::<AuditRecord>(&in_rotated)
        .unwrap()
        .seq;
    let mid = Head {
        seq,
        hash: sha256_hex(in_rotated.as_bytes()),
    };
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"time":"2026-01-01T00:00:00.000Z","seq":61"#);
    std::fs::write(&path, &text).unwrap();
    assert_eq!(reach(&path, &last, &mid).unwrap(), Reach::Reaches);
    assert_eq!(reach(&path, &last, &last).unwrap(), Reach::Reaches);
    let other = Head {
        seq,
        hash: "0".repeat(64),
    };
    assert_eq!(reach(&path, &last, &other).unwrap(), Reach::Differs);
    let ahead = Head {
        seq: last.seq + 1,
        hash: last.hash.clone(),
    };
    assert_eq!(reach(&path, &last, &ahead).unwrap(), Reach::Short);
    // The real start agrees, repairs the torn write and goes on.
    std::fs::write(head_file(&path), format!("{mid}\n")).unwrap();
    let cfg = AuditConfig {
        file: Some(path.clone()),
        ..cfg
    };
    let audit = Audit::start(&cfg, dir.path()).unwrap();
    assert_eq!(
        audit.head().seq,
        last.seq + 1,
        "torn_tail_removed comes first"
    );
    audit.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_trail_without_a_head_file_says_so_and_gets_one() {
    let (dir, path) = trail(&config(Path::new("x")), 3).await;
    std::fs::remove_file(head_file(&path)).unwrap();
    let audit = Audit::start(&config(&path), dir.path()).unwrap();
    audit.shutdown().await.unwrap();
    let l = lines(&path);
    let notice: AuditRecord = serde_json::from_str(&l[3]).unwrap();
    assert_eq!(notice.extra.unwrap()["event"], "head_missing");
    assert_eq!(saved(&path).seq, 4);
    // A head file that is not a head stops the start, naming it.
    std::fs::write(head_file(&path), "garbage").unwrap();
    let err = Audit::start(&config(&path), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&head_file(&path).display().to_string()) && err.contains("SEQ:HASH"),
        "{err}"
    );
}
