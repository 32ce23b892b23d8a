//! `[audit]` as written: sinks, sync policy, rotation size, what is kept of arguments, and what
//! happens when a record cannot be written. Data and defaults only; `crate::audit` checks it
//! (`AuditConfig::check`, `warnings`) in the check pass and writes the trail from it.

use std::path::PathBuf;

use serde::Deserialize;

/// When the live file is synced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fsync {
    /// `fsync = "never"`: the OS decides (records survive a gateway crash, not a power loss),
    /// except that the head file's update syncs the data it names (at most once a second).
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
    /// The replica id stamped on every record (from `[cluster]`, not from `[audit]`).
    #[serde(skip)]
    pub replica: Option<String>,
    /// Start even when the trail does not reach the head saved beside it (records were cut from
    /// its end, or its end replaced): an `audit_gap` record says so and numbering goes on after
    /// the saved head. Off: such a start is refused.
    pub dangerous_continue_after_gap: bool,
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
            replica: None,
            dangerous_continue_after_gap: false,
        }
    }
}
