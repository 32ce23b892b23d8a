//! `[integrity]` and the per-backend integrity keys as written: modes, what new definitions
//! do, the severity that quarantines, the webhook, and operators' tool overrides. Data and
//! defaults only; `crate::integrity` pins, scans and alerts from it.
//!
//! Secure by default: with no `[integrity]` section every backend is checked in `enforce` mode
//! and new definitions wait for approval (`new_items = "approve"`), pinned in `portcullis.lock`
//! next to the config file. `trust_on_first_use` and `warn` are explicit, reviewed choices.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The lockfile's name when `[integrity] lockfile` does not give one.
pub const DEFAULT_LOCKFILE: &str = "portcullis.lock";

/// How bad a finding of the poisoning scan is; `quarantine_severity` sets the line.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// What a drifted definition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A drifted, new or poisoned definition is quarantined (hidden, calls refused) and alerted.
    #[default]
    Enforce,
    /// Alerted, still callable; its annotations are not trusted by policy.
    Warn,
    /// Not pinned, not scanned, not alerted. Annotations are never trusted.
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Off => "off",
        }
    }
}

/// What a definition the lockfile has never seen does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewItems {
    /// Quarantined until an operator approves it (`portcullis pins approve`).
    #[default]
    Approve,
    /// Pinned on first sight (written to the lockfile), unless a finding at or above
    /// `quarantine_severity` makes it wait for review; later changes are drift.
    TrustOnFirstUse,
}

/// `[integrity]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrityConfig {
    /// The lockfile, relative to the config file's directory.
    #[serde(default = "default_lockfile")]
    pub lockfile: PathBuf,
    /// Default mode of every backend (a backend may override it).
    #[serde(default)]
    pub mode: Mode,
    /// Default handling of new definitions (a backend may override it).
    #[serde(default)]
    pub new_items: NewItems,
    /// Every session re-reads its backends' catalogs this often, seconds, to catch drift a
    /// backend does not announce with `list_changed`. 0 = only at connect and on notifications.
    #[serde(default = "default_refresh")]
    pub refresh_secs: u64,
    /// How often the lockfile is checked for changes (approvals), seconds; SIGHUP checks at once.
    /// 0 = only on SIGHUP.
    #[serde(default = "default_reload")]
    pub reload_secs: u64,
    /// Findings of this severity or above quarantine a new or changed definition (in `enforce`);
    /// lower ones only warn.
    #[serde(default = "default_quarantine_severity")]
    pub quarantine_severity: Severity,
    /// Whether the offline classifier reads every definition beside the rules
    /// (`docs/poisoning-scan.md`): `"on"` (default) or `"off"`. On because it kept the 1%
    /// false-quarantine budget in cross-validation and, on the clean split, caught 12 more of
    /// 74 poisoned definitions for one more of 52 benign ones held for review.
    #[serde(default)]
    pub classifier: Classifier,
    /// Optional: every alert is also POSTed here as JSON (retried, never on the request path).
    pub webhook: Option<WebhookConfig>,
}

/// `[integrity] classifier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classifier {
    /// Its findings (`prompt.classifier`) join the rules'.
    #[default]
    On,
    /// The rules alone.
    Off,
}

impl Default for IntegrityConfig {
    fn default() -> Self {
        Self {
            lockfile: default_lockfile(),
            mode: Mode::default(),
            new_items: NewItems::default(),
            refresh_secs: default_refresh(),
            reload_secs: default_reload(),
            quarantine_severity: default_quarantine_severity(),
            classifier: Classifier::default(),
            webhook: None,
        }
    }
}

fn default_lockfile() -> PathBuf {
    PathBuf::from(DEFAULT_LOCKFILE)
}
fn default_refresh() -> u64 {
    300
}
fn default_reload() -> u64 {
    2
}
fn default_quarantine_severity() -> Severity {
    Severity::High
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Attempts after the first, with exponential backoff from 500 ms.
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_webhook_timeout")]
    pub timeout_secs: u64,
}

fn default_retries() -> u32 {
    3
}
fn default_webhook_timeout() -> u64 {
    5
}

/// A backend's own `integrity = { … }` keys; unset ones take `[integrity]`'s.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BackendIntegrity {
    pub mode: Option<Mode>,
    pub new_items: Option<NewItems>,
}

/// An operator's override of what clients see of one tool. The backend's own definition is still
/// pinned and drift-checked underneath; the override is part of the reviewed configuration, so
/// policy trusts its annotations as it trusts a pinned definition's.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolOverride {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Merged into the tool's `annotations`, e.g. `{ destructiveHint = true }`.
    pub annotations: Option<BTreeMap<String, toml::Value>>,
}
