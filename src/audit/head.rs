//! The saved head: `seq` and hash of the newest record, kept outside the trail so that records
//! cut from its END — which the chain alone cannot show — are caught. The gateway keeps it in
//! `<trail>.head` (one line, `SEQ:HASH`, the form `portcullis audit verify --expect-head` takes)
//! and at start refuses a trail that does not reach it; `verify` checks a trail against it.
//!
//! The file is replaced atomically (written beside, synced, renamed) and only after the trail
//! data it names is synced, so after a crash or a power loss it names a record that is on disk.
//! It is written when the live file is rotated (by the record that triggers the rotation,
//! which already waits for the rotated file's sync and rename), at shutdown, and at most once
//! per [`HEAD_INTERVAL`] while records are written, on a blocking thread: no other record
//! waits for it. What it cannot
//! show is a cut of the records written after its last update, i.e. in the last
//! [`HEAD_INTERVAL`] before the gateway stopped without a shutdown (crash, SIGKILL, power
//! loss) — and anything done by someone who can rewrite the head file too; a copy of the head
//! kept elsewhere (the log line at rotation and shutdown, a SIEM) covers that.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Longest time a written record goes unnamed by the head file (while records are written).
pub const HEAD_INTERVAL: Duration = Duration::from_secs(1);

/// `seq` and hash of the newest line of a trail: the value to keep elsewhere (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    /// Lowercase hex SHA-256 of the line; [`super::GENESIS`] for an empty trail.
    pub hash: String,
}

/// `SEQ:HASH`, the form of the head file and of `--expect-head`.
impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for Head {
    type Err = HeadError;

    fn from_str(s: &str) -> Result<Head, HeadError> {
        let malformed = || HeadError::Malformed {
            text: s.chars().take(200).collect(),
        };
        let (seq, hash) = s.trim().split_once(':').ok_or_else(malformed)?;
        let seq = seq
            .parse::<u64>()
            .ok()
            .filter(|_| seq.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(malformed)?;
        if hash.len() != 64 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(malformed());
        }
        Ok(Head {
            seq,
            hash: hash.to_owned(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error(
        "`{text}` is not an audit head: expected `SEQ:HASH` (a sequence number, `:`, and 64 \
         lowercase hex digits), as `portcullis audit verify` prints it"
    )]
    Malformed { text: String },
    #[error("cannot read audit head file `{path}`: {source}")]
    Read { path: String, source: io::Error },
    #[error("audit head file `{path}`: {source}")]
    Content {
        path: String,
        source: Box<HeadError>,
    },
}

/// Where the gateway keeps the head of the trail whose live file is `trail`: `<trail>.head`.
pub fn head_file(trail: &Path) -> PathBuf {
    let mut name = trail.file_name().unwrap_or_default().to_os_string();
    name.push(".head");
    trail.with_file_name(name)
}

/// The head saved in `path`; `None` when there is no such file.
pub fn read_head_file(path: &Path) -> Result<Option<Head>, HeadError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(HeadError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    };
    text.parse()
        .map(Some)
        .map_err(|e: HeadError| HeadError::Content {
            path: path.display().to_string(),
            source: Box::new(e),
        })
}

/// The head `--expect-head` names: `SEQ:HASH`, or the path of a head file.
pub fn expected_head(arg: &str) -> Result<Head, HeadError> {
    let looks_inline = arg
        .split_once(':')
        .is_some_and(|(seq, _)| !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()));
    if looks_inline {
        return arg.parse();
    }
    let path = Path::new(arg);
    read_head_file(path)?.ok_or_else(|| HeadError::Read {
        path: arg.to_owned(),
        source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
    })
}

/// Replaces the head file at `path` atomically: `<path>.tmp` written and synced, then renamed
/// over it. The directory is not synced: after a power loss the file may name an older head,
/// which is never a false alarm.
pub(super) fn write_head_file(path: &Path, head: &Head) -> io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut f = File::create(&tmp)?;
    f.write_all(format!("{head}\n").as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// The head `portcullis audit verify` checks a trail given as `files` against, and where it
/// came from: the one `arg` names (`SEQ:HASH` or a head file); else, for a single live file
/// with a head file beside it, that file; else none.
pub fn head_to_expect(
    files: &[PathBuf],
    arg: Option<&str>,
) -> Result<Option<(Head, String)>, HeadError> {
    if let Some(arg) = arg {
        return Ok(Some((expected_head(arg)?, format!("`{arg}`"))));
    }
    let [live] = files else {
        return Ok(None);
    };
    let path = head_file(live);
    Ok(read_head_file(&path)?.map(|h| (h, format!("`{}`", path.display()))))
}

#[cfg(test)]
mod tests;
