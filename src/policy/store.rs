//! The engine in force and its hot reload: [`PolicyStore`] swaps a freshly loaded engine in
//! atomically when the files change (mtime poll) or on SIGHUP; an invalid set keeps the old
//! engine, raises an alert and tells the observer (the gateway audits every attempt).

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use super::{PolicyEngine, PolicyError, PolicySources};

/// The current engine, swapped atomically on reload. Decisions in flight keep the `Arc` they
/// loaded, so a reload never changes a decision halfway.
pub struct PolicyStore {
    current: ArcSwap<PolicyEngine>,
    sources: PolicySources,
    fingerprint: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
    /// Told of every reload attempt (the gateway audits them): (succeeded, trigger, error).
    observer: std::sync::OnceLock<ReloadObserver>,
}

/// Called with (reload succeeded, what triggered it, the error when it failed).
pub type ReloadObserver = Box<dyn Fn(bool, &str, Option<&str>) + Send + Sync>;

impl fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyStore")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl PolicyStore {
    /// Load the sources; fails when they are missing or invalid (the gateway must not start).
    pub fn open(sources: PolicySources) -> Result<PolicyStore, PolicyError> {
        let fingerprint = fingerprint(&sources);
        let engine = PolicyEngine::load(&sources)?;
        Ok(PolicyStore {
            current: ArcSwap::from_pointee(engine),
            sources,
            fingerprint: Mutex::new(fingerprint),
            observer: std::sync::OnceLock::new(),
        })
    }

    /// The engine to decide with.
    /// Be told of every reload attempt (set once; later calls are ignored).
    pub fn observe_reloads(&self, observer: ReloadObserver) {
        let _ = self.observer.set(observer);
    }

    pub fn engine(&self) -> Arc<PolicyEngine> {
        self.current.load_full()
    }

    pub fn sources(&self) -> &PolicySources {
        &self.sources
    }

    /// Load and validate the sources, then swap. An invalid set keeps the old engine and
    /// returns the error (the caller raises an alert).
    pub fn reload(&self) -> Result<Arc<PolicyEngine>, PolicyError> {
        let fp = fingerprint(&self.sources);
        let engine = Arc::new(PolicyEngine::load(&self.sources)?);
        self.current.store(Arc::clone(&engine));
        if let Ok(mut f) = self.fingerprint.lock() {
            *f = fp;
        }
        Ok(engine)
    }

    /// Reload when a file's modification time, size or the set of files changed. `Ok(true)`
    /// when a new engine was swapped in. A failed reload is retried only after the next change.
    pub fn reload_if_changed(&self) -> Result<bool, PolicyError> {
        let fp = fingerprint(&self.sources);
        {
            let Ok(mut last) = self.fingerprint.lock() else {
                return Ok(false);
            };
            if *last == fp {
                return Ok(false);
            }
            *last = fp;
        }
        let engine = PolicyEngine::load(&self.sources)?;
        self.current.store(Arc::new(engine));
        Ok(true)
    }

    /// Poll the files every `interval` and reload on change. The task ends when the store is
    /// dropped.
    pub fn spawn_watcher(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<PolicyStore> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(store) = weak.upgrade() else { return };
                let s = Arc::clone(&store);
                let r = tokio::task::spawn_blocking(move || s.reload_if_changed()).await;
                log_reload(&store, r.unwrap_or(Ok(false)), "file change");
            }
        })
    }

    /// Reload on SIGHUP. The task ends when the store is dropped (at the next signal).
    #[cfg(unix)]
    pub fn spawn_sighup(self: &Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())?;
        let weak: Weak<PolicyStore> = Arc::downgrade(self);
        Ok(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let Some(store) = weak.upgrade() else { return };
                let s = Arc::clone(&store);
                let r = tokio::task::spawn_blocking(move || s.reload().map(|_| true)).await;
                log_reload(&store, r.unwrap_or(Ok(false)), "SIGHUP");
            }
        }))
    }
}

fn log_reload(store: &PolicyStore, r: Result<bool, PolicyError>, why: &str) {
    match r {
        Ok(true) => {
            tracing::info!(policies = store.engine().len(), "policies reloaded ({why})");
            if let Some(o) = store.observer.get() {
                o(true, why, None);
            }
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(
                alert = true,
                "policy reload ({why}) failed; the previous policies stay in force:\n{e}"
            );
            if let Some(o) = store.observer.get() {
                o(false, why, Some(&e.to_string()));
            }
        }
    }
}

fn fingerprint(s: &PolicySources) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut files = vec![s.schema.clone()];
    if let Ok(rd) = std::fs::read_dir(&s.policies) {
        let mut more: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("cedar" | "cedarschema")
                )
            })
            .collect();
        more.sort();
        files.extend(more);
    }
    files
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let mtime = m.as_ref().and_then(|m| m.modified().ok());
            let len = m.map_or(0, |m| m.len());
            (p, mtime, len)
        })
        .collect()
}
