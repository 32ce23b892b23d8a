//! `portcullis audit verify`: check the hash chain of an audit trail, or of several (one per
//! replica of a cluster) in one call.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::CliError;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of an audit trail; exits non-zero at the first break. The FILEs are
    /// one trail, oldest first. A single live file (`audit.jsonl`) is checked together with its
    /// rotated files, oldest first (`audit.jsonl.1`, `audit.jsonl.2`, …, `audit.jsonl`).
    /// With `--trails`, each FILE is the live file of its own trail (a cluster keeps one per
    /// replica), checked with its rotated files and its own `.head`; every trail is checked and
    /// reported, and the exit is non-zero if any does not verify.
    Verify {
        /// Each FILE is a separate trail (one per replica).
        #[arg(long, conflicts_with = "expect_head")]
        trails: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Also prove no record was cut from the end: the trail must reach this head
        /// (`SEQ:HASH`, or a head file). Default: `<FILE>.head` beside a single live file.
        #[arg(long, value_name = "SEQ:HASH|HEAD_FILE")]
        expect_head: Option<String>,
    },
}

pub(super) fn run(cmd: AuditCommand) -> Result<(), CliError> {
    let AuditCommand::Verify {
        trails,
        files,
        expect_head,
    } = cmd;
    if !trails {
        return verify_one(files, expect_head.as_deref(), None);
    }
    let total = files.len();
    let mut failed = 0usize;
    for live in files {
        let label = live.display().to_string();
        if let Err(e) = verify_one(vec![live], None, Some(&label)) {
            println!("trail `{label}`: {e}");
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(CliError::Found(format!(
            "{failed} of {total} audit trails do not verify"
        )));
    }
    println!("all {total} trails verify");
    Ok(())
}

/// The replica named by the last record of `path` (`None` without `[cluster]`).
fn replica_of(path: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    // The last line is in the file's tail: a trail can be large.
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))
        .ok()?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let v: serde_json::Value = serde_json::from_str(last).ok()?;
    v.get("replica")?.as_str().map(str::to_owned)
}

/// Verify one trail: `files` oldest first, or a single live file with its rotated files.
/// `label`: the trail's name in the output, when several are checked.
fn verify_one(
    mut files: Vec<PathBuf>,
    expect_head: Option<&str>,
    label: Option<&str>,
) -> Result<(), CliError> {
    let prefix = label.map(|l| format!("trail `{l}`: ")).unwrap_or_default();
    let expected = crate::audit::head_to_expect(&files, expect_head)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if let [live] = files.as_slice() {
        let trail = crate::audit::trail_files(live).map_err(|source| CliError::Io {
            action: "list the rotated files of",
            path: live.clone(),
            source,
        })?;
        if trail.len() > 1 {
            let names: Vec<String> = trail.iter().map(|p| p.display().to_string()).collect();
            println!(
                "{prefix}verifying {} files: {}",
                trail.len(),
                names.join(", ")
            );
            files = trail;
        }
    }
    match crate::audit::verify_against(&files, expected.as_ref().map(|(h, _)| h)) {
        Ok(r) => {
            let replica = files
                .last()
                .and_then(|p| replica_of(p))
                .map(|r| format!(", replica {r}"))
                .unwrap_or_default();
            println!(
                "{prefix}ok: {} records, chain intact (last seq {}, head {}{replica})",
                r.records, r.head.seq, r.head.hash
            );
            if let Some((h, from)) = &expected {
                println!(
                    "{prefix}ok: the trail reaches the head in {from} ({h}): nothing was cut from its end"
                );
            }
            Ok(())
        }
        Err(
            e
            @ (crate::audit::VerifyError::Cut { .. } | crate::audit::VerifyError::Replaced { .. }),
        ) => {
            println!("{prefix}broken: {e}");
            Err(CliError::Found("the audit trail does not verify".into()))
        }
        Err(crate::audit::VerifyError::Broken(b)) => {
            println!("{prefix}broken: {b}");
            Err(CliError::Found("the audit trail does not verify".into()))
        }
        Err(e) => Err(CliError::Found(e.to_string())),
    }
}
