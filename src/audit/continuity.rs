//! Where the chain goes on when the gateway starts: the last complete line of the live file
//! (a torn last line is cut off and recorded), else of the newest rotated file, else a new
//! trail; and the list of a trail's files in verification order.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::record::sha256_hex;
use super::sink::FileSink;
use super::verify::ChainLine;
use super::{AuditError, AuditRecord, GENESIS, Head};

/// Bytes of a torn tail kept (as text) in the `torn_tail_removed` record.
const TORN_TEXT_LIMIT: usize = 1024;

/// What start-up found of an existing trail, before anything is changed on disk.
pub(super) struct Found {
    pub(super) sink: FileSink,
    /// The last complete record of the trail (live file, else newest rotated file).
    pub(super) head: Head,
    /// Bytes after the live file's last complete line, and where that line ends.
    torn: Option<(Vec<u8>, u64)>,
}

/// Opens `path` and finds where the chain goes on, changing nothing yet: see [`Found::repair`].
pub(super) fn open_trail(path: &Path) -> Result<Found, AuditError> {
    let shown = path.display().to_string();
    let open_err = |source| AuditError::Open {
        path: shown.clone(),
        source,
    };
    let recover_err = |message: String| AuditError::Recover {
        path: shown.clone(),
        message,
    };
    let mut sink = FileSink::open(path).map_err(open_err)?;
    let mut torn = None;
    let mut head = None;
    if sink.regular && sink.len > 0 {
        let tail = match sink.file.as_mut() {
            Some(f) => read_tail(f, sink.len).map_err(open_err)?,
            None => return Err(recover_err("the file is not open".into())),
        };
        if let Some(line) = &tail.last {
            head = Some(head_of(line).map_err(|e| {
                recover_err(format!("its last line does not parse as a record: {e}"))
            })?);
        }
        if !tail.torn.is_empty() {
            torn = Some((tail.torn, tail.complete_len));
        }
    }
    let head = match head {
        Some(h) => h,
        // Nothing complete in the live file: the chain goes on from the newest rotated file
        // (a crash right after a rotation), or this is a new trail.
        None => match rotated_files(path).map_err(open_err)?.last() {
            Some((_, rotated)) => {
                let rshown = rotated.display().to_string();
                let mut f = File::open(rotated).map_err(open_err)?;
                let len = f.metadata().map_err(open_err)?.len();
                let tail = read_tail(&mut f, len).map_err(open_err)?;
                match (&tail.last, tail.torn.is_empty()) {
                    (Some(line), true) => head_of(line).map_err(|e| {
                        recover_err(format!(
                            "the last line of rotated file `{rshown}` does not parse as a record: {e}"
                        ))
                    })?,
                    _ => {
                        return Err(recover_err(format!(
                            "rotated file `{rshown}` does not end in a complete record"
                        )));
                    }
                }
            }
            None => Head {
                seq: 0,
                hash: GENESIS.into(),
            },
        },
    };
    Ok(Found { sink, head, torn })
}

impl Found {
    /// Cuts a torn last line off the live file; returns the `torn_tail_removed` notice to write
    /// first, if there was one.
    pub(super) fn repair(&mut self) -> Result<Option<AuditRecord>, AuditError> {
        let Some((torn, complete_len)) = self.torn.take() else {
            return Ok(None);
        };
        let shown = self.sink.path.display().to_string();
        let recover_err = |message: String| AuditError::Recover {
            path: shown.clone(),
            message,
        };
        let f = self
            .sink
            .file
            .as_ref()
            .ok_or_else(|| recover_err("the file is not open".into()))?;
        f.set_len(complete_len)
            .and_then(|()| f.sync_all())
            .map_err(|e| recover_err(format!("cannot remove its torn last line: {e}")))?;
        self.sink.len = complete_len;
        let text =
            String::from_utf8_lossy(torn.get(..TORN_TEXT_LIMIT).unwrap_or(&torn)).into_owned();
        tracing::warn!(
            "audit: `{shown}` ended in an incomplete line ({} bytes) from an interrupted \
             write; removed it and recorded that in the trail",
            torn.len()
        );
        Ok(Some(AuditRecord::notice(
            "torn_tail_removed",
            format!(
                "the last line of `{shown}` was incomplete (the gateway stopped mid-write); \
                 its {} bytes were removed on restart",
                torn.len()
            ),
            json!({
                "file": shown,
                "offset": complete_len,
                "bytes": torn.len(),
                "sha256": sha256_hex(&torn),
                "text": text,
            }),
        )))
    }
}

/// How the trail at `path`, whose last record is `trail`, stands to the head saved beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reach {
    /// The saved head's record is in the trail (perhaps with records after it).
    Reaches,
    /// The trail ends before the saved head: records were cut from its end.
    Short,
    /// The trail has no record at the saved head's `seq` with its hash: its end was replaced.
    Differs,
}

pub(super) fn reach(path: &Path, trail: &Head, saved: &Head) -> io::Result<Reach> {
    if saved.seq == 0 {
        return Ok(Reach::Reaches);
    }
    if trail.seq < saved.seq {
        return Ok(Reach::Short);
    }
    let same = if trail.seq == saved.seq {
        trail.hash == saved.hash
    } else {
        hash_at(path, saved.seq)?.is_some_and(|h| h == saved.hash)
    };
    Ok(if same { Reach::Reaches } else { Reach::Differs })
}

/// The hash of the line whose `seq` is `seq` in the trail at `path`, looked for from the end
/// backwards (the live file, then rotated files newest first), so start-up reads only the
/// records written since the head was saved. `None` when the trail has no such line. A
/// line after the last newline (a torn write) is not a line.
fn hash_at(path: &Path, seq: u64) -> io::Result<Option<String>> {
    const CHUNK: u64 = 64 * 1024;
    let mut files = vec![path.to_path_buf()];
    files.extend(rotated_files(path)?.into_iter().rev().map(|(_, p)| p));
    for f in files {
        let mut file = match File::open(&f) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut pos = file.metadata()?.len();
        // The start of a line whose beginning is further back.
        let mut pending: Vec<u8> = Vec::new();
        // Until the file's last newline is found, bytes are a torn write, not a line.
        let mut torn = true;
        while pos > 0 || !pending.is_empty() {
            let mut lines: Vec<Vec<u8>> = Vec::new();
            if pos == 0 {
                lines.push(std::mem::take(&mut pending));
            } else {
                let n = CHUNK.min(pos);
                pos -= n;
                let mut buf = vec![0u8; usize::try_from(n).unwrap_or(0)];
                file.seek(SeekFrom::Start(pos))?;
                file.read_exact(&mut buf)?;
                buf.extend_from_slice(&pending);
                if torn {
                    match buf.iter().rposition(|b| *b == b'\n') {
                        Some(end) => {
                            buf.truncate(end);
                            torn = false;
                        }
                        None => {
                            pending.clear();
                            continue;
                        }
                    }
                }
                let mut parts = buf.split(|b| *b == b'\n');
                pending = parts.next().unwrap_or_default().to_vec();
                lines.extend(parts.map(<[u8]>::to_vec));
            }
            for line in lines.iter().rev().filter(|l| !l.is_empty()) {
                let Ok(parsed) = serde_json::from_slice::<ChainLine>(line) else {
                    continue;
                };
                if parsed.seq == seq {
                    return Ok(Some(sha256_hex(line)));
                }
                if parsed.seq < seq {
                    return Ok(None);
                }
            }
        }
    }
    Ok(None)
}

/// The head a trail has when `line` is its last line.
fn head_of(line: &[u8]) -> Result<Head, serde_json::Error> {
    let parsed: ChainLine = serde_json::from_slice(line)?;
    Ok(Head {
        seq: parsed.seq,
        hash: sha256_hex(line),
    })
}

struct Tail {
    /// The last complete line, without its `\n`.
    last: Option<Vec<u8>>,
    /// Bytes after the last `\n`.
    torn: Vec<u8>,
    /// File length up to and including the last `\n`.
    complete_len: u64,
}

/// Reads backwards from the end of `file` until the last complete line is in hand.
fn read_tail(file: &mut File, len: u64) -> io::Result<Tail> {
    const CHUNK: u64 = 64 * 1024;
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let n = CHUNK.min(start);
        start -= n;
        let mut chunk = vec![0u8; usize::try_from(n).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        if start == 0 {
            break;
        }
        // Done when a newline ends the last line and another one (or the file start) precedes it.
        if let Some(end) = buf.iter().rposition(|b| *b == b'\n')
            && buf.get(..end).is_some_and(|b| b.contains(&b'\n'))
        {
            break;
        }
    }
    let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
        return Ok(Tail {
            last: None,
            torn: buf,
            complete_len: start,
        });
    };
    let body = buf.get(..end).unwrap_or_default();
    let line_start = body.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    Ok(Tail {
        last: Some(body.get(line_start..).unwrap_or_default().to_vec()),
        torn: buf.get(end + 1..).unwrap_or_default().to_vec(),
        complete_len: start + end as u64 + 1,
    })
}

/// The rotated files of the trail at `path` (`<path>.<n>`), oldest (lowest `n`) first.
pub fn rotated_files(path: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let fname = entry.file_name();
        let Some(n) = fname
            .to_str()
            .and_then(|f| f.strip_prefix(name))
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u64>().ok())
        else {
            continue;
        };
        found.push((n, path.with_file_name(fname)));
    }
    found.sort();
    Ok(found)
}

/// All files of the trail at `path`, in verification order: `<path>.1`, `<path>.2`, …, `<path>`.
pub fn trail_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = rotated_files(path)?.into_iter().map(|(_, p)| p).collect();
    files.push(path.to_path_buf());
    Ok(files)
}
