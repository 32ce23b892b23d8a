//! The running side of integrity: every catalog a backend lists (to the start-up probe and to
//! every upstream session, at connect, after `list_changed` and on the periodic refresh) is
//! reviewed against the approved lockfile here, and every stdio backend's executable is checked
//! before its child starts.
//!
//! The review itself is [`super::review::review_list`], the same pure function `portcullis pins`
//! calls; this module adds what a running gateway does with it: one alert per distinct drift
//! (audit record, log line, metric, optional webhook) however many sessions see it, first-use
//! pins written to the lockfile, the findings cache, and what each backend last listed (for
//! `pins`). Alerts leave through [`Events`], so this module knows nothing of the guard.
//!
//! The lockfile is the only store of approvals: `portcullis pins approve` writes it, the
//! watcher (or SIGHUP) reloads it, and the generation counter tells sessions to re-review.

mod executables;
mod webhook;

pub use executables::ExecutableRefused;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::config::IntegrityConfig;
use super::exec::HashCache;
use super::findings::{Finding, Scanner, Severity};
use super::lockfile::{self, Change, Lockfile, Pin};
use super::review::{Against, ItemReview, Quarantine, Rules, State, Verdict, review_list};
use super::seen::{SeenCatalog, load_seen, seen_path};
use super::{IntegrityError, Kind, client_view, item_name};
use crate::audit::{AuditRecord, Decision, Kind as AuditKind};

/// Where the monitor's alerts and pin records go. The gateway writes each record to its audit
/// trail and counts each drift alert in its metrics.
pub struct Events {
    record: Arc<dyn Fn(AuditRecord) + Send + Sync>,
    drift_alert: Arc<dyn Fn(&str) + Send + Sync>,
    claim: Option<Claim>,
}

/// Whether this process is the first, among all that share the answer, to raise the alert of
/// a key (replicas of a cluster: one alert per drift however many replicas see it).
pub type Claim = Arc<
    dyn Fn(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
        + Send
        + Sync,
>;

impl Events {
    /// `record` receives every alert and pin record; `drift_alert` the backend of each alert.
    pub fn new(
        record: impl Fn(AuditRecord) + Send + Sync + 'static,
        drift_alert: impl Fn(&str) + Send + Sync + 'static,
    ) -> Events {
        Events {
            record: Arc::new(record),
            drift_alert: Arc::new(drift_alert),
            claim: None,
        }
    }

    /// Raise an alert only when `claim` says this process is the first to (see [`Claim`]); the
    /// alert then leaves from a task, after the answer.
    pub fn with_claim(mut self, claim: Claim) -> Events {
        self.claim = Some(claim);
        self
    }

    /// Events nobody keeps (the log lines still go out).
    pub fn discard() -> Events {
        Events::new(|_| {}, |_| {})
    }
}

/// A definition to pin on first use: name, pin, alert key, its `pin_approval` record.
type FirstUse = (String, Pin, String, AuditRecord);

/// (backend, names version, kind, SHA-256 of the whole definition) of a scanned definition:
/// findings read every field and, for shadowing, the backend's own name and the others' tool
/// names, so they are cached by all of them, not by the pinned view.
type ScanKey = (String, u64, Kind, [u8; 32]);

/// How much of a backend's offer a list shows: what decides whether an approved item missing
/// from it is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Everything the backend offers: the start-up probe's list, or one made for a client that
    /// declared every capability the probe declares, with the gateway's own credentials. An
    /// approved item missing from it is gone, and that is drift.
    Whole,
    /// What the backend offers one client: one that declared fewer capabilities (a server may
    /// list a tool only to clients that can answer what it asks, e.g. roots or sampling), or one
    /// caller of a backend whose credentials are per caller. An approved item missing from it
    /// may be offered to others, so its absence is not drift; what the list does hold is
    /// reviewed as any other.
    Partial,
}

/// One backend's list after review.
#[derive(Debug, Default)]
pub struct Reviewed {
    /// What clients may be offered: hidden tools removed, overrides applied. Quarantined items
    /// stay in (the caller hides them), so names resolve the same whatever is quarantined.
    pub items: Vec<Value>,
    /// Backend's own name → verdict.
    pub verdicts: HashMap<String, Verdict>,
}

pub struct Monitor {
    path: PathBuf,
    approved: ArcSwap<Lockfile>,
    /// SHA-256 of the lockfile text last read or written here: the watcher ignores our own
    /// writes and files that did not change.
    last_text: Mutex<Option<[u8; 32]>>,
    generation: AtomicU64,
    rules: HashMap<String, Rules>,
    default_rules: Rules,
    quarantine_severity: Severity,
    /// `integrity.classifier`.
    classifier: bool,
    /// Every backend's tool names as last listed, for the cross-server shadowing rule.
    names: RwLock<BTreeMap<String, Vec<String>>>,
    names_version: AtomicU64,
    /// Findings by [`ScanKey`].
    scans: Mutex<HashMap<ScanKey, Arc<Vec<Finding>>>>,
    /// Alerts already raised (one per distinct drift).
    alerted: Mutex<HashSet<String>>,
    /// Serializes lockfile read-modify-write (first-use pins).
    write: Mutex<()>,
    hashes: HashCache,
    /// What each backend last listed (see [`SeenCatalog`]).
    seen: Mutex<BTreeMap<String, SeenCatalog>>,
    events: Events,
    /// Alerts for the webhook. Made at open, so alerts of the start-up review (before
    /// [`Monitor::start`] runs the sender) wait in the queue instead of being lost.
    webhook: Option<mpsc::Sender<Value>>,
    webhook_queue: Mutex<Option<mpsc::Receiver<Value>>>,
    webhook_cfg: Option<super::config::WebhookConfig>,
    /// The SSRF guard the webhook client connects through.
    egress: Arc<crate::egress::Egress>,
    refresh: Duration,
    reload: Duration,
}

fn digest(text: &[u8]) -> [u8; 32] {
    Sha256::digest(text).into()
}

impl Monitor {
    /// Reads (and verifies) the lockfile; a missing file is an empty one, created by the first
    /// approval or first-use pin. An invalid lockfile stops the start. `i` is `[integrity]`,
    /// its lockfile resolved against `base_dir` (the config's directory); `backends` are the
    /// configured backends (their own integrity settings, tool filters and overrides); the
    /// webhook is reached through `egress`.
    pub fn open<'a>(
        i: &IntegrityConfig,
        backends: impl IntoIterator<Item = &'a crate::config::Backend>,
        base_dir: &Path,
        egress: Arc<crate::egress::Egress>,
        events: Events,
    ) -> Result<Monitor, IntegrityError> {
        let path = base_dir.join(&i.lockfile);
        let (lock, text_digest) = match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                (
                    Lockfile::from_text(&text, &path.display().to_string())?,
                    Some(digest(&bytes)),
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Lockfile::default(), None),
            Err(source) => {
                return Err(IntegrityError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let rules = backends
            .into_iter()
            .map(|b| (b.name.clone(), Rules::of(i, b)))
            .collect();
        let seen = load_seen(&seen_path(&path));
        if let Some(w) = &i.webhook {
            egress
                .check_url(&w.url)
                .map_err(|e| IntegrityError::Webhook {
                    message: e.to_string(),
                })?;
        }
        let (webhook_tx, webhook_rx) = match &i.webhook {
            Some(_) => {
                let (tx, rx) = mpsc::channel(1024);
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        Ok(Monitor {
            path,
            approved: ArcSwap::from_pointee(lock),
            last_text: Mutex::new(text_digest),
            generation: AtomicU64::new(1),
            rules,
            default_rules: Rules::defaults(i),
            quarantine_severity: i.quarantine_severity,
            classifier: i.classifier == super::config::Classifier::On,
            names: RwLock::new(BTreeMap::new()),
            names_version: AtomicU64::new(0),
            scans: Mutex::new(HashMap::new()),
            alerted: Mutex::new(HashSet::new()),
            write: Mutex::new(()),
            hashes: HashCache::default(),
            seen: Mutex::new(seen),
            events,
            webhook: webhook_tx,
            webhook_queue: Mutex::new(webhook_rx),
            webhook_cfg: i.webhook.clone(),
            egress,
            refresh: Duration::from_secs(i.refresh_secs),
            reload: Duration::from_secs(i.reload_secs),
        })
    }

    pub fn lockfile_path(&self) -> &Path {
        &self.path
    }

    /// Bumped whenever approvals change; a session whose catalog was reviewed under an older
    /// generation reviews again.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// How often sessions re-read their catalogs (zero: never on a timer).
    pub fn refresh_every(&self) -> Duration {
        self.refresh
    }

    pub fn approved(&self) -> Arc<Lockfile> {
        self.approved.load_full()
    }

    fn rules(&self, backend: &str) -> &Rules {
        self.rules.get(backend).unwrap_or(&self.default_rules)
    }

    pub fn mode(&self, backend: &str) -> super::config::Mode {
        self.rules(backend).mode
    }

    /// Remember what tools `backend` lists now (the shadowing rule compares every definition
    /// against the other backends' names).
    pub fn note_names(&self, backend: &str, tools: &[Value]) {
        self.note(backend, tools.iter(), Listing::Whole);
    }

    fn note<'a>(&self, backend: &str, tools: impl Iterator<Item = &'a Value>, listing: Listing) {
        let mut names: Vec<String> = tools
            .filter_map(|t| item_name(Kind::Tool, t).map(str::to_owned))
            .collect();
        let Ok(mut map) = self.names.write() else {
            return;
        };
        if listing == Listing::Partial {
            // A partial list adds names; only a whole one says which are gone.
            names.extend(map.get(backend).into_iter().flatten().cloned());
        }
        names.sort();
        names.dedup();
        if map.get(backend) != Some(&names) {
            map.insert(backend.to_owned(), names);
            self.names_version.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn scanner(&self, backend: &str) -> Scanner {
        // Every backend's names, this one's included: the scanner checks the others' for
        // shadowing and lets a definition talk about its own backend's tools.
        let all: Vec<(String, String)> = self
            .names
            .read()
            .map(|m| {
                m.iter()
                    .flat_map(|(b, ns)| ns.iter().map(move |n| (b.clone(), n.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Scanner::new(backend, &all).with_classifier(self.classifier)
    }

    /// The findings of `def`, from the cache, else from a scan. The scanner (its shadowing rule
    /// compiles a regex per other backend) is built only on a miss, at most once per review:
    /// building it for every list made each session's first `tools/list` cost seconds with ten
    /// backends.
    fn findings(
        &self,
        backend: &str,
        version: u64,
        scanner: &OnceLock<Scanner>,
        kind: Kind,
        def: &Value,
    ) -> Arc<Vec<Finding>> {
        let key = (
            backend.to_owned(),
            version,
            kind,
            digest(def.to_string().as_bytes()),
        );
        if let Some(f) = self.scans.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return f;
        }
        let found = Arc::new(
            scanner
                .get_or_init(|| self.scanner(backend))
                .scan(def, kind),
        );
        if let Ok(mut m) = self.scans.lock() {
            // Bounded: a backend that changes its definitions on every list must not grow this.
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(key, found.clone());
        }
        found
    }

    /// Review what `backend` lists of `kind` now. Hidden tools (allow/deny lists) are dropped,
    /// overrides applied to what clients see; each remaining item gets its verdict, and every
    /// new drift raises its alert (an approved item missing from a [`Listing::Partial`] list is
    /// not drift). Under `new_items = "trust_on_first_use"` a new definition without a
    /// quarantining finding is pinned in the lockfile here.
    pub fn review(
        &self,
        backend: &str,
        kind: Kind,
        items: &[Value],
        server_info: &Value,
        listing: Listing,
    ) -> Reviewed {
        // The scan's compiled rules live for this review (or the caller's longer hold) only.
        let _compiled = super::findings::hold();
        let rules = self.rules(backend);
        let shown = || {
            items
                .iter()
                .filter(|d| item_name(kind, d).is_none_or(|n| rules.shows(kind, n)))
        };
        if kind == Kind::Tool {
            self.note(backend, shown(), listing);
        }
        let off = rules.mode == super::config::Mode::Off;
        if !off {
            self.remember(backend, kind, shown().collect(), server_info);
        }
        let approved = self.approved.load_full();
        let against = Against {
            approved: approved.backends.get(backend),
            rules,
            quarantine_severity: self.quarantine_severity,
        };
        let version = self.names_version.load(Ordering::Acquire);
        let scanner = OnceLock::new();
        let scan = |def: &Value| {
            if off {
                Arc::default()
            } else {
                self.findings(backend, version, &scanner, kind, def)
            }
        };
        let list = review_list(kind, items, against, &scan);
        let mut out = Reviewed {
            items: list.offered,
            verdicts: HashMap::new(),
        };
        if off {
            // Not pinned, not scanned: every item as if unpinned.
            for def in &out.items {
                if let Some(n) = item_name(kind, def) {
                    out.verdicts.insert(n.to_owned(), Verdict::default());
                }
            }
            return out;
        }
        let enforce = rules.mode == super::config::Mode::Enforce;
        let mut to_pin = Vec::new();
        for item in list.items {
            if item.state == State::Removed && listing == Listing::Partial {
                tracing::debug!(backend, %kind, name = %item.name, "not in a partial list (client capabilities or caller); not drift");
                continue;
            }
            self.raise(backend, &item, enforce, &mut to_pin);
            if item.state != State::Removed {
                out.verdicts.insert(item.name, item.verdict);
            }
        }
        if !to_pin.is_empty() {
            match self.pin_first_use(backend, kind, &to_pin, server_info) {
                Ok(()) => {
                    for (name, _, key, rec) in to_pin {
                        if self.first(&key) {
                            tracing::info!(backend, %kind, name, "pinned on first use");
                            (self.events.record)(rec);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(backend, %kind, error = %e, "cannot write first-use pins; the definitions stay unpinned");
                    for (name, ..) in &to_pin {
                        if let Some(v) = out.verdicts.get_mut(name) {
                            v.pinned = false;
                        }
                    }
                }
            }
        }
        out
    }

    /// Scan what `backend` lists of static resources (`resources/list`). Resources are data a
    /// server changes at will, so they are not pinned; but a resource's description (and every
    /// other text of it) reaches a client's model as a tool's does. A resource with a finding at
    /// or above the quarantine severity raises one alert per distinct definition and, in
    /// `enforce`, is quarantined (the caller does not list it). Volatile keys are stripped as
    /// for definitions ([`client_view`]). Verdicts are keyed by `uri`.
    pub fn screen_resources(&self, backend: &str, items: &[Value]) -> Reviewed {
        let _compiled = super::findings::hold();
        let rules = self.rules(backend);
        let mut out = Reviewed {
            items: items.iter().map(client_view).collect(),
            verdicts: HashMap::new(),
        };
        if rules.mode == super::config::Mode::Off {
            return out;
        }
        let enforce = rules.mode == super::config::Mode::Enforce;
        let version = self.names_version.load(Ordering::Acquire);
        let scanner = OnceLock::new();
        for def in &out.items {
            let Some(uri) = def.get("uri").and_then(Value::as_str) else {
                continue;
            };
            // Scanned as `poisoning_scan` measures resources: no own tool name to allow.
            let findings = self.findings(backend, version, &scanner, Kind::ResourceTemplate, def);
            let mut verdict = Verdict::default();
            let mut severe: Vec<String> = Vec::new();
            for f in findings.iter() {
                if !verdict.findings.iter().any(|r| r == f.rule) {
                    verdict.findings.push(f.rule.to_owned());
                }
                if f.severity >= self.quarantine_severity && !severe.iter().any(|r| r == f.rule) {
                    severe.push(f.rule.to_owned());
                }
            }
            if !severe.is_empty() {
                let mut rec = AuditRecord::new(AuditKind::DriftAlert, Decision::Info);
                rec.backend = Some(backend.to_owned());
                rec.original = Some(uri.to_owned());
                rec.method = Some("integrity/resource".into());
                rec.reason = Some(format!(
                    "resource `{uri}` of backend `{backend}` has findings ({}){}",
                    severe.join(", "),
                    if enforce {
                        "; quarantined (not listed)"
                    } else {
                        "; mode warn: still listed"
                    }
                ));
                rec.extra = Some(json!({
                    "kind": "resource", "change": "findings",
                    "findings": serde_json::to_value(findings.as_ref()).unwrap_or(Value::Null),
                    "quarantined": enforce,
                }));
                let sha = hex::encode(digest(def.to_string().as_bytes()));
                self.alert(format!("{backend}\0resource\0{uri}\0{sha}"), rec);
                if enforce {
                    verdict.quarantine = Some(Quarantine::Findings { rules: severe });
                }
            }
            out.verdicts.entry(uri.to_owned()).or_insert(verdict);
        }
        out
    }

    /// The alert (or first-use pin) one reviewed item calls for.
    fn raise(
        &self,
        backend: &str,
        item: &ItemReview<'_>,
        enforce: bool,
        to_pin: &mut Vec<FirstUse>,
    ) {
        let (kind, name) = (item.kind, item.name.as_str());
        let sha = item
            .current
            .as_ref()
            .map(|c| c.sha256.as_str())
            .unwrap_or_default();
        let key = format!("{backend}\0{kind:?}\0{name}\0{sha}");
        let findings_json = || serde_json::to_value(item.findings.as_ref()).unwrap_or(Value::Null);
        let severe = &item.severe;
        match &item.state {
            State::Pinned => {}
            State::Unpinnable(why) => {
                let mut rec = self.record(backend, kind, name, "unhashable");
                rec.reason = Some(why.clone());
                self.alert(format!("{backend}\0{kind:?}\0{name}\0unhashable"), rec);
            }
            State::Rejected => {
                let mut rec = self.record(backend, kind, name, "rejected");
                rec.decision = Decision::Deny;
                rec.reason = Some(format!(
                    "{kind} `{name}` of backend `{backend}` is a definition an operator rejected"
                ));
                rec.extra = Some(
                    json!({ "kind": kind.as_str(), "change": "rejected", "current_sha256": sha }),
                );
                self.alert(key, rec);
            }
            State::Changed(fields) => {
                let approved_sha = item.approved.as_ref().map(|p| p.sha256.clone());
                let mut rec = self.record(backend, kind, name, "changed");
                rec.reason = Some(format!(
                    "{kind} `{name}` of backend `{backend}` changed since it was approved ({}){}",
                    fields.join(", "),
                    if enforce {
                        "; quarantined"
                    } else {
                        "; mode warn: still offered"
                    }
                ));
                rec.extra = Some(json!({
                    "kind": kind.as_str(), "change": "changed", "fields": fields,
                    "approved_sha256": approved_sha, "current_sha256": sha,
                    "findings": findings_json(), "quarantined": enforce,
                }));
                self.alert(key, rec);
            }
            State::New if item.first_use => {
                // Pinned with the rest of this list in one lockfile write (see `review`).
                let mut rec = AuditRecord::new(AuditKind::PinApproval, Decision::Info);
                rec.backend = Some(backend.to_owned());
                rec.original = Some(name.to_owned());
                rec.reason = Some(format!(
                    "{kind} `{name}` of backend `{backend}` pinned on first use"
                ));
                rec.extra = Some(json!({
                    "kind": kind.as_str(), "change": "pinned_on_first_use",
                    "current_sha256": sha, "findings": findings_json(),
                }));
                if let Some(pin) = &item.current {
                    to_pin.push((name.to_owned(), pin.clone(), key, rec));
                }
            }
            State::New => {
                let mut rec = self.record(backend, kind, name, "new");
                rec.reason = Some(format!(
                    "{kind} `{name}` of backend `{backend}` is new{}{}",
                    if severe.is_empty() {
                        String::new()
                    } else {
                        format!(" with findings ({})", severe.join(", "))
                    },
                    if enforce {
                        "; quarantined until approved"
                    } else {
                        "; mode warn: offered unpinned"
                    }
                ));
                rec.extra = Some(json!({
                    "kind": kind.as_str(), "change": "new", "current_sha256": sha,
                    "findings": findings_json(), "quarantined": enforce,
                }));
                self.alert(key, rec);
            }
            State::Removed => {
                let approved_sha = item.approved.as_ref().map(|p| p.sha256.clone());
                let mut rec = self.record(backend, kind, name, "removed");
                rec.reason = Some(format!(
                    "{kind} `{name}` of backend `{backend}` is gone from its list"
                ));
                rec.extra = Some(json!({
                    "kind": kind.as_str(), "change": "removed",
                    "approved_sha256": approved_sha,
                }));
                self.alert(format!("{backend}\0{kind:?}\0{name}\0removed"), rec);
            }
        }
    }

    /// Keep what `backend` lists of `kind` now for `portcullis pins`, writing the file only
    /// when it changed.
    fn remember(&self, backend: &str, kind: Kind, items: Vec<&Value>, server_info: &Value) {
        let current: Vec<Value> = items.into_iter().cloned().collect();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let entry = seen.entry(backend.to_owned()).or_default();
        if *entry.list_mut(kind) == current && entry.server_info == *server_info {
            return;
        }
        *entry.list_mut(kind) = current;
        entry.server_info = server_info.clone();
        entry.updated = crate::audit::AuditRecord::new(AuditKind::Audit, Decision::Info).time;
        let path = seen_path(&self.path);
        let text = match serde_json::to_string_pretty(&*seen) {
            Ok(t) => t,
            Err(_) => return,
        };
        drop(seen);
        let tmp = path.with_extension("json.tmp");
        let written = std::fs::write(&tmp, text + "\n").and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::debug!(path = %path.display(), error = %e, "cannot keep the seen catalogs for `portcullis pins`");
        }
    }

    fn record(&self, backend: &str, kind: Kind, name: &str, change: &str) -> AuditRecord {
        let mut rec = AuditRecord::new(AuditKind::DriftAlert, Decision::Info);
        rec.backend = Some(backend.to_owned());
        rec.original = Some(name.to_owned());
        rec.method = Some(format!("integrity/{}", kind.as_str()));
        rec.reason = Some(change.to_owned());
        rec
    }

    fn first(&self, key: &str) -> bool {
        self.alerted
            .lock()
            .map(|mut a| a.insert(key.to_owned()))
            .unwrap_or(true)
    }

    /// Raise a drift alert once per distinct `key`: log, metric, audit record, webhook. With a
    /// [`Claim`], once across every process that shares it.
    fn alert(&self, key: String, rec: AuditRecord) {
        if !self.first(&key) {
            return;
        }
        let emit = {
            let record = self.events.record.clone();
            let drift_alert = self.events.drift_alert.clone();
            let webhook = self.webhook.clone();
            move || emit_alert(rec, &*record, &*drift_alert, webhook.as_ref())
        };
        match &self.events.claim {
            None => emit(),
            Some(claim) => {
                let won = claim(key);
                tokio::spawn(async move {
                    if won.await {
                        emit();
                    }
                });
            }
        }
    }

    /// Pin new definitions of one list in one lockfile write.
    fn pin_first_use(
        &self,
        backend: &str,
        kind: Kind,
        items: &[FirstUse],
        server_info: &Value,
    ) -> Result<(), IntegrityError> {
        let _w = self.write.lock();
        let mut lock = (*self.approved.load_full()).clone();
        let pins = lock.backends.entry(backend.to_owned()).or_default();
        if pins.server_info.is_null() {
            pins.server_info = super::sorted_keys(server_info.clone());
        }
        let mut added = false;
        for (name, pin, ..) in items {
            if pins.items(kind).contains_key(name) {
                // Another session pinned (some version of) it first; the next review compares.
                continue;
            }
            pins.items_mut(kind).insert(name.clone(), pin.clone());
            added = true;
        }
        if !added {
            return Ok(());
        }
        pins.catalog_sha256 = pins.compute_catalog_hash();
        self.store(lock)
    }

    fn store(&self, lock: Lockfile) -> Result<(), IntegrityError> {
        lockfile::save(&lock, &self.path)?;
        if let Ok(text) = lock.to_text() {
            if let Ok(mut d) = self.last_text.lock() {
                *d = Some(digest(text.as_bytes()));
            }
        }
        self.approved.store(Arc::new(lock));
        Ok(())
    }

    /// Re-read the lockfile if it changed. An invalid file keeps the approvals in force and
    /// raises an alert. Returns whether approvals changed.
    pub fn reload(&self, why: &str) -> bool {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "cannot read the lockfile; approvals unchanged");
                return false;
            }
        };
        let d = digest(&bytes);
        if self
            .last_text
            .lock()
            .map(|l| *l == Some(d))
            .unwrap_or(false)
        {
            return false;
        }
        let _w = self.write.lock();
        let text = String::from_utf8_lossy(&bytes);
        match Lockfile::from_text(&text, &self.path.display().to_string()) {
            Ok(new) => {
                let old = self.approved.load_full();
                let changes = lockfile::diff(&old, &new);
                if let Ok(mut l) = self.last_text.lock() {
                    *l = Some(d);
                }
                self.approved.store(Arc::new(new));
                self.generation.fetch_add(1, Ordering::AcqRel);
                for c in &changes {
                    let mut rec = AuditRecord::new(AuditKind::PinApproval, Decision::Info);
                    let (backend, name) = match c {
                        Change::Added { backend, name, .. }
                        | Change::Removed { backend, name, .. }
                        | Change::Changed { backend, name, .. } => (backend, Some(name)),
                        Change::BackendAdded { backend }
                        | Change::BackendRemoved { backend }
                        | Change::ServerInfoChanged { backend } => (backend, None),
                    };
                    rec.backend = Some(backend.clone());
                    rec.original = name.cloned();
                    rec.reason = Some(format!("lockfile reloaded ({why}): {c}"));
                    (self.events.record)(rec);
                }
                tracing::info!(path = %self.path.display(), changes = changes.len(), why, "lockfile reloaded");
                true
            }
            Err(e) => {
                if let Ok(mut l) = self.last_text.lock() {
                    *l = Some(d);
                }
                let mut rec = AuditRecord::new(AuditKind::PinApproval, Decision::Error);
                rec.reason = Some(format!(
                    "lockfile reload ({why}) rejected; previous approvals stay in force: {e}"
                ));
                tracing::error!(error = %e, "lockfile reload rejected; previous approvals stay in force");
                (self.events.record)(rec);
                false
            }
        }
    }

    /// Watch the lockfile (every `reload_secs`, and on SIGHUP) and start the webhook sender.
    /// `on_change` runs after approvals changed (the gateway tells sessions to re-review).
    pub fn start(self: &Arc<Self>, on_change: Arc<dyn Fn() + Send + Sync>) {
        if let Some(w) = &self.webhook_cfg {
            let queued = self.webhook_queue.lock().ok().and_then(|mut q| q.take());
            if let Some(rx) = queued {
                tokio::spawn(webhook::sender(w.clone(), self.egress.clone(), rx));
            }
        }
        let weak = Arc::downgrade(self);
        let every = self.reload;
        tokio::spawn(async move {
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(if every.is_zero() {
                Duration::from_secs(3600)
            } else {
                every
            });
            loop {
                let why = tokio::select! {
                    _ = tick.tick() => {
                        if every.is_zero() { continue; }
                        "file changed"
                    }
                    Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
                };
                let Some(m) = weak.upgrade() else { return };
                if m.reload(why) {
                    on_change();
                }
            }
        });
    }
}

/// Log, count, send to the webhook and record one alert.
fn emit_alert(
    rec: AuditRecord,
    record: &(dyn Fn(AuditRecord) + Send + Sync),
    drift_alert: &(dyn Fn(&str) + Send + Sync),
    webhook: Option<&mpsc::Sender<Value>>,
) {
    let backend = rec.backend.clone().unwrap_or_default();
    let reason = rec.reason.clone().unwrap_or_default();
    tracing::warn!(backend = %backend, alert = %reason, "integrity alert");
    drift_alert(&backend);
    if let Some(tx) = webhook {
        let doc = json!({
            "type": "portcullis.integrity_alert",
            "time": rec.time,
            "backend": backend,
            "name": rec.original,
            "kind": rec.method,
            "message": reason,
            "details": rec.extra,
        });
        if tx.try_send(doc).is_err() {
            tracing::warn!(
                "integrity webhook queue full or closed; alert only in the audit trail and logs"
            );
        }
    }
    record(rec);
}

#[cfg(test)]
mod tests;
