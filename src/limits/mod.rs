//! Rate and session limits: how often a principal, a tool, a backend and the whole gateway may
//! be called, and how many sessions one principal may hold.
//!
//! Every dimension is a [`governor`] GCRA limiter keyed by the thing it limits. Configuration
//! (`[limits]`, every key optional, an absent key meaning no limit on that dimension):
//!
//! ```toml
//! [limits]
//! global = "5000/min"                 # all calls through the gateway
//! per_backend = "1000/min"            # all calls to one backend
//! per_principal = "100/min"           # all calls by one principal
//! per_principal_tool = { rate = "20/min", burst = 5 }   # one principal, one tool
//! max_sessions_per_principal = 20
//!
//! [limits.backend.github]             # overrides for one backend
//! per_backend = "300/min"
//! per_principal_tool = "10/min"
//!
//! [limits.tool."github/delete_repo"]  # `backend/original tool name`
//! per_principal = "5/h"               # one principal, this tool: tighter for destructive tools
//! ```
//!
//! A rate is `"N/s"`, `"N/min"` or `"N/h"` (also `sec`, `second`, `minute`, `hour`). As a
//! string its burst is N: the whole period's allowance may be spent at once, and it then comes
//! back at an even pace (one call every period/N). The table form `{ rate = "N/unit", burst = B }`
//! sets the burst: at most B calls back to back, still N per period on average. There is no
//! string form for the burst: one spelling per meaning keeps configs greppable.
//!
//! For `per_principal_tool` the most specific setting wins: `[limits.tool."b/t"].per_principal`,
//! then `[limits.backend.b].per_principal_tool`, then `limits.per_principal_tool`. Likewise
//! `[limits.backend.b].per_backend` replaces `limits.per_backend` for backend `b`.
//!
//! A refused call consumes no quota: [`Limits::check_call`] first asks every applicable limiter
//! whether the call fits *without* recording it (governor has no such "peek", so the limiters'
//! state store, `Store`, provides one), and records it in all of them only when all agree. The
//! peek and the record are separate steps, so two calls racing for the last cell of a limiter
//! can both pass the peek and one then fails its record after recording in the limiters before
//! it. Records are made from the most specific limiter to the least (per principal and tool,
//! per principal, per backend, global), so what such a loser wastes is its own principal's
//! quota first; a shared (backend or global) cell is lost only when the global limiter itself
//! is the one raced for after the backend one was recorded. Either way limits stay upper bounds:
//! a race can only refuse, never admit, an extra call.
//!
//! Keyed limiters keep a state per key they have seen until [`Limits::prune`] drops the keys
//! whose state is indistinguishable from a fresh one. [`Limits::spawn_pruner`] runs it
//! periodically; between two runs memory grows with the number of distinct keys seen.
//!
//! With `[cluster]`, [`Limits::admit_call`] decides in Redis instead (`cluster::limits`: the
//! same GCRA, every limit of the call in one atomic script), so a quota holds across all
//! replicas together. The limiters here stay as a fast path in front of it: a call they refuse
//! is refused without asking Redis, and they record only calls Redis allowed, so their arrivals
//! are a subset of the cluster's and they never refuse a call the cluster would allow. While
//! Redis is unavailable `cluster.on_redis_unavailable` decides: refuse (`fail_closed`, limit
//! [`names::CLUSTER_UNAVAILABLE`]) or decide here alone (`local`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::{Quota, RateLimiter};
use toml::Spanned;

pub use crate::config::limits::{BackendLimits, LimitsConfig, RateSpec, ToolLimits};
use crate::config::{Config, ConfigError};

/// Names of the limits, as they appear in [`LimitExceeded::limit`] and in metrics labels.
pub mod names {
    pub const GLOBAL: &str = "global";
    pub const PER_BACKEND: &str = "per_backend";
    pub const PER_PRINCIPAL: &str = "per_principal";
    pub const PER_PRINCIPAL_TOOL: &str = "per_principal_tool";
    pub const MAX_SESSIONS_PER_PRINCIPAL: &str = "max_sessions_per_principal";
    /// Not a quota: the shared limits could not be checked (Redis unavailable, `fail_closed`).
    pub const CLUSTER_UNAVAILABLE: &str = "cluster_unavailable";
    /// Every name above, for consumers that keep one series per limit.
    pub const ALL: &[&str] = &[
        GLOBAL,
        PER_BACKEND,
        PER_PRINCIPAL,
        PER_PRINCIPAL_TOOL,
        MAX_SESSIONS_PER_PRINCIPAL,
        CLUSTER_UNAVAILABLE,
    ];
}

// ---------------------------------------------------------------------------------------------
// The configuration (`[limits]`, `crate::config::limits`) parsed and checked.

/// A parsed rate: `count` calls per `period`, at most `burst` back to back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
    pub burst: NonZeroU32,
}

/// Why a configured rate cannot be used; each message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Not `N/unit` with N at least 1 and a known unit.
    #[error(
        "`{rate}` is not a rate: write `N/s`, `N/min` or `N/h` with N at least 1, e.g. `\"100/min\"`"
    )]
    NotARate { rate: String },
    /// `burst = 0`.
    #[error(
        "burst 0 for `{rate}` would refuse every call; use at least 1 (or remove the key for no limit)"
    )]
    ZeroBurst { rate: String },
    /// More than one call per nanosecond.
    #[error("`{rate}` is faster than one call per nanosecond; use a coarser unit")]
    TooFast { rate: String },
    /// A parsed rate (of config key `key`) that the limiter cannot represent.
    #[error("key `{key}`: rate `{rate}` is too fast")]
    Quota { key: String, rate: Rate },
}

impl RateSpec {
    /// The rate this spec writes, checked: a known unit, a count and burst of at least 1, no
    /// faster than the limiter can count.
    pub fn parse(&self) -> Result<Rate, RateError> {
        let bad = || RateError::NotARate {
            rate: self.rate.clone(),
        };
        let (n, unit) = self.rate.split_once('/').ok_or_else(bad)?;
        let count: NonZeroU32 = n.trim().parse().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let burst = match self.burst {
            None => count,
            Some(b) => NonZeroU32::new(b).ok_or_else(|| RateError::ZeroBurst {
                rate: self.rate.clone(),
            })?,
        };
        let rate = Rate {
            count,
            period,
            burst,
        };
        rate.quota().ok_or_else(|| RateError::TooFast {
            rate: self.rate.clone(),
        })?;
        Ok(rate)
    }
}

impl Rate {
    fn quota(&self) -> Option<Quota> {
        Quota::with_period(self.period / self.count.get()).map(|q| q.allow_burst(self.burst))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)?;
        if self.burst != self.count {
            write!(f, " (burst {})", self.burst)?;
        }
        Ok(())
    }
}

/// Limits' part of the check pass (`crate::checks`): every rate parses and every override
/// names a configured backend. `Err((key, offset, message))`.
pub fn check_config(cfg: &Config) -> Result<(), (String, usize, String)> {
    let backends: HashSet<String> = cfg
        .backends
        .iter()
        .map(|b| b.get_ref().name.clone())
        .collect();
    match cfg.limits.compile(&backends) {
        Ok(_) => Ok(()),
        Err(LimitsError::Invalid { key, at, message }) => Err((key, at, message)),
    }
}

/// A `[limits]` setting that cannot be used. `at` is a byte offset into the config text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LimitsError {
    #[error("key `{key}`: {message}")]
    Invalid {
        key: String,
        at: usize,
        message: String,
    },
}

/// A configured rate and the config key that set it.
pub type Setting = (String, Rate);

/// Everything `[limits]` sets, parsed and checked against the backend names.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub global: Option<Setting>,
    pub per_backend: Option<Setting>,
    pub per_principal: Option<Setting>,
    pub per_principal_tool: Option<Setting>,
    pub max_sessions_per_principal: Option<usize>,
    /// backend → (per_backend, per_principal_tool) overrides.
    pub backend: BTreeMap<String, (Option<Setting>, Option<Setting>)>,
    /// (backend, original tool name) → per-principal rate.
    pub tool: BTreeMap<(String, String), Setting>,
}

fn rate_at(spec: &Option<Spanned<RateSpec>>, key: String) -> Result<Option<Setting>, LimitsError> {
    let Some(s) = spec else { return Ok(None) };
    match s.get_ref().parse() {
        Ok(r) => Ok(Some((key, r))),
        Err(e) => Err(LimitsError::Invalid {
            key,
            at: s.span().start,
            message: e.to_string(),
        }),
    }
}

impl LimitsConfig {
    /// Parse every rate and check overrides name configured backends. Used both by config
    /// validation and by [`Limits::new`], so the two cannot disagree.
    pub fn compile(&self, backends: &HashSet<String>) -> Result<Compiled, LimitsError> {
        let mut out = Compiled {
            global: rate_at(&self.global, "limits.global".into())?,
            per_backend: rate_at(&self.per_backend, "limits.per_backend".into())?,
            per_principal: rate_at(&self.per_principal, "limits.per_principal".into())?,
            per_principal_tool: rate_at(
                &self.per_principal_tool,
                "limits.per_principal_tool".into(),
            )?,
            ..Compiled::default()
        };
        if let Some(m) = &self.max_sessions_per_principal {
            if *m.get_ref() == 0 {
                return Err(LimitsError::Invalid {
                    key: "limits.max_sessions_per_principal".into(),
                    at: m.span().start,
                    message: "0 would refuse every session; use at least 1 (or remove the key for no limit)".into(),
                });
            }
            out.max_sessions_per_principal = Some(*m.get_ref());
        }
        for (name, b) in &self.backend {
            let key = |k: &str| format!("limits.backend.{name}.{k}");
            if !backends.contains(name) {
                return Err(LimitsError::Invalid {
                    key: format!("limits.backend.{name}"),
                    at: b.span().start,
                    message: format!(
                        "unknown backend `{name}`; limits overrides must name a `[[backend]]`"
                    ),
                });
            }
            let be = b.get_ref();
            out.backend.insert(
                name.clone(),
                (
                    rate_at(&be.per_backend, key("per_backend"))?,
                    rate_at(&be.per_principal_tool, key("per_principal_tool"))?,
                ),
            );
        }
        for (name, t) in &self.tool {
            let key = format!("limits.tool.\"{name}\"");
            let (backend, tool) = match name.split_once('/') {
                Some((b, t)) if !b.is_empty() && !t.is_empty() => (b, t),
                _ => {
                    return Err(LimitsError::Invalid {
                        key,
                        at: t.span().start,
                        message: format!(
                            "`{name}` must be `backend/tool` with the tool's original name, e.g. `[limits.tool.\"github/delete_repo\"]`"
                        ),
                    });
                }
            };
            if !backends.contains(backend) {
                return Err(LimitsError::Invalid {
                    key,
                    at: t.span().start,
                    message: format!("unknown backend `{backend}` in `{name}`"),
                });
            }
            if let Some(r) = rate_at(&t.get_ref().per_principal, format!("{key}.per_principal"))? {
                out.tool.insert((backend.to_owned(), tool.to_owned()), r);
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime.

/// A call or session refused by a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    /// Which limit, one of [`names`]: `global`, `per_backend`, `per_principal`,
    /// `per_principal_tool` or `max_sessions_per_principal`.
    pub limit: String,
    /// What was limited: `*` (global), the backend name, the principal key, or
    /// `<principal> <exposed tool name>`.
    pub key: String,
    /// When the call would fit again. For sessions: when an idle session would have expired.
    pub retry_after: Duration,
    /// The config key that set the limit, e.g. `limits.tool."github/delete_repo".per_principal`,
    /// and its value, e.g. `5/h`, for logs. Not meant for the caller.
    pub rule: String,
}

impl LimitExceeded {
    /// `retry_after` in whole seconds, rounded up, at least 1 (for a `Retry-After` header).
    pub fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limit == names::CLUSTER_UNAVAILABLE {
            write!(
                f,
                "the cluster's shared limits cannot be checked (Redis unavailable), so calls are \
                 refused; retry after {} s",
                self.retry_after_secs()
            )
        } else if self.limit == names::MAX_SESSIONS_PER_PRINCIPAL {
            write!(
                f,
                "session limit `{}` reached for `{}`; end a session (HTTP DELETE) or retry after {} s, when an idle one expires",
                self.limit,
                self.key,
                self.retry_after_secs()
            )
        } else {
            write!(
                f,
                "rate limit `{}` exceeded for `{}`; retry after {} s",
                self.limit,
                self.key,
                self.retry_after_secs()
            )
        }
    }
}

impl std::error::Error for LimitExceeded {}

/// The key a limiter is asked about, and whether asking may record a call (`commit`) or only
/// says whether one would fit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Probe {
    key: String,
    commit: bool,
}

/// A governor state store (theoretical arrival times per key, as governor's own
/// `DashMapStateStore`) that can also answer without recording: see [`Probe`]. Written here
/// because governor offers no peek.
#[derive(Debug, Default)]
struct Store {
    map: DashMap<String, AtomicU64>,
}

/// The compare-and-swap loop of governor's `InMemoryState`: run `f` on the current value and
/// store its result unless another call changed the value meanwhile, then try again.
fn measure_and_replace_slot<T, F, E>(slot: &AtomicU64, f: F) -> Result<T, E>
where
    F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
{
    let read = |v: u64| NonZeroU64::new(v).map(|n| Nanos::from(n.get()));
    let mut prev = slot.load(Ordering::Acquire);
    loop {
        let (result, next) = f(read(prev))?;
        match slot.compare_exchange_weak(prev, next.as_u64(), Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => return Ok(result),
            Err(now) => prev = now,
        }
    }
}

impl StateStore for Store {
    type Key = Probe;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if !probe.commit {
            let prev = self
                .map
                .get(probe.key.as_str())
                .and_then(|s| NonZeroU64::new(s.load(Ordering::Acquire)))
                .map(|n| Nanos::from(n.get()));
            return f(prev).map(|(result, _)| result);
        }
        if let Some(slot) = self.map.get(probe.key.as_str()) {
            return measure_and_replace_slot(&slot, f);
        }
        let slot = self.map.entry(probe.key.clone()).or_default();
        measure_and_replace_slot(&slot, f)
    }
}

impl ShrinkableKeyedStateStore<Probe> for Store {
    fn retain_recent(&self, drop_below: Nanos) {
        let below = drop_below.as_u64();
        self.map.retain(|_, v| v.load(Ordering::Relaxed) > below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

type Limiter<C> = RateLimiter<Probe, Store, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// One limiter and where its quota came from.
struct Dim<C: Clock> {
    limiter: Limiter<C>,
    /// `limits.… = rate`, for [`LimitExceeded::rule`].
    rule: String,
    /// The same quota, for the cluster's script.
    rate: Rate,
}

impl<C: Clock + Clone> Dim<C> {
    fn new((key, rate): &Setting, clock: &C) -> Result<Self, RateError> {
        let quota = rate.quota().ok_or_else(|| RateError::Quota {
            key: key.clone(),
            rate: *rate,
        })?;
        Ok(Dim {
            limiter: RateLimiter::new(quota, Store::default(), clock.clone()),
            rule: format!("{key} = {rate}"),
            rate: *rate,
        })
    }
}

#[derive(Default)]
struct BackendDims<C: Clock> {
    per_backend: Option<Dim<C>>,
    per_principal_tool: Option<Dim<C>>,
}

/// The gateway's limits. Cheap to share (`Arc`); every check is lock-free apart from the
/// limiters' sharded maps.
pub struct Limits<C: Clock = DefaultClock> {
    clock: C,
    global: Option<Dim<C>>,
    per_backend: Option<Dim<C>>,
    per_principal: Option<Dim<C>>,
    per_principal_tool: Option<Dim<C>>,
    backend: HashMap<String, BackendDims<C>>,
    /// backend → original tool name → per-principal limiter.
    tool: HashMap<String, HashMap<String, Dim<C>>>,
    max_sessions: Option<usize>,
    session_retry: Duration,
    /// Shared limits (`[cluster]`); `None`: this process decides alone.
    cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// How [`Limits::admit_call`] decided an allowed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// By this process: there is no cluster, or nothing limits the call.
    Here,
    /// By the cluster's shared limits.
    Cluster,
    /// By this replica alone because Redis is unavailable (`on_redis_unavailable = "local"`).
    Degraded { reason: String },
}

/// One limiter a call must pass, with the key it is counted under.
struct Step<'a, C: Clock> {
    dim: &'a Dim<C>,
    limit: &'static str,
    probe: Probe,
}

fn step<'a, C: Clock>(dim: &'a Dim<C>, limit: &'static str, key: String) -> Step<'a, C> {
    Step {
        dim,
        limit,
        probe: Probe { key, commit: false },
    }
}

/// The refusal while the shared limits cannot be checked (`fail_closed`).
fn unavailable(reason: String) -> LimitExceeded {
    LimitExceeded {
        limit: names::CLUSTER_UNAVAILABLE.to_owned(),
        key: "*".to_owned(),
        retry_after: Duration::from_secs(1),
        rule: format!("cluster.on_redis_unavailable = fail_closed: {reason}"),
    }
}

/// Unambiguous key from parts: each part is length-prefixed, so no choice of names (a principal
/// containing a separator, say) can make two different tuples share a bucket.
fn key_of(parts: &[&str]) -> String {
    let mut k = String::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for p in parts {
        let _ = write!(k, "{}:", p.len());
        k.push_str(p);
    }
    k
}

/// What [`Limits::new`] needs from outside `[limits]`.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The configured backends' names: every `[limits.backend.*]` and `[limits.tool.*]` must
    /// name one.
    pub backends: &'a [String],
    /// How long a principal refused a session is told to wait (`Retry-After`): the session idle
    /// timeout, after which one of its sessions may have ended.
    pub session_retry: Duration,
    /// Where the config came from (a path, or `<quickstart>`), for errors.
    pub source_name: &'a str,
}

impl Limits<DefaultClock> {
    pub fn new(cfg: &LimitsConfig, setup: Setup<'_>) -> Result<Limits, ConfigError> {
        Self::with_clock(cfg, setup, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limits<C> {
    /// [`Limits::new`] with another clock (tests use governor's `FakeRelativeClock`).
    pub fn with_clock(cfg: &LimitsConfig, setup: Setup<'_>, clock: C) -> Result<Self, ConfigError> {
        let backends: HashSet<String> = setup.backends.iter().cloned().collect();
        // INVARIANT: the check pass (`crate::checks`) ran the same `compile`, so for a loaded
        // config these errors cannot happen; a config assembled in code still gets a named
        // error.
        let invalid = |key: String, message: String| ConfigError::Invalid {
            file: setup.source_name.to_owned(),
            line: 0,
            key,
            message,
        };
        let c = cfg
            .compile(&backends)
            .map_err(|LimitsError::Invalid { key, message, .. }| invalid(key, message))?;
        let dim = |r: &Option<Setting>| -> Result<Option<Dim<C>>, ConfigError> {
            r.as_ref()
                .map(|r| Dim::new(r, &clock).map_err(|e| invalid(r.0.clone(), e.to_string())))
                .transpose()
        };
        let mut backend = HashMap::new();
        for (name, (pb, ppt)) in &c.backend {
            backend.insert(
                name.clone(),
                BackendDims {
                    per_backend: dim(pb)?,
                    per_principal_tool: dim(ppt)?,
                },
            );
        }
        let mut tool: HashMap<String, HashMap<String, Dim<C>>> = HashMap::new();
        for ((b, t), r) in &c.tool {
            if let Some(d) = dim(&Some(r.clone()))? {
                tool.entry(b.clone()).or_default().insert(t.clone(), d);
            }
        }
        Ok(Limits {
            global: dim(&c.global)?,
            per_backend: dim(&c.per_backend)?,
            per_principal: dim(&c.per_principal)?,
            per_principal_tool: dim(&c.per_principal_tool)?,
            backend,
            tool,
            max_sessions: c.max_sessions_per_principal,
            session_retry: setup.session_retry,
            cluster: None,
            clock,
        })
    }

    /// Decide calls with the cluster's shared limits (see the module docs).
    pub fn clustered(mut self, cluster: Option<Arc<crate::cluster::Cluster>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// `limits.max_sessions_per_principal`.
    pub fn max_sessions(&self) -> Option<usize> {
        self.max_sessions
    }

    /// The limiters a call must pass, most specific first (the order records are made in, see
    /// the module docs).
    fn plan(
        &self,
        principal_key: &str,
        backend: &str,
        tool_original: &str,
    ) -> [Option<Step<'_, C>>; 4] {
        let overrides = self.backend.get(backend);
        let tool_override = self.tool.get(backend).and_then(|m| m.get(tool_original));
        let ppt = if let Some(d) = tool_override {
            Some((d, key_of(&[principal_key])))
        } else if let Some(d) = overrides.and_then(|o| o.per_principal_tool.as_ref()) {
            Some((d, key_of(&[principal_key, tool_original])))
        } else {
            self.per_principal_tool
                .as_ref()
                .map(|d| (d, key_of(&[principal_key, backend, tool_original])))
        };
        let pb = overrides
            .and_then(|o| o.per_backend.as_ref())
            .or(self.per_backend.as_ref());
        [
            ppt.map(|(d, k)| step(d, names::PER_PRINCIPAL_TOOL, k)),
            self.per_principal
                .as_ref()
                .map(|d| step(d, names::PER_PRINCIPAL, principal_key.to_owned())),
            pb.map(|d| step(d, names::PER_BACKEND, backend.to_owned())),
            self.global
                .as_ref()
                .map(|d| step(d, names::GLOBAL, String::new())),
        ]
    }

    fn refusal(
        &self,
        s: &Step<'_, C>,
        wait: Duration,
        principal_key: &str,
        backend: &str,
        tool_exposed: &str,
    ) -> LimitExceeded {
        LimitExceeded {
            limit: s.limit.to_owned(),
            key: match s.limit {
                names::PER_PRINCIPAL_TOOL => format!("{principal_key} {tool_exposed}"),
                names::PER_PRINCIPAL => principal_key.to_owned(),
                names::PER_BACKEND => backend.to_owned(),
                _ => "*".to_owned(),
            },
            retry_after: wait,
            rule: s.dim.rule.clone(),
        }
    }

    /// The longest wait among `steps` that refuse now, without recording anything.
    fn peek<'s, 'a>(
        &self,
        steps: &'s [Option<Step<'a, C>>],
    ) -> Option<(&'s Step<'a, C>, Duration)> {
        let mut worst: Option<(&Step<'_, C>, Duration)> = None;
        for s in steps.iter().flatten() {
            if let Err(not_until) = s.dim.limiter.check_key(&s.probe) {
                let wait = not_until.wait_time_from(self.clock.now());
                if worst.is_none_or(|(_, w)| wait > w) {
                    worst = Some((s, wait));
                }
            }
        }
        worst
    }

    /// [`Limits::check_call`], with the cluster's shared limits when there is a cluster: one
    /// Redis round trip, unless this replica's own limiters already refuse the call. See the
    /// module docs for what happens while Redis is unavailable.
    pub async fn admit_call(
        &self,
        principal_key: &str,
        backend: &str,
        tool_exposed: &str,
        tool_original: &str,
    ) -> Result<Decided, LimitExceeded> {
        let Some(cluster) = &self.cluster else {
            return self
                .check_call(principal_key, backend, tool_exposed, tool_original)
                .map(|()| Decided::Here);
        };
        let mut steps = self.plan(principal_key, backend, tool_original);
        if steps.iter().all(Option::is_none) {
            return Ok(Decided::Here);
        }
        // The fast path: what this replica alone already refuses, the cluster refuses too.
        if let Some((s, wait)) = self.peek(&steps) {
            return Err(self.refusal(s, wait, principal_key, backend, tool_exposed));
        }
        let cells: Vec<crate::cluster::limits::Cell> = steps
            .iter()
            .flatten()
            .map(|s| {
                let emission = s.dim.rate.period / s.dim.rate.count.get();
                crate::cluster::limits::Cell {
                    limit: s.limit,
                    key: key_of(&[&s.dim.rule, &s.probe.key]),
                    emission,
                    tolerance: emission.saturating_mul(s.dim.rate.burst.get() - 1),
                }
            })
            .collect();
        match cluster.gcra(&cells).await {
            Ok(crate::cluster::limits::Decision::Allowed) => {
                for s in steps.iter_mut().flatten() {
                    s.probe.commit = true;
                    // Allowed by the cluster, which decides; a local race lost here only
                    // means this replica's fast path is a call behind.
                    let _ = s.dim.limiter.check_key(&s.probe);
                }
                Ok(Decided::Cluster)
            }
            Ok(crate::cluster::limits::Decision::Refused { index, retry_after }) => {
                let s = steps.iter().flatten().nth(index);
                Err(match s {
                    Some(s) => self.refusal(s, retry_after, principal_key, backend, tool_exposed),
                    None => unavailable(format!("the rate script named cell {index}")),
                })
            }
            Err(e) => match cluster.mode() {
                crate::config::cluster::OnRedisUnavailable::FailClosed => {
                    Err(unavailable(e.to_string()))
                }
                crate::config::cluster::OnRedisUnavailable::Local => self
                    .check_call(principal_key, backend, tool_exposed, tool_original)
                    .map(|()| Decided::Degraded {
                        reason: e.to_string(),
                    }),
            },
        }
    }

    /// Whether `principal_key` may call `tool_original` (exposed to clients as `tool_exposed`)
    /// on `backend` now. Records the call in every applicable limit only if all of them allow
    /// it (see the module documentation for the ordering). When several limits refuse, the
    /// one with the longest wait is reported, since the call cannot pass before that.
    pub fn check_call(
        &self,
        principal_key: &str,
        backend: &str,
        tool_exposed: &str,
        tool_original: &str,
    ) -> Result<(), LimitExceeded> {
        let mut steps = self.plan(principal_key, backend, tool_original);
        let refusal = |s: &Step<'_, C>, wait: Duration| {
            self.refusal(s, wait, principal_key, backend, tool_exposed)
        };
        if let Some((s, wait)) = self.peek(&steps) {
            return Err(refusal(s, wait));
        }
        for s in steps.iter_mut().flatten() {
            s.probe.commit = true;
            if let Err(not_until) = s.dim.limiter.check_key(&s.probe) {
                // Lost a race for the last cell since the peek (see the module docs).
                return Err(refusal(s, not_until.wait_time_from(self.clock.now())));
            }
        }
        Ok(())
    }

    /// Whether `principal_key`, now holding `current_count` sessions, may open another.
    pub fn check_session(
        &self,
        principal_key: &str,
        current_count: usize,
    ) -> Result<(), LimitExceeded> {
        match self.max_sessions {
            Some(max) if current_count >= max => Err(LimitExceeded {
                limit: names::MAX_SESSIONS_PER_PRINCIPAL.to_owned(),
                key: principal_key.to_owned(),
                retry_after: self.session_retry,
                rule: format!("limits.max_sessions_per_principal = {max}"),
            }),
            _ => Ok(()),
        }
    }

    fn dims(&self) -> impl Iterator<Item = &Dim<C>> {
        [
            &self.global,
            &self.per_backend,
            &self.per_principal,
            &self.per_principal_tool,
        ]
        .into_iter()
        .flatten()
        .chain(self.backend.values().flat_map(|b| {
            [&b.per_backend, &b.per_principal_tool]
                .into_iter()
                .flatten()
        }))
        .chain(self.tool.values().flat_map(HashMap::values))
    }

    /// Forget every key whose state is the same as a fresh one's, and give the memory back.
    pub fn prune(&self) {
        for d in self.dims() {
            d.limiter.retain_recent();
            d.limiter.shrink_to_fit();
        }
    }

    /// Keys held across all limiters (memory use is proportional).
    pub fn len(&self) -> usize {
        self.dims().map(|d| d.limiter.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether nothing is limited (no rate and no session limit configured).
    pub fn is_unlimited(&self) -> bool {
        self.max_sessions.is_none() && self.dims().next().is_none()
    }
}

impl<C> Limits<C>
where
    C: Clock + Clone + Send + Sync + 'static,
    C::Instant: Send + Sync,
{
    /// Run [`Limits::prune`] every `every` (10 to 60 seconds suits most gateways: memory then
    /// holds the keys of that long) on a blocking thread, until the last other reference to
    /// these limits is dropped.
    pub fn spawn_pruner(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        // `interval` panics on zero.
        let every = every.max(Duration::from_millis(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { return };
                // Pruning a large map takes milliseconds: keep it off the async workers.
                if tokio::task::spawn_blocking(move || limits.prune())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
