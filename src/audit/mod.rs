//! The audit trail: one JSON line per gateway decision, hash-chained so that an edit, deletion,
//! insertion or reordering is evident. This module owns the record format, the single writer
//! (ordering, durability, fail-closed), file rotation, restart recovery and `verify`.
//!
//! # Format (for SIEM ingestion)
//!
//! A trail is a sequence of UTF-8 lines, each one JSON object terminated by `\n` (JSON lines).
//! Inside a record no character is raw that any reader could take for a line end or that
//! changes how a line is shown: every control character (U+0000–U+001F, U+007F–U+009F, so
//! `\r` and NEL U+0085 too), U+2028, U+2029 and the bidirectional controls (U+061C, U+200E,
//! U+200F, U+202A–U+202E, U+2066–U+2069) are written as `\uXXXX` escapes, which JSON parsers
//! read back as the same text. Keys appear in this order; optional keys are omitted (never
//! `null`) when they have no value.
//!
//! | key | type | always | meaning |
//! |---|---|---|---|
//! | `time` | string | yes | when the event happened, RFC 3339 UTC with milliseconds: `2026-05-01T12:34:56.789Z` |
//! | `seq` | integer | yes | 1, 2, 3… with no gap, across rotated files and gateway restarts |
//! | `replica` | string | | with `[cluster]`: the replica that wrote the record (each replica keeps its own chain) |
//! | `kind` | string | yes | `auth_failure`, `session_start`, `session_end`, `list`, `call`, `rate_limited`, `quarantined`, `drift_alert`, `pin_approval`, `policy_reload`, `config_reload`, `backend_up`, `backend_down`, `workflow`, `workflow_step`, `cluster` (Redis of a cluster lost or back), or `audit` (the trail's own events, see below) |
//! | `request_id` | string | | JSON-RPC id of the client's request (numbers in decimal) |
//! | `session_id` | string | | the gateway's client session id (`Mcp-Session-Id`) |
//! | `principal` | string | | the caller as `iss|sub` |
//! | `client` | object | | `{"name", "version", "address", "protocol"}` (each optional): client software (from `initialize`, or a 2026-07-28 request's `_meta`), peer address, and the MCP revision the request spoke (`2025-11-25`, `2026-07-28`, …) |
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
//!   (`seq` and `hash` of the last line, written `SEQ:HASH`), and the gateway logs its head
//!   ([`Audit::head`]) at every rotation and at shutdown. Removing lines from the END of a trail
//!   is detected only by comparing with such an earlier head (or with what a SIEM already
//!   ingested).
//! * The gateway keeps one such head itself, in `<path>.head` (see `head.rs`): replaced
//!   atomically at every rotation, at shutdown and at most [`HEAD_INTERVAL`] after a record is
//!   written, each time after the data it names is synced. At start a trail that does not reach
//!   it — its record at the saved `seq` missing or different — is refused
//!   ([`AuditError::Cut`], [`AuditError::Replaced`]) unless `dangerous_continue_after_gap`, and
//!   `portcullis audit verify` checks a single live file against it (or against
//!   `--expect-head SEQ:HASH|FILE`). Not caught: a cut of records written in the last
//!   [`HEAD_INTERVAL`] before the gateway stopped without a shutdown (crash, SIGKILL, power
//!   loss), since the head file never named them.
//! * The hash is not keyed: the chain proves that nothing changed *relative to a head you
//!   trust*, not against someone able to rewrite the whole file and every copy of its head
//!   (the head file beside the trail included).
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
//! * `head_missing`: on start, the trail has records but no head file beside it (a trail from
//!   before head files, or the file was deleted): a cut of its end before this start could not
//!   be checked.
//! * `audit_gap`: on start with `dangerous_continue_after_gap`, the trail did not reach its saved
//!   head. After a cut (`extra.missing_from` … `extra.missing_to`) this record takes `seq` =
//!   saved head + 1 and `prev` = the saved head's hash, so no `seq` is used twice and the trail
//!   chains on from what a SIEM may already hold; `verify` of the local files reports the gap
//!   at this line. `extra` also has `trail_head`, `saved_head` and `head_file`.
//!
//! ## Durability
//!
//! [`Audit::record`] returns `Ok` once the record has been written to the OS (`write(2)`
//! returned), so it survives a crash of the gateway; with `fsync = "every_record"` also after
//! `fdatasync(2)`, so it survives a power loss. Records that arrive together are written (and
//! synced) together, so `every_record` costs one sync per batch, not per record. Whatever the
//! setting, the data is synced before the head file names it, so while records are written
//! there is at least one `fdatasync(2)` per [`HEAD_INTERVAL`] on the writer thread, also with
//! `fsync = "never"`.
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
//! ([`Audit::record_nowait`]), runs the interval sync and the head file updates (on a duplicate
//! of the file handle, outside the mutex) and the shutdown.
//!
//! ## Where it lives
//!
//! `record.rs`: the record model and its encoding; `config.rs`: `[audit]`; `handle.rs`: the
//! [`Audit`] handle callers hold; `writer.rs`: the single writer (batches, notices, rotation,
//! sync); `channel.rs`: the messages and state the handle and the writer share; `sink.rs`: the live file (opened, replaced behind our back); `continuity.rs`: where
//! the chain goes on at start (torn tail, rotated files, the saved head); `head.rs`: the head
//! file; `verify.rs`: `verify`.

mod channel;
mod config;
mod continuity;
mod handle;
mod head;
mod record;
mod sink;
mod verify;
mod writer;

use std::io;

pub use config::{AuditConfig, Fsync, OnFailure};
pub use continuity::{rotated_files, trail_files};
pub use handle::Audit;
pub use head::{
    HEAD_INTERVAL, Head, HeadError, expected_head, head_file, head_to_expect, read_head_file,
};
pub use record::{
    AuditRecord, ClientInfo, Decision, Kind, canonical_sha256, now_rfc3339, redact, sha256_hex,
};
pub use verify::{ChainBreak, Problem, VerifyError, VerifyReport, verify, verify_against};

/// `prev` of the first record of a trail.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    #[error(
        "{0}; {fix}",
        fix = "delete the file to accept the trail as it is (the start is then recorded as `head_missing`)"
    )]
    HeadFile(HeadError),
    #[error(
        "audit trail `{trail}` ends at seq {} but `{head_file}` says seq {} was written: {} \
         record(s) were cut from the end of the trail; {}",
        .found.seq,
        .saved.seq,
        .saved.seq.saturating_sub(.found.seq),
        gap_fix(.trail, .head_file)
    )]
    Cut {
        trail: String,
        head_file: String,
        found: Head,
        saved: Head,
    },
    #[error(
        "audit trail `{trail}` has no record at seq {} with the hash `{head_file}` names ({}): \
         its end was replaced or removed; {}",
        .saved.seq,
        .saved.hash,
        gap_fix(.trail, .head_file)
    )]
    Replaced {
        trail: String,
        head_file: String,
        found: Head,
        saved: Head,
    },
}

/// How to get past a trail that does not reach its saved head.
fn gap_fix(trail: &str, head_file: &str) -> String {
    format!(
        "restore the missing records from a copy (`portcullis audit verify {trail} \
         --expect-head {head_file}` then passes); or, to start a new trail, move `{trail}`, its \
         rotated files and `{head_file}` aside; or, to go on with this trail after an \
         `audit_gap` record, set `[audit] dangerous_continue_after_gap = true`"
    )
}

#[cfg(test)]
mod tests;
