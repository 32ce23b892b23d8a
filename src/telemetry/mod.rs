//! What the gateway tells its operators: Prometheus/OpenMetrics metrics, and the admin listener
//! that serves them with liveness and readiness.
//!
//! [`Metrics`] owns one registry with every `portcullis_*` family; the request path records
//! through its methods, which take closed sets (enums) wherever the value could come from a
//! caller, so a client cannot create series at will. The admin listener that serves them
//! (`edge::admin`) is separate from the MCP listener; [`Readiness`] is what its `/readyz`
//! reports.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use serde_json::Value;

pub mod labels;
pub mod trace;

pub use crate::config::telemetry::AdminConfig;

/// Telemetry's part of the check pass (`crate::checks`): the admin listener has a port of its
/// own. `Err((key, offset, message))`.
pub fn check_config(cfg: &crate::config::Config) -> Result<(), (String, usize, String)> {
    let (Some(admin), Some(admin_addr)) = (&cfg.admin, cfg.admin_addr()) else {
        return Ok(());
    };
    let listen = cfg.listen_addr();
    if addresses_clash(admin_addr, listen) {
        return Err((
            "admin.address".into(),
            admin.get_ref().address.span().start,
            format!(
                "`{admin_addr}` clashes with `listen.address` (`{listen}`); the admin listener \
                 needs its own port, e.g. `127.0.0.1:9090`"
            ),
        ));
    }
    Ok(())
}

/// Whether two listeners would fight over one port: same port (not an ephemeral `0`), and the
/// same IP or either one the unspecified address (which binds every interface).
pub fn addresses_clash(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

// ---------------------------------------------------------------------------------------------
// Label values. Closed sets are enums encoded as lower-case words; names that only the
// configuration or backends' catalogs choose (backends, tools) are strings.

macro_rules! label_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl EncodeLabelValue for $name {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                EncodeLabelValue::encode(&self.as_str(), encoder)
            }
        }
    };
}

label_enum!(
    /// What became of a call: `portcullis_decisions_total{outcome}`.
    Outcome {
        Allow => "allow",
        Deny => "deny",
        RateLimited => "rate_limited",
        Quarantined => "quarantined",
        Error => "error",
    }
);

label_enum!(
    /// How a token for a backend was obtained: `portcullis_token_exchange_total{result}`.
    TokenExchangeResult {
        Hit => "hit",
        Miss => "miss",
        Error => "error",
    }
);

label_enum!(
    /// `portcullis_upstream_errors_total{kind}`, one per [`UpstreamError`] variant.
    UpstreamErrorKind {
        Unavailable => "unavailable",
        Timeout => "timeout",
        Protocol => "protocol",
        SessionExpired => "session_expired",
        Credentials => "credentials",
        Cancelled => "cancelled",
    }
);

/// MCP methods counted under their own name; anything else (clients choose the method string)
/// is counted as `other`, so the number of series stays bounded.
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "sampling/createMessage",
    "elicitation/create",
    "roots/list",
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/message",
    "notifications/roots/list_changed",
    "notifications/tasks/status",
    "notifications/elicitation/complete",
];

/// The label value for an MCP method: itself when known, else `other`.
pub fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// The label value for a limit name (see [`crate::limits::names`]), `other` if unknown.
fn limit_label(limit: &str) -> &'static str {
    crate::limits::names::ALL
        .iter()
        .find(|m| **m == limit)
        .copied()
        .unwrap_or("other")
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CallLabels {
    backend: String,
    tool: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UpstreamErrorLabels {
    backend: String,
    kind: UpstreamErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BackendLabels {
    backend: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TokenExchangeLabels {
    backend: String,
    result: TokenExchangeResult,
}

/// Upper bounds of the call duration buckets, seconds: from a cached answer (5 ms) to the
/// default backend timeout (120 s).
const CALL_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

fn call_histogram() -> Histogram {
    Histogram::new(CALL_BUCKETS)
}

/// Every metric the gateway exports. Share it as `Arc<Metrics>`; recording takes `&self`.
///
/// Recording a counter or gauge keyed by a closed set (method, outcome, limit) allocates
/// nothing. Families keyed by a backend or tool name build an owned label set per record (two
/// small strings), once per upstream call, beside a network round trip.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<MethodLabels, Counter>,
    decisions: Family<OutcomeLabels, Counter>,
    call_duration: Family<CallLabels, Histogram, fn() -> Histogram>,
    upstream_errors: Family<UpstreamErrorLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
    drift_alerts: Family<BackendLabels, Counter>,
    sessions: Gauge,
    token_exchange: Family<TokenExchangeLabels, Counter>,
    backend_up: Family<BackendLabels, Gauge>,
    /// `[cluster]` only (registered by [`Metrics::for_replica`]).
    redis_up: Gauge,
    cluster_local: Counter,
    /// The same states as `backend_up`, readable for `/readyz`.
    backend_states: RwLock<BTreeMap<String, bool>>,
    /// What backends listed: the only `tool` label values besides `other`.
    catalogued: labels::Catalogued,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Self::build(Registry::with_prefix("portcullis"))
    }

    /// The metrics of one replica of a cluster: every series carries `replica="<id>"`, and the
    /// cluster's own series are added (`redis_up`, `cluster_local_decisions`).
    pub fn for_replica(replica: &str) -> Metrics {
        let labels = [(
            std::borrow::Cow::Borrowed("replica"),
            std::borrow::Cow::Owned(replica.to_owned()),
        )];
        let mut m = Self::build(Registry::with_prefix_and_labels(
            "portcullis",
            labels.into_iter(),
        ));
        m.registry.register(
            "redis_up",
            "1 while Redis (the cluster's shared state) answers, 0 while it is unavailable",
            m.redis_up.clone(),
        );
        m.registry.register(
            "cluster_local_decisions",
            "Calls allowed by this replica's own limits while Redis was unavailable \
             (on_redis_unavailable = local)",
            m.cluster_local.clone(),
        );
        m.redis_up.set(1);
        m
    }

    fn build(mut registry: Registry) -> Metrics {
        let requests = Family::default();
        let decisions = Family::default();
        let call_duration: Family<CallLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(call_histogram);
        let upstream_errors = Family::default();
        let rate_limited = Family::default();
        let drift_alerts = Family::default();
        let sessions = Gauge::default();
        let token_exchange = Family::default();
        let backend_up = Family::default();
        // The registry holds clones, which share their series with the fields kept below.
        // Counters are registered without `_total`, which the encoder appends.
        registry.register(
            "requests",
            "MCP messages received from clients, by method",
            requests.clone(),
        );
        registry.register(
            "decisions",
            "What became of client calls: allow, deny, rate_limited, quarantined, error",
            decisions.clone(),
        );
        registry.register_with_unit(
            "call_duration",
            "Time from forwarding a call to a backend to its answer",
            Unit::Seconds,
            call_duration.clone(),
        );
        registry.register(
            "upstream_errors",
            "Failed exchanges with backends, by kind",
            upstream_errors.clone(),
        );
        registry.register(
            "rate_limited",
            "Calls or sessions refused by a limit, by limit",
            rate_limited.clone(),
        );
        registry.register(
            "drift_alerts",
            "Backend catalog changes that differ from the pinned definitions",
            drift_alerts.clone(),
        );
        registry.register("sessions", "Open client sessions", sessions.clone());
        registry.register(
            "token_exchange",
            "Backend credentials obtained: cache hit, exchange (miss), or error",
            token_exchange.clone(),
        );
        registry.register(
            "backend_up",
            "1 when the backend answered its last probe or call, else 0",
            backend_up.clone(),
        );
        Metrics {
            registry,
            requests,
            decisions,
            call_duration,
            upstream_errors,
            rate_limited,
            drift_alerts,
            sessions,
            token_exchange,
            backend_up,
            redis_up: Gauge::default(),
            cluster_local: Counter::default(),
            backend_states: RwLock::default(),
            catalogued: labels::Catalogued::default(),
        }
    }

    /// Whether the cluster's Redis answers (see [`Metrics::for_replica`]).
    pub fn set_redis_up(&self, up: bool) {
        self.redis_up.set(i64::from(up));
    }

    /// A call allowed by this replica's own limits while Redis was unavailable.
    pub fn record_cluster_local(&self) {
        self.cluster_local.inc();
    }

    /// A message from a client (`method` as sent; unknown methods count as `other`).
    pub fn record_request(&self, method: &str) {
        self.requests
            .get_or_create(&MethodLabels {
                method: method_label(method),
            })
            .inc();
    }

    pub fn record_decision(&self, outcome: Outcome) {
        self.decisions
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A call answered by a backend. `name` is what the call named (a tool or prompt name, or a
    /// URI); its label is that name only when the backend listed it (a URI read through a
    /// template is labelled with the template), else `other`: a client cannot create series.
    pub fn observe_call(&self, backend: &str, name: &str, elapsed: Duration) {
        self.call_duration
            .get_or_create(&CallLabels {
                backend: backend.to_owned(),
                tool: self.catalogued.label(backend, name),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Names `backend` listed (tools, prompts, resource URIs): labels [`Metrics::observe_call`]
    /// may use.
    pub fn note_catalog<'a>(&self, backend: &str, names: impl IntoIterator<Item = &'a str>) {
        self.catalogued.note_names(backend, names);
    }

    /// Resource templates `backend` listed: a URI read through one is labelled with it.
    pub fn note_templates<'a>(&self, backend: &str, templates: impl IntoIterator<Item = &'a str>) {
        self.catalogued.note_templates(backend, templates);
    }

    pub fn record_upstream_error(&self, backend: &str, kind: UpstreamErrorKind) {
        self.upstream_errors
            .get_or_create(&UpstreamErrorLabels {
                backend: backend.to_owned(),
                kind,
            })
            .inc();
    }

    /// A refusal by `limit` (a [`crate::limits::names`] value, as in
    /// [`crate::limits::LimitExceeded::limit`]).
    pub fn record_rate_limited(&self, limit: &str) {
        self.rate_limited
            .get_or_create(&LimitLabels {
                limit: limit_label(limit),
            })
            .inc();
    }

    pub fn record_drift_alert(&self, backend: &str) {
        self.drift_alerts
            .get_or_create(&BackendLabels {
                backend: backend.to_owned(),
            })
            .inc();
    }

    pub fn set_sessions(&self, open: usize) {
        self.sessions.set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    pub fn session_opened(&self) {
        self.sessions.inc();
    }

    pub fn session_closed(&self) {
        self.sessions.dec();
    }

    pub fn record_token_exchange(&self, backend: &str, result: TokenExchangeResult) {
        self.token_exchange
            .get_or_create(&TokenExchangeLabels {
                backend: backend.to_owned(),
                result,
            })
            .inc();
    }

    /// A backend's connection state as last observed (by the start-up probe or any session).
    pub fn set_backend_up(&self, backend: &str, up: bool) {
        self.backend_up
            .get_or_create(&BackendLabels {
                backend: backend.to_owned(),
            })
            .set(i64::from(up));
        let mut b = self
            .backend_states
            .write()
            .unwrap_or_else(|p| p.into_inner());
        b.insert(backend.to_owned(), up);
    }

    /// Every backend's last observed state (see [`Metrics::set_backend_up`]).
    pub fn backend_states(&self) -> BTreeMap<String, bool> {
        self.backend_states
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every metric in the OpenMetrics text format (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail; a metric's own encoder could, and then what was
        // written so far is still worth serving.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Readiness.

/// The gateway's readiness: `(ready, checks)`, where `checks` is a JSON object shown in
/// `/readyz`. Called once per `/readyz` request on the async runtime, so it must not block.
pub type ReadyFn = Arc<dyn Fn() -> (bool, Value) + Send + Sync>;

/// A ready-made readiness state: named checks that must all pass (config loaded, policies
/// loaded, pins loaded, …) and backends' up/down state. Backends are reported but do not decide
/// readiness: a gateway with one backend down still serves the others, and taking it out of a
/// load balancer would take those down too.
#[derive(Debug, Default)]
pub struct Readiness {
    checks: RwLock<BTreeMap<String, bool>>,
    backends: RwLock<BTreeMap<String, bool>>,
}

impl Readiness {
    /// Readiness with `required` checks, none passed yet.
    pub fn new(required: &[&str]) -> Arc<Readiness> {
        Arc::new(Readiness {
            checks: RwLock::new(required.iter().map(|c| ((*c).to_owned(), false)).collect()),
            backends: RwLock::default(),
        })
    }

    /// Set a check (adding it if new: it then also becomes required).
    pub fn set(&self, check: &str, passed: bool) {
        let mut c = self.checks.write().unwrap_or_else(|p| p.into_inner());
        c.insert(check.to_owned(), passed);
    }

    pub fn set_backend(&self, backend: &str, up: bool) {
        let mut b = self.backends.write().unwrap_or_else(|p| p.into_inner());
        b.insert(backend.to_owned(), up);
    }

    /// `(every check passed, { check: bool, …, "backends": { name: "up" | "down" } })`.
    pub fn snapshot(&self) -> (bool, Value) {
        let checks = self.checks.read().unwrap_or_else(|p| p.into_inner());
        let backends = self.backends.read().unwrap_or_else(|p| p.into_inner());
        let ready = checks.values().all(|ok| *ok);
        let mut out = serde_json::Map::new();
        for (k, v) in checks.iter() {
            out.insert(k.clone(), Value::Bool(*v));
        }
        let b: serde_json::Map<String, Value> = backends
            .iter()
            .map(|(k, up)| (k.clone(), Value::from(if *up { "up" } else { "down" })))
            .collect();
        out.insert("backends".into(), Value::Object(b));
        (ready, Value::Object(out))
    }

    /// This state as the function the admin listener (`edge::admin`) takes.
    pub fn ready_fn(self: &Arc<Self>) -> ReadyFn {
        let me = self.clone();
        Arc::new(move || me.snapshot())
    }

    /// Like [`Readiness::ready_fn`], with backends as `metrics` last observed them (live: a
    /// session that loses a backend, or gets it back, changes what `/readyz` reports).
    pub fn live_fn(self: &Arc<Self>, metrics: Arc<Metrics>) -> ReadyFn {
        let me = self.clone();
        Arc::new(move || {
            for (b, up) in metrics.backend_states() {
                me.set_backend(&b, up);
            }
            me.snapshot()
        })
    }
}

#[cfg(test)]
mod tests;
