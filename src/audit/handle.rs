//! The [`Audit`] handle every module records through: it opens the trail (continuing an
//! existing one), starts the writer thread, and writes a record in the caller's task or hands
//! it to the writer (see "Who writes" in the module docs).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::channel::{Msg, Shared};
use super::continuity::{Reach, open_trail, reach, rotated_files};
use super::head::{HEAD_INTERVAL, head_file, read_head_file};
use super::record::{Encoded, canonical_sha256, now_rfc3339, redact};
use super::writer::{Writer, lock, run_writer};
use super::{AuditConfig, AuditError, AuditRecord, Fsync, GENESIS, Head, OnFailure};

/// Records waiting for the writer; `record()` waits (back-pressure) when it is full.
const QUEUE_CAPACITY: usize = 8192;

/// The audit trail writer. Cheap to clone; all clones share one `Writer`, so records are
/// written in exactly the order `seq` gives them (see "Who writes" in the module docs).
#[derive(Clone)]
pub struct Audit {
    tx: mpsc::Sender<Msg>,
    pub(super) shared: Arc<Shared>,
    writer: Arc<Mutex<Writer>>,
    /// `record()` writes in the caller's task (see the module docs).
    inline: bool,
    /// The live file's path, looked at (`stat`) before the writer's lock is taken.
    path: Option<Arc<Path>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("healthy", &self.is_healthy())
            .field("head", &self.head())
            .finish()
    }
}

impl Audit {
    /// Opens the sinks, continues an existing trail at `config.file` (repairing a torn last line,
    /// see the module docs) and starts the writer. Relative paths resolve against `base_dir`.
    ///
    /// A trail that does not reach the head saved beside it (records cut from its end, or its
    /// end replaced) is refused with [`AuditError::Cut`] or [`AuditError::Replaced`], before
    /// anything is changed on disk; with `dangerous_continue_after_gap` it is continued after an
    /// `audit_gap` record numbered after the saved head, so no `seq` is used twice.
    pub fn start(config: &AuditConfig, base_dir: &Path) -> Result<Audit, AuditError> {
        let path = config.file.as_ref().map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                base_dir.join(p)
            }
        });
        let mut startup_notices = Vec::new();
        let mut head_path = None;
        let (sink, head, next_rotation) = match &path {
            Some(p) => {
                let mut found = open_trail(p)?;
                let mut head = found.head.clone();
                if found.sink.regular {
                    let hp = head_file(p);
                    if let Some((notice, go_on_from)) =
                        check_saved_head(p, &hp, &found.head, config)?
                    {
                        startup_notices.push(notice);
                        head = go_on_from;
                    }
                    head_path = Some(hp);
                }
                startup_notices.extend(found.repair()?);
                let next = rotated_files(p)
                    .map_err(|source| AuditError::Open {
                        path: p.display().to_string(),
                        source,
                    })?
                    .last()
                    .map_or(1, |(n, _)| n.saturating_add(1));
                (Some(found.sink), head, next)
            }
            None => (
                None,
                Head {
                    seq: 0,
                    hash: GENESIS.into(),
                },
                1,
            ),
        };
        let shared = Arc::new(Shared {
            healthy: AtomicBool::new(true),
            dropped: AtomicU64::new(0),
            head: Mutex::new(head.clone()),
            head_in_file: Mutex::new(None),
            dirtied: tokio::sync::Notify::new(),
            include_args: config.include_args,
            redact_keys: config.redact_keys.clone(),
            on_failure: config.on_failure,
            replica: config.replica.clone(),
        });
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let inline = sink.is_some() && !config.stdout && config.fsync != Fsync::EveryRecord;
        let writer = Writer {
            file: sink,
            stdout: config.stdout,
            stdout_failing: false,
            fsync: config.fsync,
            max_file_bytes: config.max_file_bytes,
            seq: head.seq,
            prev: head.hash,
            synced: head.seq,
            head_file: head_path,
            saved: Head {
                seq: 0,
                hash: GENESIS.into(),
            },
            saved_at: Instant::now()
                .checked_sub(HEAD_INTERVAL)
                .unwrap_or_else(Instant::now),
            next_rotation,
            dirty: false,
            last_sync: Instant::now(),
            lost: 0,
            lost_since: None,
            reopened: None,
            closed: false,
            shared: shared.clone(),
        };
        let writer = Arc::new(Mutex::new(writer));
        // Before any record: the notices about what start-up found come first in the trail.
        if !startup_notices.is_empty() {
            let msgs = startup_notices
                .into_iter()
                .map(|r| Msg::Record(Box::new(r), None))
                .collect();
            lock(&writer).handle(msgs);
        }
        // The head file names where this run starts (a trail without one gets one now).
        lock(&writer).save_head();
        // The writer does blocking file I/O, so it gets its own thread (and a small runtime for
        // its channel and sync timer) instead of occupying a worker of the gateway's runtime.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(AuditError::Start)?;
        let thread_writer = writer.clone();
        std::thread::Builder::new()
            .name("portcullis-audit".into())
            .spawn(move || rt.block_on(run_writer(thread_writer, rx)))
            .map_err(AuditError::Start)?;
        Ok(Audit {
            tx,
            shared,
            writer,
            inline,
            path: path.map(Arc::from),
        })
    }

    /// Writes `rec` and waits until it is handed to the OS (and synced with
    /// `fsync = "every_record"`). With `on_failure = "fail_closed"` a record that cannot be
    /// written is an `Err` (refuse the action); with `"continue"` it is logged and `Ok`.
    pub async fn record(&self, rec: AuditRecord) -> Result<(), AuditError> {
        let result = self.send_and_wait(rec).await;
        match (result, self.shared.on_failure) {
            (Ok(()), _) => Ok(()),
            (Err(e), OnFailure::FailClosed) => Err(e),
            (Err(e), OnFailure::Continue) => {
                // The writer raised the alert when writing started to fail; the loss is counted
                // in the trail (`records_lost`) once writing works again.
                tracing::debug!("audit record lost (on_failure = continue): {e}");
                Ok(())
            }
        }
    }

    async fn send_and_wait(&self, rec: AuditRecord) -> Result<(), AuditError> {
        let rec = self.prepare(rec)?;
        if self.inline {
            // Serialised and the file looked at before the lock: under it, only the chain
            // fields are filled in, hashed and written.
            let encoded = Encoded::new(&rec);
            let seen = self.path.as_deref().map(std::fs::metadata);
            let (ack, mut done) = oneshot::channel();
            {
                let mut w = lock(&self.writer);
                if w.closed {
                    return Err(AuditError::Closed);
                }
                let was_dirty = w.dirty;
                match encoded {
                    Some(e) => w.write_encoded(&e, seen.as_ref(), ack),
                    None => {
                        w.handle(vec![Msg::Record(Box::new(rec), Some(ack))]);
                    }
                }
                if w.dirty && !was_dirty {
                    self.shared.dirtied.notify_one();
                }
            }
            // The write answered before it returned.
            return done.try_recv().unwrap_or(Err(AuditError::Closed));
        }
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Record(Box::new(rec), Some(ack)))
            .await
            .map_err(|_| AuditError::Closed)?;
        done.await.unwrap_or(Err(AuditError::Closed))
    }

    /// Queues `rec` without waiting, for best-effort kinds (`list`, `backend_up`, …). When the
    /// queue is full the record is dropped and counted; the count is written to the trail as a
    /// `records_dropped` record.
    pub fn record_nowait(&self, rec: AuditRecord) {
        let rec = match self.prepare(rec) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("audit record dropped: {e}");
                return;
            }
        };
        match self.tx.try_send(Msg::Record(Box::new(rec), None)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("audit record dropped: the audit writer has stopped");
            }
        }
    }

    /// False after a write failed, until a write succeeds again.
    pub fn is_healthy(&self) -> bool {
        self.shared.healthy.load(Ordering::Relaxed)
    }

    /// `seq` and hash of the newest line written.
    pub fn head(&self) -> Head {
        self.shared
            .head
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Writes everything queued before this call, syncs, stops the writer (later records get
    /// [`AuditError::Closed`]) and returns the final head, which is also logged.
    pub async fn shutdown(&self) -> Result<Head, AuditError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Shutdown(tx))
            .await
            .map_err(|_| AuditError::Closed)?;
        rx.await.map_err(|_| AuditError::Closed)
    }

    /// Redaction and the arguments digest happen here, in the caller's task, so the writer only
    /// serialises and writes.
    fn prepare(&self, mut rec: AuditRecord) -> Result<AuditRecord, AuditError> {
        if let Some(mut args) = rec.args.take() {
            redact(&mut args, &self.shared.redact_keys);
            // The digest covers the redacted form: a digest of the raw arguments would let anyone
            // reading the trail confirm a guessed password offline.
            rec.args_sha256 = Some(canonical_sha256(&args)?);
            if self.shared.include_args {
                rec.args = Some(args);
            }
        }
        if rec.time.is_empty() {
            rec.time = now_rfc3339();
        }
        if rec.replica.is_none() {
            rec.replica.clone_from(&self.shared.replica);
        }
        Ok(rec)
    }
}

/// Compares the trail at `trail`, whose last record is `found`, with the head saved in
/// `head_path`. `Ok(None)`: go on as usual. `Ok(Some((notice, head)))`: write `notice` first
/// and go on from `head` (a trail without a head file; or, with
/// `dangerous_continue_after_gap`, one that does not reach it). A trail that does not reach
/// its saved head is otherwise an error.
fn check_saved_head(
    trail: &Path,
    head_path: &Path,
    found: &Head,
    config: &AuditConfig,
) -> Result<Option<(AuditRecord, Head)>, AuditError> {
    let trail_shown = trail.display().to_string();
    let head_shown = head_path.display().to_string();
    let Some(saved) = read_head_file(head_path).map_err(AuditError::HeadFile)? else {
        if found.seq == 0 {
            return Ok(None);
        }
        // A trail kept before head files existed, or whose head file was deleted: nothing to
        // compare with, so say so in the trail itself.
        let why = format!(
            "`{head_shown}` is missing: whether records were cut from the end of `{trail_shown}` \
             before this start cannot be checked; the trail goes on at seq {}",
            found.seq + 1
        );
        tracing::warn!(alert = true, "audit: {why}");
        let notice = AuditRecord::notice(
            "head_missing",
            why,
            json!({ "head_file": head_shown, "trail_head": found.to_string() }),
        );
        return Ok(Some((notice, found.clone())));
    };
    let reached = reach(trail, found, &saved).map_err(|source| AuditError::Open {
        path: trail_shown.clone(),
        source,
    })?;
    let (err, extra, go_on_from) = match reached {
        Reach::Reaches => return Ok(None),
        Reach::Short => (
            AuditError::Cut {
                trail: trail_shown,
                head_file: head_shown.clone(),
                found: found.clone(),
                saved: saved.clone(),
            },
            json!({
                "missing_from": found.seq + 1,
                "missing_to": saved.seq,
            }),
            // Numbered after what was written: no `seq` of the lost records is used again.
            saved.clone(),
        ),
        Reach::Differs => (
            AuditError::Replaced {
                trail: trail_shown,
                head_file: head_shown.clone(),
                found: found.clone(),
                saved: saved.clone(),
            },
            json!({ "replaced_seq": saved.seq }),
            found.clone(),
        ),
    };
    if !config.dangerous_continue_after_gap {
        return Err(err);
    }
    tracing::error!(
        alert = true,
        "audit: {err}. Going on after an `audit_gap` record, as \
         `[audit] dangerous_continue_after_gap = true` says"
    );
    let mut extra = extra;
    if let Some(m) = extra.as_object_mut() {
        m.insert("trail_head".into(), json!(found.to_string()));
        m.insert("saved_head".into(), json!(saved.to_string()));
        m.insert("head_file".into(), json!(head_shown));
    }
    let reason = match &err {
        AuditError::Cut { .. } => format!(
            "records seq {} to {} are missing: the trail ended at seq {} but its head file said \
             seq {} was written; going on as `dangerous_continue_after_gap` allows",
            found.seq + 1,
            saved.seq,
            found.seq,
            saved.seq
        ),
        _ => format!(
            "the record at seq {} is not the one the head file named: the end of the trail was \
             replaced; going on as `dangerous_continue_after_gap` allows",
            saved.seq
        ),
    };
    Ok(Some((
        AuditRecord::notice("audit_gap", reason, extra),
        go_on_from,
    )))
}
