//! The checks of the `[audit]` section (`crate::config::audit`, re-exported here): what serde
//! cannot say about sinks, sync policy and rotation, and the warnings `portcullis check` prints.

pub use crate::config::audit::{AuditConfig, Fsync, OnFailure};

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
        if self.dangerous_continue_after_gap {
            w.push(
                "audit.dangerous_continue_after_gap = true: the gateway starts on a trail whose last records were cut (recording an `audit_gap`) instead of refusing"
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
