//! What the [`Audit`](super::Audit) handle and the writer share: the message sent to the writer
//! thread ([`Msg`], with its [`Ack`]) and the state both sides read and update ([`Shared`]).
//!
//! A leaf: it imports neither `handle.rs` nor `writer.rs`, so the handle imports the writer and
//! both import this file, and no import runs back from the writer to the handle.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64};

use tokio::sync::oneshot;

use super::{AuditError, AuditRecord, Head, OnFailure};

/// Answers a caller waiting for its record to be written.
pub(super) type Ack = oneshot::Sender<Result<(), AuditError>>;

pub(super) enum Msg {
    Record(Box<AuditRecord>, Option<Ack>),
    Shutdown(oneshot::Sender<Head>),
}

pub(super) struct Shared {
    pub(super) healthy: AtomicBool,
    /// `record_nowait` records dropped because the queue was full, not yet reported in the trail.
    pub(super) dropped: AtomicU64,
    pub(super) head: Mutex<Head>,
    /// `seq` of the head in the head file, once this run wrote it; held while it is written.
    pub(super) head_in_file: Mutex<Option<u64>>,
    /// Wakes the writer thread when a record written in a caller's task made the file dirty
    /// (the interval sync must be scheduled).
    pub(super) dirtied: tokio::sync::Notify,
    pub(super) include_args: bool,
    pub(super) redact_keys: Vec<String>,
    pub(super) on_failure: OnFailure,
    pub(super) replica: Option<String>,
}

impl Shared {
    pub(super) fn set_head(&self, head: Head) {
        *self.head.lock().unwrap_or_else(|e| e.into_inner()) = head;
    }
}
