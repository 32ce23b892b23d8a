//! The single writer: the chain state behind one mutex, so records are written in exactly the
//! order `seq` gives them whoever writes them. Batches, the trail's own notices, rotation by
//! size, the interval sync, and what is counted when a write fails (see the module docs).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::channel::{Ack, Msg, Shared};
use super::head::{HEAD_INTERVAL, write_head_file};
use super::record::{Encoded, now_rfc3339, sha256_hex, to_line};
use super::sink::{FileSink, file_id, sync_dir};
use super::{AuditError, AuditRecord, Fsync, Head};

/// Records written with one `write(2)` (and one sync with `every_record`).
const MAX_BATCH: usize = 1024;

struct Chunk {
    bytes: Vec<u8>,
    acks: Vec<Ack>,
    records: u64,
    pub(super) seq: u64,
    pub(super) prev: String,
    /// The notices in this chunk and what they report, given back if the chunk fails.
    notices: u64,
    pub(super) lost: u64,
    pub(super) lost_since: Option<String>,
    dropped: u64,
    pub(super) reopened: Option<String>,
}

impl Chunk {
    fn new(seq: u64, prev: String) -> Self {
        Chunk {
            bytes: Vec::new(),
            acks: Vec::new(),
            records: 0,
            seq,
            prev,
            notices: 0,
            lost: 0,
            lost_since: None,
            dropped: 0,
            reopened: None,
        }
    }

    /// Encodes `rec` as the next line; the chunk's state advances only if encoding works.
    fn encode(&self, rec: &mut AuditRecord) -> Result<Vec<u8>, AuditError> {
        rec.seq = self.seq + 1;
        rec.prev.clone_from(&self.prev);
        to_line(rec).map_err(|e| AuditError::Encode(e.to_string()))
    }

    fn push(&mut self, line: &[u8], ack: Option<Ack>) {
        self.seq += 1;
        self.prev = sha256_hex(line);
        self.bytes.extend_from_slice(line);
        self.bytes.push(b'\n');
        self.records += 1;
        self.acks.extend(ack);
    }
}

pub(super) struct Writer {
    pub(super) file: Option<FileSink>,
    pub(super) stdout: bool,
    pub(super) stdout_failing: bool,
    pub(super) fsync: Fsync,
    pub(super) max_file_bytes: u64,
    /// `seq` and hash of the last line written (committed).
    pub(super) seq: u64,
    pub(super) prev: String,
    /// `seq` of the last line known to be synced to stable storage.
    pub(super) synced: u64,
    /// Where the head is saved (`<trail>.head`), for a trail in a regular file.
    pub(super) head_file: Option<PathBuf>,
    /// The head the head file holds (as far as this writer knows).
    pub(super) saved: Head,
    /// When the head file was last written (or tried).
    pub(super) saved_at: Instant,
    pub(super) next_rotation: u64,
    /// Written but not yet synced.
    pub(super) dirty: bool,
    pub(super) last_sync: Instant,
    /// Records that could not be written, not yet reported in the trail.
    pub(super) lost: u64,
    pub(super) lost_since: Option<String>,
    /// The live file was reopened (deleted or replaced); reported in the trail.
    pub(super) reopened: Option<String>,
    /// The trail was shut down: nothing more is written.
    pub(super) closed: bool,
    pub(super) shared: Arc<Shared>,
}

pub(super) fn lock(w: &Mutex<Writer>) -> std::sync::MutexGuard<'_, Writer> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer thread: queued records, the interval sync, the head file and the shutdown.
pub(super) async fn run_writer(writer: Arc<Mutex<Writer>>, mut rx: mpsc::Receiver<Msg>) {
    let mut stop = None;
    let shared = lock(&writer).shared.clone();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while stop.is_none() {
        let wait = {
            let w = lock(&writer);
            match (w.sync_deadline(), w.head_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let n = tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => n,
            // A record written in a caller's task made a clean file dirty: an interval sync and
            // a head update are now due at some point.
            () = shared.dirtied.notified() => continue,
            () = tokio::time::sleep(wait.unwrap_or_default()), if wait.is_some() => {
                sync_if_due(&writer);
                save_head_if_due(&writer);
                continue;
            }
        };
        if n == 0 {
            break; // every `Audit` handle is gone
        }
        stop = lock(&writer).handle(std::mem::take(&mut batch));
        sync_if_due(&writer);
        save_head_if_due(&writer);
    }
    let head = {
        let mut w = lock(&writer);
        w.closed = true;
        if w.dirty {
            w.sync();
        }
        w.save_head();
        Head {
            seq: w.seq,
            hash: w.prev.clone(),
        }
    };
    tracing::info!(seq = head.seq, hash = %head.hash, "audit trail closed; keep this head to detect truncation");
    if let Some(tx) = stop {
        let _ = tx.send(head);
    }
}

/// An interval sync that is due, on a duplicate of the file handle so that writers are not
/// held up by `fdatasync(2)`.
fn sync_if_due(writer: &Mutex<Writer>) {
    let (file, seq, shared) = {
        let mut w = lock(writer);
        if w.sync_deadline() != Some(Duration::ZERO) {
            return;
        }
        w.dirty = false;
        w.last_sync = Instant::now();
        let file = w
            .file
            .as_ref()
            .and_then(|s| s.file.as_ref())
            .map(File::try_clone);
        (file, w.seq, w.shared.clone())
    };
    let result = match file {
        Some(Ok(f)) => f.sync_data().map(|()| true),
        Some(Err(e)) => Err(e),
        None => Ok(false),
    };
    match result {
        Ok(true) => {
            let mut w = lock(writer);
            w.synced = w.synced.max(seq);
        }
        Ok(false) => {}
        Err(e) => {
            shared.healthy.store(false, Ordering::Relaxed);
            tracing::error!("audit: cannot sync the audit file: {e}");
        }
    }
}

/// A head file update that is due: the data it names synced first (on a duplicate of the file
/// handle, outside the lock; it also counts as the interval sync), then the file replaced. Both
/// run on a blocking thread of the writer's runtime, so neither callers nor the writer thread
/// (which writes the records itself with `every_record` or a stdout copy) wait for them.
fn save_head_if_due(writer: &Arc<Mutex<Writer>>) {
    let (path, head, file, shared) = {
        let mut w = lock(writer);
        if w.head_deadline() != Some(Duration::ZERO) {
            return;
        }
        let Some(path) = w.head_file.clone() else {
            return;
        };
        w.saved_at = Instant::now();
        let head = Head {
            seq: w.seq,
            hash: w.prev.clone(),
        };
        let file = if w.synced < w.seq {
            let Some(f) = w.file.as_ref().and_then(|s| s.file.as_ref()) else {
                return;
            };
            let f = f.try_clone();
            // Everything written so far is in that file: one data sync covers it.
            w.dirty = false;
            w.last_sync = Instant::now();
            Some(f)
        } else {
            None
        };
        (path, head, file, w.shared.clone())
    };
    let writer = Arc::clone(writer);
    tokio::task::spawn_blocking(move || {
        if let Some(file) = file {
            if let Err(e) = file.and_then(|f| f.sync_data()) {
                shared.healthy.store(false, Ordering::Relaxed);
                tracing::error!("audit: cannot sync the audit file: {e}");
                return;
            }
            let mut w = lock(&writer);
            w.synced = w.synced.max(head.seq);
        }
        let stored = store_head(&shared, &path, &head);
        let mut w = lock(&writer);
        if stored && head.seq > w.saved.seq {
            w.saved = head;
        }
    });
}

/// Replaces the head file with `head` unless it already names a later one (a rotation may
/// have written it meanwhile); head writes are serialised, so they never mix. Failures are
/// logged: the trail is still written, only a later cut of its end would go unnoticed.
fn store_head(shared: &Shared, path: &Path, head: &Head) -> bool {
    let mut in_file = shared
        .head_in_file
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if in_file.is_some_and(|s| s > head.seq) {
        return false;
    }
    match write_head_file(path, head) {
        Ok(()) => {
            *in_file = Some(head.seq);
            true
        }
        Err(e) => {
            tracing::error!(
                "audit: cannot write the head file `{}`: {e}; records cut from the end of the \
                 trail would not be noticed at the next start",
                path.display()
            );
            false
        }
    }
}

impl Writer {
    /// How long until an interval sync is due, when one is pending.
    pub(super) fn sync_deadline(&self) -> Option<Duration> {
        match self.fsync {
            Fsync::IntervalMs(ms) if self.dirty => {
                Some(Duration::from_millis(ms).saturating_sub(self.last_sync.elapsed()))
            }
            _ => None,
        }
    }

    /// How long until the head file is due, when records were written since it was.
    pub(super) fn head_deadline(&self) -> Option<Duration> {
        (self.head_file.is_some() && self.seq != self.saved.seq && !self.closed)
            .then(|| HEAD_INTERVAL.saturating_sub(self.saved_at.elapsed()))
    }

    fn sync(&mut self) {
        self.dirty = false;
        self.last_sync = Instant::now();
        if let Some(f) = self.file.as_ref().and_then(|s| s.file.as_ref()) {
            match f.sync_data() {
                Ok(()) => self.synced = self.seq,
                Err(e) => {
                    self.shared.healthy.store(false, Ordering::Relaxed);
                    tracing::error!("audit: cannot sync the audit file: {e}");
                }
            }
        }
    }

    /// Writes the head file now, under the lock (start, rotation, shutdown), syncing the data
    /// it names first when that is not done yet.
    pub(super) fn save_head(&mut self) {
        let Some(path) = self.head_file.clone() else {
            return;
        };
        if self.synced < self.seq {
            self.sync();
            if self.synced < self.seq {
                return;
            }
        }
        self.saved_at = Instant::now();
        let head = Head {
            seq: self.seq,
            hash: self.prev.clone(),
        };
        if store_head(&self.shared, &path, &head) {
            self.saved = head;
        }
    }

    /// Writes one record encoded outside the lock. `seen` is what `stat` said of the live file's
    /// path just before the lock was taken: when it is still the file being written, the file
    /// is not looked at again.
    pub(super) fn write_encoded(
        &mut self,
        rec: &Encoded,
        seen: Option<&io::Result<std::fs::Metadata>>,
        ack: Ack,
    ) {
        let same = match (self.file.as_ref(), seen) {
            (Some(sink), Some(Ok(m))) => {
                sink.file.is_some() && sink.id.is_some() && sink.id == file_id(m)
            }
            _ => false,
        };
        if !same {
            let _ = self.check_file();
        }
        let mut chunk = Chunk::new(self.seq, self.prev.clone());
        self.add_notices(&mut chunk);
        let mut line = rec.line(chunk.seq + 1, &chunk.prev);
        if self.must_rotate(chunk.bytes.len(), line.len()) {
            self.commit(&mut chunk);
            self.rotate();
            line = rec.line(chunk.seq + 1, &chunk.prev);
        }
        chunk.push(&line, Some(ack));
        self.commit(&mut chunk);
    }

    /// Writes one batch; returns the shutdown reply channel if the batch asked to stop.
    pub(super) fn handle(&mut self, msgs: Vec<Msg>) -> Option<oneshot::Sender<Head>> {
        // Before encoding, so that a `file_reopened` notice precedes the batch (a failure here
        // shows again, and is reported, when the batch is written).
        let _ = self.check_file();
        let mut chunk = Chunk::new(self.seq, self.prev.clone());
        self.add_notices(&mut chunk);
        for msg in msgs {
            let (mut rec, ack) = match msg {
                Msg::Record(rec, ack) => (rec, ack),
                Msg::Shutdown(tx) => {
                    // Records queued after the shutdown request are not written; their callers
                    // see `Closed` when the channel drops.
                    self.commit(&mut chunk);
                    return Some(tx);
                }
            };
            let mut line = match chunk.encode(&mut rec) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!("audit: {e}");
                    if let Some(a) = ack {
                        let _ = a.send(Err(e));
                    }
                    continue;
                }
            };
            if self.must_rotate(chunk.bytes.len(), line.len()) {
                self.commit(&mut chunk);
                self.rotate();
                // The chunk restarted from the committed state; encode against it.
                match chunk.encode(&mut rec) {
                    Ok(l) => line = l,
                    Err(e) => {
                        if let Some(a) = ack {
                            let _ = a.send(Err(e));
                        }
                        continue;
                    }
                }
            }
            chunk.push(&line, ack);
        }
        self.commit(&mut chunk);
        None
    }

    fn add_notices(&mut self, chunk: &mut Chunk) {
        let mut notices = Vec::new();
        if let Some(why) = self.reopened.take() {
            notices.push(AuditRecord::notice("file_reopened", why.clone(), json!({})));
            chunk.reopened = Some(why);
        }
        if self.lost > 0 {
            let since = self.lost_since.take();
            notices.push(AuditRecord::notice(
                "records_lost",
                format!(
                    "{} audit record(s) could not be written since {}",
                    self.lost,
                    since.as_deref().unwrap_or("?")
                ),
                json!({ "count": self.lost, "since": since }),
            ));
            chunk.lost = std::mem::take(&mut self.lost);
            chunk.lost_since = since;
        }
        let dropped = self.shared.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            notices.push(AuditRecord::notice(
                "records_dropped",
                format!("{dropped} best-effort audit record(s) dropped: the audit queue was full"),
                json!({ "count": dropped }),
            ));
            chunk.dropped = dropped;
        }
        for mut n in notices {
            if let Ok(line) = chunk.encode(&mut n) {
                chunk.push(&line, None);
                chunk.notices += 1;
            }
        }
    }

    fn must_rotate(&self, pending: usize, line: usize) -> bool {
        let Some(f) = &self.file else { return false };
        let before = f.len.saturating_add(pending as u64);
        f.regular && before > 0 && before.saturating_add(line as u64 + 1) > self.max_file_bytes
    }

    /// Renames the live file to `<path>.<n>` and opens a new live file. On failure writing goes
    /// on in the current file (rename failed) or in a reopened one (see `ensure_open`).
    fn rotate(&mut self) {
        let Some(sink) = self.file.as_mut() else {
            return;
        };
        match sink.file.as_ref().map(File::sync_all) {
            Some(Ok(())) => self.synced = self.seq,
            Some(Err(e)) => tracing::error!(
                "audit: cannot sync `{}` before rotating: {e}",
                sink.path.display()
            ),
            None => {}
        }
        let mut target = PathBuf::from(format!("{}.{}", sink.path.display(), self.next_rotation));
        while target.exists() {
            self.next_rotation += 1;
            target = PathBuf::from(format!("{}.{}", sink.path.display(), self.next_rotation));
        }
        if let Err(e) = std::fs::rename(&sink.path, &target) {
            tracing::error!(
                "audit: cannot rotate `{}` to `{}`: {e}; writing on in the current file",
                sink.path.display(),
                target.display()
            );
            return;
        }
        self.next_rotation += 1;
        match FileSink::open(&sink.path) {
            Ok(fresh) => *sink = fresh,
            Err(e) => {
                tracing::error!("audit: cannot open `{}`: {e}", sink.path.display());
                sink.file = None;
            }
        }
        if self.fsync != Fsync::Never {
            sync_dir(&sink.path);
        }
        tracing::info!(
            rotated = %target.display(),
            seq = self.seq,
            hash = %self.prev,
            "audit file rotated"
        );
        // The rotated file holds the head now: name it before the live file grows again.
        self.save_head();
    }

    /// Writes the chunk and answers its callers; on failure rolls the chain back to the last
    /// committed line so the file stays a valid chain.
    fn commit(&mut self, chunk: &mut Chunk) {
        if chunk.records == 0 {
            return;
        }
        let acks = std::mem::take(&mut chunk.acks);
        let bytes = std::mem::take(&mut chunk.bytes);
        match self.write_out(&bytes) {
            Ok(()) => {
                self.seq = chunk.seq;
                self.prev.clone_from(&chunk.prev);
                if self.fsync == Fsync::EveryRecord && self.file.is_some() {
                    self.synced = self.seq;
                }
                self.shared.set_head(Head {
                    seq: self.seq,
                    hash: self.prev.clone(),
                });
                if !self.shared.healthy.swap(true, Ordering::Relaxed) {
                    tracing::info!("audit: writing records again");
                }
                for a in acks {
                    let _ = a.send(Ok(()));
                }
            }
            Err((sink, message)) => {
                if self.shared.healthy.swap(false, Ordering::Relaxed) {
                    tracing::error!("audit: cannot write to {sink}: {message}");
                }
                // Count what this chunk carried, and give back what its notices reported, so the
                // next write that works reports it.
                self.lost += chunk.records - chunk.notices + chunk.lost;
                self.lost_since = chunk
                    .lost_since
                    .take()
                    .or(self.lost_since.take())
                    .or_else(|| Some(now_rfc3339()));
                self.shared
                    .dropped
                    .fetch_add(chunk.dropped, Ordering::Relaxed);
                if self.reopened.is_none() {
                    self.reopened = chunk.reopened.take();
                }
                for a in acks {
                    let _ = a.send(Err(AuditError::Write {
                        sink: sink.clone(),
                        message: message.clone(),
                    }));
                }
            }
        }
        *chunk = Chunk::new(self.seq, self.prev.clone());
    }

    fn check_file(&mut self) -> io::Result<()> {
        let Some(sink) = self.file.as_mut() else {
            return Ok(());
        };
        if sink.ensure_open()? {
            let why = format!(
                "`{}` was deleted or replaced while the gateway was writing it; a new file was opened",
                sink.path.display()
            );
            tracing::error!("audit: {why}");
            self.reopened = Some(why);
        }
        Ok(())
    }

    /// The file is the record of truth when configured; stdout then is a copy whose failures are
    /// logged only. Without a file, stdout is the record of truth.
    fn write_out(&mut self, bytes: &[u8]) -> Result<(), (String, String)> {
        // `handle` looked for a deleted or replaced file just before this batch; only a file
        // that could not be opened then is tried again here.
        if let Some(sink) = self.file.as_ref()
            && sink.file.is_none()
        {
            let name = format!("`{}`", sink.path.display());
            self.check_file().map_err(|e| (name, e.to_string()))?;
        }
        if let Some(sink) = self.file.as_mut() {
            let name = format!("`{}`", sink.path.display());
            let Some(file) = sink.file.as_mut() else {
                return Err((name, "the file is not open".into()));
            };
            if let Err(e) = file.write_all(bytes) {
                // A partial write would leave a torn line in the middle of the chain: cut it off.
                if sink.regular
                    && file.metadata().is_ok_and(|m| m.len() != sink.len)
                    && let Err(e2) = file.set_len(sink.len)
                {
                    tracing::error!(
                        "audit: cannot remove a partial write from {name}: {e2}; it will show as a break"
                    );
                    sink.file = None;
                }
                return Err((name, e.to_string()));
            }
            sink.len = sink.len.saturating_add(bytes.len() as u64);
            if self.fsync == Fsync::EveryRecord {
                file.sync_data().map_err(|e| (name, format!("sync: {e}")))?;
                self.last_sync = Instant::now();
            } else {
                self.dirty = true;
            }
        }
        if self.stdout {
            let mut out = io::stdout().lock();
            let result = out.write_all(bytes).and_then(|()| out.flush());
            match result {
                Ok(()) => self.stdout_failing = false,
                Err(e) if self.file.is_none() => return Err(("stdout".into(), e.to_string())),
                Err(e) => {
                    if !self.stdout_failing {
                        tracing::error!("audit: cannot copy records to stdout: {e}");
                    }
                    self.stdout_failing = true;
                }
            }
        }
        Ok(())
    }
}
