//! `verify`: checks the files of a trail as one hash chain and names the first line where it
//! breaks, or returns the head (`seq` and hash of the last line); [`verify_against`] also
//! proves that nothing was cut from the end, given a head kept elsewhere.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

use serde::Deserialize;

use super::record::sha256_hex;
use super::{GENESIS, Head};

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("no audit files given")]
    NoFiles,
    #[error("cannot read audit file `{path}`: {source}")]
    Read { path: String, source: io::Error },
    #[error("{0}")]
    Broken(Box<ChainBreak>),
    #[error(
        "the trail ends at seq {} (head {found}) but seq {} was written (expected head \
         {expected}): {} record(s) were cut from the end",
        .found.seq,
        .expected.seq,
        .expected.seq.saturating_sub(.found.seq)
    )]
    Cut { expected: Head, found: Head },
    #[error(
        "the record at seq {} is not the expected one ({}; expected hash {}): the end of the \
         trail was replaced, or the files given start after it",
        .expected.seq,
        .found.as_deref().map_or("no such record".to_owned(), |h| format!("hash {h}")),
        .expected.hash
    )]
    Replaced {
        expected: Head,
        found: Option<String>,
    },
}

/// The first place where a trail stops verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub file: PathBuf,
    /// 1-based line number within `file`.
    pub line: u64,
    /// `seq` of that line, when it parses.
    pub seq: Option<u64>,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not a JSON audit record (edited, inserted garbage, or an empty line).
    Unparseable(String),
    /// The last line has no terminating newline.
    Torn,
    /// The first record of the trail is not `seq` 1 with `prev` = [`GENESIS`].
    BadStart,
    /// `seq` is not the previous `seq` + 1.
    Gap { expected: u64, found: u64 },
    /// `seq` is right but `prev` is not the hash of the previous line.
    PrevMismatch,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` line {}", self.file.display(), self.line)?;
        if let Some(s) = self.seq {
            write!(f, " (seq {s})")?;
        }
        f.write_str(": ")?;
        match &self.problem {
            Problem::Unparseable(e) => write!(
                f,
                "not an audit record ({e}): the line was edited, or inserted"
            ),
            Problem::Torn => f.write_str(
                "the last line is incomplete (no newline): the writer stopped mid-write or the \
                 file was truncated; restarting the gateway removes it and records that",
            ),
            Problem::BadStart => write!(
                f,
                "a trail must start with seq 1 and `prev` = 64 zeros: earlier records or files \
                 are missing or were edited (give rotated files first, oldest `.1` first)"
            ),
            Problem::Gap { expected, found } if found > expected => write!(
                f,
                "expected seq {expected}, found {found}: {} record(s) before this line were deleted",
                found - expected
            ),
            Problem::Gap { expected, found } => write!(
                f,
                "expected seq {expected}, found {found}: this line was inserted, duplicated or \
                 moved (lines reordered)"
            ),
            Problem::PrevMismatch => f.write_str(
                "`prev` is not the SHA-256 of the previous line: the previous line was edited \
                 (or this line's `prev` was)",
            ),
        }
    }
}

/// What `verify` checks of each line; other keys are not needed for the chain and may be added
/// by later versions.
#[derive(Deserialize)]
pub(super) struct ChainLine {
    #[allow(dead_code)]
    time: String,
    pub(super) seq: u64,
    #[allow(dead_code)]
    kind: String,
    #[allow(dead_code)]
    decision: String,
    prev: String,
}

/// A trail that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub files: usize,
    pub records: u64,
    /// The last line: compare with a head kept elsewhere to detect a truncated end.
    pub head: Head,
}

/// Checks the files as ONE trail, in the order given (oldest first; see [`trail_files`](super::trail_files)): every
/// line parses, the first has `seq` 1 and `prev` = [`GENESIS`], each next `seq` is one more and
/// each `prev` is the SHA-256 of the line before. Stops at the first break.
pub fn verify(paths: &[PathBuf]) -> Result<VerifyReport, VerifyError> {
    verify_against(paths, None)
}

/// [`verify`], and when `expected` is given, that the trail reaches it: it has a record with
/// that `seq` and hash (records after it are fine). A trail that ends before it lost its last
/// records ([`VerifyError::Cut`]); one whose record at that `seq` differs had its end replaced
/// ([`VerifyError::Replaced`]).
pub fn verify_against(
    paths: &[PathBuf],
    expected: Option<&Head>,
) -> Result<VerifyReport, VerifyError> {
    if paths.is_empty() {
        return Err(VerifyError::NoFiles);
    }
    let mut head = Head {
        seq: 0,
        hash: GENESIS.into(),
    };
    let mut records = 0u64;
    // The hash of the record at the expected head's `seq`, once read.
    let mut at_expected = None;
    for path in paths {
        let read_err = |source| VerifyError::Read {
            path: path.display().to_string(),
            source,
        };
        let mut reader = BufReader::new(File::open(path).map_err(read_err)?);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf).map_err(read_err)? == 0 {
                break;
            }
            line_no += 1;
            let broken = |seq, problem| {
                VerifyError::Broken(Box::new(ChainBreak {
                    file: path.clone(),
                    line: line_no,
                    seq,
                    problem,
                }))
            };
            let Some(line) = buf.strip_suffix(b"\n") else {
                let seq = serde_json::from_slice::<ChainLine>(&buf)
                    .ok()
                    .map(|l| l.seq);
                return Err(broken(seq, Problem::Torn));
            };
            let parsed: ChainLine = serde_json::from_slice(line)
                .map_err(|e| broken(None, Problem::Unparseable(e.to_string())))?;
            let seq = Some(parsed.seq);
            if head.seq == 0 {
                if parsed.seq != 1 || parsed.prev != GENESIS {
                    return Err(broken(seq, Problem::BadStart));
                }
            } else if parsed.seq != head.seq + 1 {
                return Err(broken(
                    seq,
                    Problem::Gap {
                        expected: head.seq + 1,
                        found: parsed.seq,
                    },
                ));
            } else if parsed.prev != head.hash {
                return Err(broken(seq, Problem::PrevMismatch));
            }
            head = Head {
                seq: parsed.seq,
                hash: sha256_hex(line),
            };
            if expected.is_some_and(|e| e.seq == head.seq) {
                at_expected = Some(head.hash.clone());
            }
            records += 1;
        }
    }
    if let Some(expected) = expected.filter(|e| e.seq > 0) {
        if head.seq < expected.seq {
            return Err(VerifyError::Cut {
                expected: expected.clone(),
                found: head,
            });
        }
        if at_expected.as_deref() != Some(expected.hash.as_str()) {
            return Err(VerifyError::Replaced {
                expected: expected.clone(),
                found: at_expected,
            });
        }
    }
    Ok(VerifyReport {
        files: paths.len(),
        records,
        head,
    })
}
