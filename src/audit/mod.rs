//! The audit trail: one JSON line per gateway decision, hash-chained so that an edit, deletion,
//! insertion or reordering is evident. This module owns the record format, the single writer
//! (ordering, durability, fail-closed), file rotation, restart recovery and `verify`.
//!
//! # Format (for SIEM ingestion)
//!
//! A trail is a sequence of UTF-8 lines, each one JSON object terminated by `\n` (JSON lines);
//! the writer never emits a `\n` inside a record, nor `\r`. Keys appear in this order; optional
//! keys are omitted (never `null`) when they have no value.
//!
//! | key | type | always | meaning |
//! |---|---|---|---|
//! | `time` | string | yes | when the event happened, RFC 3339 UTC with milliseconds: `2026-05-01T12:34:56.789Z` |
//! | `seq` | integer | yes | 1, 2, 3… with no gap, across rotated files and gateway restarts |
//! | `kind` | string | yes | `auth_failure`, `session_start`, `session_end`, `list`, `call`, `rate_limited`, `quarantined`, `drift_alert`, `pin_approval`, `policy_reload`, `config_reload`, `backend_up`, `backend_down`, `workflow`, `workflow_step`, or `audit` (the trail's own events, see below) |
//! | `request_id` | string | | JSON-RPC id of the client's request (numbers in decimal) |
//! | `session_id` | string | | the gateway's client session id (`Mcp-Session-Id`) |
//! | `principal` | string | | the caller as `iss|sub` |
//! | `client` | object | | `{"name", "version", "address"}` (each optional): client software from `initialize`, peer address |
//! | `method` | string | | JSON-RPC method, e.g. `tools/call` |
//! | `backend` | string | | backend name from the config |
//! | `tool` | string | | tool (or prompt / resource) name as exposed to the client |
//! | `original` | string | | the name on the backend |
//! | `decision` | string | yes | `allow`, `deny`, `error` or `info` |
//! | `reason` | string | | human-readable reason |
//! | `policies` | array of strings | | ids of the policies that decided |
//! | `latency_ms` | number | | time the gateway spent on the request, milliseconds |
//! | `args_sha256` | string | | lowercase hex SHA-256 of the arguments after redaction, canonicalised by RFC 8785 (JCS) |
//! | `args` | any JSON | | the arguments, only with `include_args = true`, redacted |
//! | `extra` | any JSON | | kind-specific details |
//! | `prev` | string | yes | the chain link, see below |
//!
//! Consumers must ignore keys they do not know: later versions may add keys (never remove or
//! retype one).
//!
//! ## The chain rule
//!
//! * `hash(line)` = SHA-256 over the exact bytes of a line as stored, **without** its
//!   terminating `\n`.
//! * The first record of a trail has `seq` = 1 and `prev` = 64 × `0`.
//! * Every other record has `seq` = previous `seq` + 1 and `prev` = lowercase hex of
//!   `hash(previous line)`, also when the previous line is the last line of a rotated file.
//! * No record stores its own hash. The newest line is covered by nothing inside the trail, so the
//!   final check is external: `verify` returns, and `portcullis audit verify` prints, the `head`
//!   (`seq` and `hash` of the last line), and the gateway logs its head ([`Audit::head`]) at every
//!   rotation and at shutdown. Removing lines from the END of a trail is detected only by comparing
//!   the head with such an earlier copy (or with what a SIEM already ingested). The hash is not
//!   keyed: the chain proves that nothing changed *relative to a head you trust*, not against
//!   someone able to rewrite the whole file and every copy of its head.
//!
//! ## Files
//!
//! The live file is `<path>`. When writing a record would take it over `max_file_bytes`, it is
//! fsynced and renamed to `<path>.<n>` (n = 1, 2, 3…: **higher is newer**), and writing goes on in a
//! new `<path>` whose first `prev` links to the last line of `<path>.<n>`. A record never spans
//! files. Verify a whole trail oldest first: `<path>.1`, `<path>.2`, …, `<path>`.
//!
//! ## Records of kind `audit`
//!
//! The trail records its own incidents, with `decision` = `info` and `extra.event`:
//! * `torn_tail_removed`: on start, the live file ended in an incomplete line (the gateway died
//!   mid-write). Those bytes never formed a record and were never acknowledged; they are cut off so
//!   that the chain continues from the last complete line, and this record keeps their length,
//!   their SHA-256 and (up to 1 KiB of) their text. Before that restart, `verify` reports the
//!   incomplete line.
//! * `records_lost`: records that could not be written (`extra.count`, e.g. with
//!   `on_failure = "continue"` while the disk was full).
//! * `records_dropped`: best-effort records ([`Audit::record_nowait`]) dropped because the queue
//!   was full (`extra.count`).
//! * `file_reopened`: the live file was deleted or replaced behind the gateway's back; a new file
//!   was opened at the path and the chain continues in it.
//!
//! ## Durability
//!
//! [`Audit::record`] returns `Ok` once the record has been written to the OS (`write(2)`
//! returned), so it survives a crash of the gateway; with `fsync = "every_record"` also after
//! `fdatasync(2)`, so it survives a power loss. Records that arrive together are written (and
//! synced) together, so `every_record` costs one sync per batch, not per record.
//!
//! ## Who writes
//!
//! One `Writer` holds the chain state behind a mutex, so records are written in exactly the
//! order `seq` gives them whoever writes them. When the trail is a file without per-record sync
//! (`fsync = "never"` or an interval) [`Audit::record`] writes its line in the caller's task: a
//! `write(2)` to the page cache costs a few microseconds, while handing the record to another
//! thread and waiting for its answer cost two thread wake-ups per call. Such a record is
//! serialised (and the file's path looked at) before the lock is taken; under it only `seq` and
//! `prev` are filled in, the line hashed and written. With `fsync = "every_record"` or a stdout
//! copy (either can block for long) records go to the writer thread instead and the caller
//! waits for its answer. The writer thread also takes the best-effort records
//! ([`Audit::record_nowait`]), runs the interval sync (on a duplicate of the file handle,
//! outside the mutex) and the shutdown.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

/// `prev` of the first record of a trail.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Records waiting for the writer; `record()` waits (back-pressure) when it is full.
const QUEUE_CAPACITY: usize = 8192;
/// Records written with one `write(2)` (and one sync with `every_record`).
const MAX_BATCH: usize = 1024;
/// Bytes of a torn tail kept (as text) in the `torn_tail_removed` record.
const TORN_TEXT_LIMIT: usize = 1024;

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit file `{path}`: {source}")]
    Open { path: String, source: io::Error },
    #[error(
        "cannot continue audit trail `{path}`: {message}; run `portcullis audit verify {path}`, \
         then move the file aside to start a new trail"
    )]
    Recover { path: String, message: String },
    #[error("cannot write audit record to {sink}: {message}")]
    Write { sink: String, message: String },
    #[error("cannot encode audit record: {0}")]
    Encode(String),
    #[error("the audit writer has stopped")]
    Closed,
    #[error("cannot start the audit writer: {0}")]
    Start(io::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("no audit files given")]
    NoFiles,
    #[error("cannot read audit file `{path}`: {source}")]
    Read { path: String, source: io::Error },
    #[error("{0}")]
    Broken(Box<ChainBreak>),
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

// ---------------------------------------------------------------------------------------------
// Records

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    AuthFailure,
    SessionStart,
    SessionEnd,
    List,
    Call,
    RateLimited,
    Quarantined,
    DriftAlert,
    PinApproval,
    PolicyReload,
    ConfigReload,
    BackendUp,
    BackendDown,
    Workflow,
    WorkflowStep,
    /// The trail's own events (see the module docs).
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    Error,
    Info,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// One line of the trail. Build with [`AuditRecord::new`] and set the fields that apply; `seq`
/// and `prev` are assigned by the writer, `args_sha256` and `args` by [`Audit`] from `args`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub time: String,
    pub seq: u64,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_sha256: Option<String>,
    /// Raw arguments as given by the caller; [`Audit`] redacts them, hashes them into
    /// `args_sha256`, and keeps them only with `include_args = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
    #[serde(default)]
    pub prev: String,
}

impl AuditRecord {
    /// A record stamped with the current time.
    pub fn new(kind: Kind, decision: Decision) -> Self {
        Self {
            time: now_rfc3339(),
            seq: 0,
            kind,
            request_id: None,
            session_id: None,
            principal: None,
            client: None,
            method: None,
            backend: None,
            tool: None,
            original: None,
            decision,
            reason: None,
            policies: Vec::new(),
            latency_ms: None,
            args_sha256: None,
            args: None,
            extra: None,
            prev: String::new(),
        }
    }

    fn notice(event: &str, reason: String, mut extra: Value) -> Self {
        if let Some(m) = extra.as_object_mut() {
            m.insert("event".into(), Value::String(event.to_owned()));
        }
        let mut r = Self::new(Kind::Audit, Decision::Info);
        r.reason = Some(reason);
        r.extra = Some(extra);
        r
    }
}

/// Current UTC time as RFC 3339 with milliseconds, e.g. `2026-05-01T12:34:56.789Z`.
pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Replaces the value of every object key equal (ASCII case-insensitively) to one of `keys`, at
/// any depth, with `"[redacted]"`. Iterative, so hostile nesting cannot overflow the stack.
pub fn redact(value: &mut Value, keys: &[String]) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if keys.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                        *child = Value::String("[redacted]".into());
                    } else {
                        stack.push(child);
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// Lowercase hex SHA-256 of the RFC 8785 (JCS) form of `value`.
pub fn canonical_sha256(value: &Value) -> Result<String, AuditError> {
    serde_json_canonicalizer::to_vec(value)
        .map(|b| sha256_hex(&b))
        .map_err(|e| AuditError::Encode(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Configuration (`[audit]`)

/// When the live file is synced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fsync {
    /// `fsync = "never"`: the OS decides (records survive a gateway crash, not a power loss).
    Never,
    /// `fsync = "every_record"`: `record()` returns only after the data is synced.
    EveryRecord,
    /// `fsync = { interval_ms = 1000 }`: synced at most this long after a write.
    IntervalMs(u64),
}

impl Default for Fsync {
    fn default() -> Self {
        Fsync::IntervalMs(1000)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// `record()` returns the error: the gateway refuses the call it could not audit.
    #[default]
    FailClosed,
    /// Log an alert and go on serving without an audit record.
    Continue,
}

/// The `[audit]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The live trail file (relative to the config file's directory).
    pub file: Option<PathBuf>,
    /// Also (or only) write records to standard output.
    pub stdout: bool,
    pub fsync: Fsync,
    /// Rotate the live file before it would exceed this size.
    pub max_file_bytes: u64,
    /// Keep the (redacted) arguments of calls in records; `args_sha256` is always written.
    pub include_args: bool,
    /// Object keys whose values are replaced by `"[redacted]"` at any depth, ASCII
    /// case-insensitive. Setting this replaces the default list.
    pub redact_keys: Vec<String>,
    pub on_failure: OnFailure,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            file: None,
            stdout: false,
            fsync: Fsync::default(),
            max_file_bytes: 100 * 1024 * 1024,
            include_args: false,
            redact_keys: [
                "password",
                "passwd",
                "secret",
                "client_secret",
                "token",
                "access_token",
                "refresh_token",
                "id_token",
                "api_key",
                "apikey",
                "authorization",
                "cookie",
                "private_key",
            ]
            .map(String::from)
            .to_vec(),
            on_failure: OnFailure::FailClosed,
        }
    }
}

impl AuditConfig {
    /// Checks what serde cannot; on a problem returns the key (under `audit.`) and the message.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.file.is_none() && !self.stdout {
            return Err((
                "file",
                "`[audit]` has no sink: set `file = \"audit.jsonl\"` and/or `stdout = true`".into(),
            ));
        }
        if self.max_file_bytes < 4096 {
            return Err((
                "max_file_bytes",
                format!(
                    "`{}` is too small; use at least 4096 (default 104857600)",
                    self.max_file_bytes
                ),
            ));
        }
        if self.fsync == Fsync::IntervalMs(0) {
            return Err((
                "fsync",
                "`interval_ms` must be at least 1; for a sync per record use `fsync = \"every_record\"`"
                    .into(),
            ));
        }
        if self.redact_keys.iter().any(String::is_empty) {
            return Err(("redact_keys", "keys must not be empty".into()));
        }
        Ok(())
    }

    /// Weaker-than-default choices, one line each, for `portcullis check`.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.on_failure == OnFailure::Continue {
            w.push(
                "audit.on_failure = \"continue\": calls proceed when their audit record cannot be written"
                    .into(),
            );
        }
        if self.include_args {
            w.push(
                "audit.include_args = true: tool arguments (redacted by `redact_keys`) are stored in the audit trail"
                    .into(),
            );
        }
        w
    }
}

// ---------------------------------------------------------------------------------------------
// The handle

/// `seq` and hash of the newest line of a trail: the value to keep elsewhere (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    /// Lowercase hex SHA-256 of the line; [`GENESIS`] for an empty trail.
    pub hash: String,
}

type Ack = oneshot::Sender<Result<(), AuditError>>;

enum Msg {
    Record(Box<AuditRecord>, Option<Ack>),
    Shutdown(oneshot::Sender<Head>),
}

struct Shared {
    healthy: AtomicBool,
    /// `record_nowait` records dropped because the queue was full, not yet reported in the trail.
    dropped: AtomicU64,
    head: Mutex<Head>,
    /// Wakes the writer thread when a record written in a caller's task made the file dirty
    /// (the interval sync must be scheduled).
    dirtied: tokio::sync::Notify,
    include_args: bool,
    redact_keys: Vec<String>,
    on_failure: OnFailure,
}

impl Shared {
    fn set_head(&self, head: Head) {
        *self.head.lock().unwrap_or_else(|e| e.into_inner()) = head;
    }
}

/// The audit trail writer. Cheap to clone; all clones share one `Writer`, so records are
/// written in exactly the order `seq` gives them (see "Who writes" in the module docs).
#[derive(Clone)]
pub struct Audit {
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
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
    pub fn start(config: &AuditConfig, base_dir: &Path) -> Result<Audit, AuditError> {
        let path = config.file.as_ref().map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                base_dir.join(p)
            }
        });
        let mut startup_notices = Vec::new();
        let (sink, head, next_rotation) = match &path {
            Some(p) => {
                let (sink, head, notice) = FileSink::open_and_recover(p)?;
                startup_notices.extend(notice);
                let next = rotated_files(p)
                    .map_err(|source| AuditError::Open {
                        path: p.display().to_string(),
                        source,
                    })?
                    .last()
                    .map_or(1, |(n, _)| n.saturating_add(1));
                (Some(sink), head, next)
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
            dirtied: tokio::sync::Notify::new(),
            include_args: config.include_args,
            redact_keys: config.redact_keys.clone(),
            on_failure: config.on_failure,
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
        Ok(rec)
    }
}

// ---------------------------------------------------------------------------------------------
// The writer (runs on its own thread)

struct FileSink {
    path: PathBuf,
    file: Option<File>,
    /// Bytes in the live file, tracked by us (only meaningful for regular files).
    len: u64,
    /// Only regular files are rotated and repaired (not `/dev/stdout`, FIFOs, …).
    regular: bool,
    id: Option<FileId>,
    /// The file we were writing was deleted or replaced and not yet reported.
    replaced: bool,
}

type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<FileId> {
    None
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

impl FileSink {
    fn open(path: &Path) -> io::Result<FileSink> {
        let file = open_append(path)?;
        let meta = file.metadata()?;
        Ok(FileSink {
            path: path.to_path_buf(),
            len: meta.len(),
            regular: meta.is_file(),
            id: file_id(&meta),
            file: Some(file),
            replaced: false,
        })
    }

    /// Opens `path` and finds where the chain goes on. A torn last line is cut off, and returned
    /// as a `torn_tail_removed` notice to write first.
    fn open_and_recover(path: &Path) -> Result<(FileSink, Head, Option<AuditRecord>), AuditError> {
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
        let mut notice = None;
        let mut head = None;
        if sink.regular && sink.len > 0 {
            let tail = match sink.file.as_mut() {
                Some(f) => read_tail(f, sink.len).map_err(open_err)?,
                None => return Err(recover_err("the file is not open".into())),
            };
            if let Some(line) = &tail.last {
                head = Some(head_of(line).map_err(|e| recover_err(format!("its last line {e}")))?);
            }
            if !tail.torn.is_empty() {
                let f = sink
                    .file
                    .as_ref()
                    .ok_or_else(|| recover_err("the file is not open".into()))?;
                f.set_len(tail.complete_len)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| recover_err(format!("cannot remove its torn last line: {e}")))?;
                sink.len = tail.complete_len;
                let text =
                    String::from_utf8_lossy(tail.torn.get(..TORN_TEXT_LIMIT).unwrap_or(&tail.torn))
                        .into_owned();
                tracing::warn!(
                    "audit: `{shown}` ended in an incomplete line ({} bytes) from an interrupted \
                     write; removed it and recorded that in the trail",
                    tail.torn.len()
                );
                notice = Some(AuditRecord::notice(
                    "torn_tail_removed",
                    format!(
                        "the last line of `{shown}` was incomplete (the gateway stopped mid-write); \
                         its {} bytes were removed on restart",
                        tail.torn.len()
                    ),
                    json!({
                        "file": shown,
                        "offset": tail.complete_len,
                        "bytes": tail.torn.len(),
                        "sha256": sha256_hex(&tail.torn),
                        "text": text,
                    }),
                ));
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
                            recover_err(format!("the last line of rotated file `{rshown}` {e}"))
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
        Ok((sink, head, notice))
    }

    /// Makes sure `path` still names the file we write to; `Ok(true)` when it had to be reopened
    /// after the file we wrote was deleted or replaced. If it was deleted or replaced (a
    /// removed directory, an operator's `mv`), writing on would put records in a file nobody
    /// can see, so we open `path` anew (which fails if its directory is gone).
    fn ensure_open(&mut self) -> io::Result<bool> {
        let stale = match (&self.file, self.id) {
            (None, _) => true,
            (Some(_), Some(id)) => std::fs::metadata(&self.path)
                .map(|m| file_id(&m) != Some(id))
                .unwrap_or(true),
            (Some(_), None) => false,
        };
        if !stale {
            return Ok(false);
        }
        if self.file.take().is_some() {
            self.replaced = true;
        }
        let fresh = FileSink::open(&self.path)?;
        let replaced = self.replaced;
        *self = fresh;
        Ok(replaced)
    }
}

fn head_of(line: &[u8]) -> Result<Head, String> {
    let parsed: ChainLine =
        serde_json::from_slice(line).map_err(|e| format!("does not parse as a record: {e}"))?;
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

/// Records of one batch, encoded against a running chain state.
/// A record serialised before its place in the chain is known: `seq` and `prev` are filled in
/// under the writer's lock, giving exactly the bytes serialising the finished record gives.
struct Encoded {
    /// The record with `seq` = 0 and `prev` = "".
    bytes: Vec<u8>,
    /// Where the `0` of `seq` is.
    seq_at: usize,
    /// Where the closing quote of the empty `prev` is.
    prev_at: usize,
}

impl Encoded {
    /// `None` if the record does not serialise, or not in the expected layout (the caller then
    /// encodes under the lock as usual).
    fn new(rec: &AuditRecord) -> Option<Encoded> {
        const SEQ: &[u8] = b",\"seq\":0,";
        const PREV_END: &[u8] = b",\"prev\":\"\"}";
        if rec.seq != 0 || !rec.prev.is_empty() {
            return None;
        }
        let bytes = serde_json::to_vec(rec).ok()?;
        // `time` comes first and is RFC 3339 (no quote in it), so the first `,"seq":0,` is the
        // `seq` field; `prev` is the last field.
        let seq_at = bytes
            .windows(SEQ.len())
            .position(|w| w == SEQ)?
            .checked_add(SEQ.len() - 2)?;
        if !bytes.starts_with(b"{\"time\":\"") || !bytes.ends_with(PREV_END) {
            return None;
        }
        let prev_at = bytes.len().checked_sub(2)?;
        Some(Encoded {
            bytes,
            seq_at,
            prev_at,
        })
    }

    fn line(&self, seq: u64, prev: &str) -> Vec<u8> {
        let (head, rest) = self.bytes.split_at(self.seq_at);
        let (_zero, rest) = rest.split_at(1);
        let (mid, tail) = rest.split_at(self.prev_at - self.seq_at - 1);
        let seq = seq.to_string();
        let mut out = Vec::with_capacity(self.bytes.len() + seq.len() + prev.len());
        out.extend_from_slice(head);
        out.extend_from_slice(seq.as_bytes());
        out.extend_from_slice(mid);
        out.extend_from_slice(prev.as_bytes());
        out.extend_from_slice(tail);
        out
    }
}

struct Chunk {
    bytes: Vec<u8>,
    acks: Vec<Ack>,
    records: u64,
    seq: u64,
    prev: String,
    /// The notices in this chunk and what they report, given back if the chunk fails.
    notices: u64,
    lost: u64,
    lost_since: Option<String>,
    dropped: u64,
    reopened: Option<String>,
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
        serde_json::to_vec(rec).map_err(|e| AuditError::Encode(e.to_string()))
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

struct Writer {
    file: Option<FileSink>,
    stdout: bool,
    stdout_failing: bool,
    fsync: Fsync,
    max_file_bytes: u64,
    /// `seq` and hash of the last line written (committed).
    seq: u64,
    prev: String,
    next_rotation: u64,
    /// Written but not yet synced.
    dirty: bool,
    last_sync: Instant,
    /// Records that could not be written, not yet reported in the trail.
    lost: u64,
    lost_since: Option<String>,
    /// The live file was reopened (deleted or replaced); reported in the trail.
    reopened: Option<String>,
    /// The trail was shut down: nothing more is written.
    closed: bool,
    shared: Arc<Shared>,
}

fn lock(w: &Mutex<Writer>) -> std::sync::MutexGuard<'_, Writer> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer thread: queued records, the interval sync and the shutdown.
async fn run_writer(writer: Arc<Mutex<Writer>>, mut rx: mpsc::Receiver<Msg>) {
    let mut stop = None;
    let shared = lock(&writer).shared.clone();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while stop.is_none() {
        let wait = lock(&writer).sync_deadline();
        let n = tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => n,
            // A record written in a caller's task made a clean file dirty: an interval sync is
            // now due at some point.
            () = shared.dirtied.notified() => continue,
            () = tokio::time::sleep(wait.unwrap_or_default()), if wait.is_some() => {
                sync_if_due(&writer);
                continue;
            }
        };
        if n == 0 {
            break; // every `Audit` handle is gone
        }
        stop = lock(&writer).handle(std::mem::take(&mut batch));
        sync_if_due(&writer);
    }
    let head = {
        let mut w = lock(&writer);
        w.closed = true;
        if w.dirty {
            w.sync();
        }
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
    let (file, shared) = {
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
        (file, w.shared.clone())
    };
    let result = match file {
        Some(Ok(f)) => f.sync_data(),
        Some(Err(e)) => Err(e),
        None => Ok(()),
    };
    if let Err(e) = result {
        shared.healthy.store(false, Ordering::Relaxed);
        tracing::error!("audit: cannot sync the audit file: {e}");
    }
}

impl Writer {
    /// How long until an interval sync is due, when one is pending.
    fn sync_deadline(&self) -> Option<Duration> {
        match self.fsync {
            Fsync::IntervalMs(ms) if self.dirty => {
                Some(Duration::from_millis(ms).saturating_sub(self.last_sync.elapsed()))
            }
            _ => None,
        }
    }

    fn sync(&mut self) {
        self.dirty = false;
        self.last_sync = Instant::now();
        if let Some(f) = self.file.as_ref().and_then(|s| s.file.as_ref())
            && let Err(e) = f.sync_data()
        {
            self.shared.healthy.store(false, Ordering::Relaxed);
            tracing::error!("audit: cannot sync the audit file: {e}");
        }
    }

    /// Writes one record encoded outside the lock. `seen` is what `stat` said of the live file's
    /// path just before the lock was taken: when it is still the file being written, the file
    /// is not looked at again.
    fn write_encoded(
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
    fn handle(&mut self, msgs: Vec<Msg>) -> Option<oneshot::Sender<Head>> {
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
        if let Some(f) = &sink.file
            && let Err(e) = f.sync_all()
        {
            tracing::error!(
                "audit: cannot sync `{}` before rotating: {e}",
                sink.path.display()
            );
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

fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::warn!("audit: cannot sync directory `{}`: {e}", dir.display());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

// ---------------------------------------------------------------------------------------------
// Verification

/// What `verify` checks of each line; other keys are not needed for the chain and may be added
/// by later versions.
#[derive(Deserialize)]
struct ChainLine {
    #[allow(dead_code)]
    time: String,
    seq: u64,
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

/// Checks the files as ONE trail, in the order given (oldest first; see [`trail_files`]): every
/// line parses, the first has `seq` 1 and `prev` = [`GENESIS`], each next `seq` is one more and
/// each `prev` is the SHA-256 of the line before. Stops at the first break.
pub fn verify(paths: &[PathBuf]) -> Result<VerifyReport, VerifyError> {
    if paths.is_empty() {
        return Err(VerifyError::NoFiles);
    }
    let mut head = Head {
        seq: 0,
        hash: GENESIS.into(),
    };
    let mut records = 0u64;
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
            records += 1;
        }
    }
    Ok(VerifyReport {
        files: paths.len(),
        records,
        head,
    })
}

#[cfg(test)]
mod tests;
