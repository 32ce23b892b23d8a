//! What a stdio backend runs, checked against its pins before its child starts (the start-up
//! probe and every upstream session): a program or package that is not the approved one is
//! refused in `enforce`, alerted in `warn`, and pinned on first use under `trust_on_first_use`
//! when nothing is pinned yet.

use std::path::Path;

use serde_json::json;

use super::Monitor;
use crate::audit::{AuditRecord, Decision, Kind as AuditKind};
use crate::integrity::IntegrityError;
use crate::integrity::config::Mode;
use crate::integrity::exec::{self, ExecError};
use crate::integrity::lockfile::ExecutablePin;
use crate::integrity::review::{ExecAction, exec_action, exec_drift};

/// Why a stdio backend is not started.
#[derive(Debug, thiserror::Error)]
pub enum ExecutableRefused {
    #[error("cannot pin what backend `{backend}` runs: {source}")]
    Unpinnable { backend: String, source: ExecError },
    /// It runs something the lockfile does not approve (`enforce`).
    #[error(
        "{what}; review it with `portcullis pins status` and approve it with `portcullis pins \
         approve --backend {backend}`"
    )]
    NotApproved { backend: String, what: String },
    #[error("cannot pin what backend `{backend}` runs on first use: {source}")]
    FirstUse {
        backend: String,
        source: Box<IntegrityError>,
    },
}

impl ExecutableRefused {
    /// `backend` runs `current`, which is not what the lockfile approves (`approved`).
    pub fn not_approved(
        backend: &str,
        approved: &[ExecutablePin],
        current: &[ExecutablePin],
    ) -> ExecutableRefused {
        let what = if approved.is_empty() {
            format!(
                "backend `{backend}` runs {} which is not pinned",
                describe(current)
            )
        } else {
            format!(
                "backend `{backend}` would run {} but the lockfile pins {}",
                describe(current),
                describe(approved)
            )
        };
        ExecutableRefused::NotApproved {
            backend: backend.to_owned(),
            what,
        }
    }
}

fn describe(pins: &[ExecutablePin]) -> String {
    pins.iter()
        .map(ExecutablePin::label)
        .collect::<Vec<_>>()
        .join(", ")
}

fn pin_json(pins: &[ExecutablePin]) -> Vec<serde_json::Value> {
    pins.iter()
        .map(|p| json!({"path": p.path, "sha256": p.sha256, "package": p.package, "version": p.version}))
        .collect()
}

impl Monitor {
    /// Check what a stdio backend would run against its pins before it starts. `Err` is the
    /// reason to refuse starting it (in `enforce`); in `warn` a mismatch is only alerted.
    pub fn check_executables(
        &self,
        backend: &str,
        argv: &[String],
        env: &[(String, String)],
        cwd: Option<&Path>,
    ) -> Result<(), ExecutableRefused> {
        let rules = self.rules(backend);
        if rules.mode == Mode::Off {
            return Ok(());
        }
        let current = exec::pins(argv, env, cwd, &self.hashes).map_err(|source| {
            ExecutableRefused::Unpinnable {
                backend: backend.to_owned(),
                source,
            }
        })?;
        let approved = self.approved.load_full();
        let pinned_now = approved
            .backends
            .get(backend)
            .map(|p| p.executables.clone())
            .unwrap_or_default();
        let action = exec_action(rules, exec_drift(&pinned_now, &current));
        match action {
            ExecAction::Start => return Ok(()),
            ExecAction::PinFirstUse => {
                let _w = self.write.lock();
                let mut lock = (*self.approved.load_full()).clone();
                let pins = lock.backends.entry(backend.to_owned()).or_default();
                if pins.executables.is_empty() {
                    pins.executables = current.clone();
                    pins.catalog_sha256 = pins.compute_catalog_hash();
                    self.store(lock)
                        .map_err(|source| ExecutableRefused::FirstUse {
                            backend: backend.to_owned(),
                            source: Box::new(source),
                        })?;
                    let mut rec = AuditRecord::new(AuditKind::PinApproval, Decision::Info);
                    rec.backend = Some(backend.to_owned());
                    rec.reason = Some(format!(
                        "executable of backend `{backend}` pinned on first use: {}",
                        describe(&current)
                    ));
                    (self.events.record)(rec);
                }
                return Ok(());
            }
            ExecAction::StartWithAlert | ExecAction::Refuse => {}
        }
        let enforce = action == ExecAction::Refuse;
        let refused = ExecutableRefused::not_approved(backend, &pinned_now, &current);
        let mut rec = AuditRecord::new(AuditKind::DriftAlert, Decision::Info);
        rec.backend = Some(backend.to_owned());
        rec.method = Some("integrity/executable".into());
        rec.reason = Some(format!(
            "{refused}{}",
            if enforce {
                "; refused to start"
            } else {
                "; mode warn: started anyway"
            }
        ));
        rec.extra = Some(json!({
            "kind": "executable", "change": if pinned_now.is_empty() { "new" } else { "changed" },
            "current": pin_json(&current),
            "approved": pin_json(&pinned_now),
        }));
        let key = format!(
            "{backend}\0exec\0{}",
            current
                .iter()
                .map(|p| p.sha256.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        self.alert(key, rec);
        if enforce { Err(refused) } else { Ok(()) }
    }
}
