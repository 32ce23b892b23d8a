//! Refusals at the edge, recorded without letting a flood write the trail at its own pace.
//!
//! Every refusal before the router is an audit record: a token refused (`auth_failure`), a
//! session id that names no session or another principal's session. A client that sends
//! thousands a second must not add thousands of lines (issue 15, finding 8), so refusals are
//! grouped by source (an IPv4 address, an IPv6 /64, as the connection caps count them) and
//! reason: the first of a group in a window is recorded in full, the others are counted, and
//! when the window ends one summary record (same kind, `extra.summary` with the count, the
//! window, the first and last time) says how many were not written one by one.
//!
//! The groups tracked are bounded: a source may have [`MAX_REASONS_PER_SOURCE`] exact reasons
//! open at once (a client varying what it sends — a `kid`, an issuer — then shares one group per
//! kind of refusal), and there are at most [`MAX_GROUPS`] groups; past that, refusals from new
//! sources share one group per kind. So whatever the flood, the trail gains at most about two
//! records per group per window. Not covered: summaries still open when the gateway stops are
//! not written (their first record is).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::audit::{self, AuditRecord, ClientInfo};
use crate::guard::Guard;
use crate::identity::AuthError;

/// How long a group stays open: one summary record per group at most this often.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Most groups open at once.
pub const MAX_GROUPS: usize = 512;
/// Most exact reasons one source may have open; more share their kind's group.
pub const MAX_REASONS_PER_SOURCE: usize = 8;
/// Longest reason text that names a group (longer ones are cut).
const MAX_REASON_KEY: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Group {
    /// `None`: every source past [`MAX_GROUPS`].
    source: Option<IpAddr>,
    /// The kind of refusal (`expired`, `unknown_session`, …).
    kind: &'static str,
    /// The exact reason, while the source has few open.
    reason: Option<String>,
}

struct Open {
    opened: Instant,
    /// Refusals counted but not written one by one.
    counted: u64,
    record_kind: audit::Kind,
    /// The reason of the record that opened the group.
    reason: String,
    first: String,
    last: String,
}

#[derive(Default)]
struct State {
    open: HashMap<Group, Open>,
    /// Exact-reason groups open per source.
    exact: HashMap<IpAddr, usize>,
    flushing: bool,
}

/// Edge refusals for the audit trail, flood-summarised.
pub struct Refusals {
    window: Duration,
    state: Mutex<State>,
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals::new(WINDOW)
    }
}

impl Refusals {
    pub fn new(window: Duration) -> Refusals {
        Refusals {
            window,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record `rec`, a refusal of kind `kind` from `peer`: written now if it opens a group,
    /// else counted into the group's summary.
    pub fn record(
        self: &Arc<Self>,
        guard: &Arc<Guard>,
        peer: IpAddr,
        kind: &'static str,
        rec: AuditRecord,
    ) {
        let source = super::conn::address_key(peer);
        let reason = rec.reason.clone().unwrap_or_default();
        let now = Instant::now();
        let mut closed = None;
        let start_flusher;
        {
            let mut s = self.lock();
            let group = self.group_for(&mut s, source, kind, &reason);
            match s.open.get_mut(&group) {
                Some(o) if now.saturating_duration_since(o.opened) < self.window => {
                    o.counted += 1;
                    o.last = rec.time.clone();
                    return;
                }
                Some(o) => {
                    // Expired but not yet flushed: close it, then open it again.
                    closed = summary(&group, o, self.window);
                    *o = opened(now, &rec, reason);
                }
                None => {
                    if group.reason.is_some() {
                        *s.exact.entry(source).or_insert(0) += 1;
                    }
                    s.open.insert(group, opened(now, &rec, reason));
                }
            }
            start_flusher = !s.flushing;
            s.flushing = true;
        }
        if let Some(c) = closed {
            guard.event(c);
        }
        guard.event(rec);
        if start_flusher {
            let me = self.clone();
            let guard = guard.clone();
            tokio::spawn(async move { me.flush_until_idle(guard).await });
        }
    }

    /// The group a refusal counts in (see the module documentation for the bounds).
    fn group_for(&self, s: &mut State, source: IpAddr, kind: &'static str, reason: &str) -> Group {
        let exact = Group {
            source: Some(source),
            kind,
            reason: Some(reason.chars().take(MAX_REASON_KEY).collect()),
        };
        let room = s.open.len() < MAX_GROUPS;
        if s.open.contains_key(&exact)
            || (room && s.exact.get(&source).copied().unwrap_or(0) < MAX_REASONS_PER_SOURCE)
        {
            return exact;
        }
        let by_kind = Group {
            source: Some(source),
            kind,
            reason: None,
        };
        if s.open.contains_key(&by_kind) || room {
            return by_kind;
        }
        Group {
            source: None,
            kind,
            reason: None,
        }
    }

    /// Close groups as their windows end, writing a summary for each that counted anything;
    /// returns when no group is open.
    async fn flush_until_idle(self: Arc<Self>, guard: Arc<Guard>) {
        loop {
            let next = {
                let mut s = self.lock();
                match s.open.values().map(|o| o.opened + self.window).min() {
                    Some(t) => t,
                    None => {
                        s.flushing = false;
                        return;
                    }
                }
            };
            tokio::time::sleep_until(next.into()).await;
            let now = Instant::now();
            let summaries: Vec<AuditRecord> = {
                let mut s = self.lock();
                let expired: Vec<Group> = s
                    .open
                    .iter()
                    .filter(|(_, o)| now.saturating_duration_since(o.opened) >= self.window)
                    .map(|(g, _)| g.clone())
                    .collect();
                let mut out = Vec::new();
                for g in expired {
                    if let Some(o) = s.open.remove(&g) {
                        out.extend(summary(&g, &o, self.window));
                    }
                    if let (Some(src), Some(_)) = (g.source, &g.reason) {
                        if let Some(n) = s.exact.get_mut(&src) {
                            *n = n.saturating_sub(1);
                            if *n == 0 {
                                s.exact.remove(&src);
                            }
                        }
                    }
                }
                out
            };
            for rec in summaries {
                guard.event(rec);
            }
        }
    }
}

fn opened(now: Instant, rec: &AuditRecord, reason: String) -> Open {
    Open {
        opened: now,
        counted: 0,
        record_kind: rec.kind,
        reason,
        first: rec.time.clone(),
        last: rec.time.clone(),
    }
}

/// The record closing `group`, if it counted any refusal.
fn summary(group: &Group, o: &Open, window: Duration) -> Option<AuditRecord> {
    if o.counted == 0 {
        return None;
    }
    let source = group
        .source
        .map_or_else(|| "any address".to_owned(), |s| s.to_string());
    let mut rec = AuditRecord::new(o.record_kind, audit::Decision::Deny);
    rec.reason = Some(format!(
        "{} more refusal(s) like this from {source} within {} s, not recorded one by one: {}",
        o.counted,
        window.as_secs(),
        match &group.reason {
            Some(_) => o.reason.clone(),
            None => format!("{} (reasons vary)", group.kind),
        }
    ));
    rec.client = Some(ClientInfo {
        name: None,
        version: None,
        address: group.source.map(|s| s.to_string()),
        protocol: None,
    });
    rec.extra = Some(json!({ "summary": {
        "count": o.counted,
        "kind": group.kind,
        "source": source,
        "window_secs": window.as_secs(),
        "first": o.first,
        "last": o.last,
    }}));
    Some(rec)
}

/// The kind of a token refusal, as a group key: the variant, never text the token chose.
pub fn auth_kind(e: &AuthError) -> &'static str {
    match e {
        AuthError::Missing => "missing_token",
        AuthError::TokenInQuery => "token_in_query",
        AuthError::NotBearer => "not_bearer",
        AuthError::TooLong(_) => "token_too_long",
        AuthError::Malformed(_) => "malformed_token",
        AuthError::Algorithm(_) => "algorithm",
        AuthError::UnknownIssuer(_) => "unknown_issuer",
        AuthError::UnknownKey(_) => "unknown_key",
        AuthError::Invalid(_) => "invalid_token",
        AuthError::InsufficientScope(_) => "insufficient_scope",
        AuthError::KeysUnavailable(..) => "keys_unavailable",
        AuthError::NotNumericDate(..) => "not_numeric_date",
        AuthError::Crit(_) => "crit",
        AuthError::TokenType { .. } => "token_type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Arc<Guard> {
        let cfg = crate::config::Config::parse(
            "[listen]\naddress = \"127.0.0.1:0\"\n[auth]\nmode = \"anonymous\"\n\
             dangerous_allow_anonymous = true\n",
            "test.toml",
            std::path::Path::new("/tmp"),
        )
        .unwrap();
        Arc::new(Guard {
            policy: None,
            limits: Arc::new(
                crate::limits::Limits::new(
                    &cfg.limits,
                    crate::limits::Setup {
                        backends: &cfg.backend_names(),
                        session_retry: std::time::Duration::from_secs(
                            cfg.session.idle_timeout_secs,
                        ),
                        source_name: &cfg.source_name,
                    },
                )
                .unwrap(),
            ),
            audit: None,
            metrics: Arc::new(crate::telemetry::Metrics::new()),
        })
    }

    fn rec(reason: &str) -> AuditRecord {
        let mut r = AuditRecord::new(audit::Kind::AuthFailure, audit::Decision::Deny);
        r.reason = Some(reason.to_owned());
        r
    }

    fn counted(r: &Refusals) -> u64 {
        r.lock().open.values().map(|o| o.counted).sum()
    }

    #[tokio::test]
    async fn a_flood_from_one_source_opens_few_groups() {
        let r = Arc::new(Refusals::new(Duration::from_secs(3600)));
        let g = guard();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..1000 {
            // Same reason 500 times, then 500 different ones (a client varying its `kid`).
            let reason = if i < 500 {
                "token has expired".to_owned()
            } else {
                format!("no key `k{i}` in the issuer's key set")
            };
            let kind = if i < 500 {
                "invalid_token"
            } else {
                "unknown_key"
            };
            r.record(&g, ip, kind, rec(&reason));
        }
        let s = r.lock();
        // One exact group for `expired`, MAX_REASONS_PER_SOURCE - 1 exact `unknown_key`
        // groups, then one group for the rest of that kind.
        assert_eq!(s.open.len(), MAX_REASONS_PER_SOURCE + 1);
        drop(s);
        assert_eq!(counted(&r), 1000 - (MAX_REASONS_PER_SOURCE as u64 + 1));
    }

    #[tokio::test]
    async fn groups_are_bounded_whatever_the_sources() {
        let r = Arc::new(Refusals::new(Duration::from_secs(3600)));
        let g = guard();
        for i in 0..(MAX_GROUPS as u32 + 100) {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            r.record(&g, ip, "missing_token", rec("missing bearer token"));
        }
        let s = r.lock();
        assert_eq!(s.open.len(), MAX_GROUPS + 1);
        assert!(s.open.keys().any(|k| k.source.is_none()));
    }

    #[tokio::test]
    async fn a_closed_window_is_summarised_once() {
        let r = Arc::new(Refusals::new(Duration::from_millis(50)));
        let g = guard();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        for _ in 0..5 {
            r.record(&g, ip, "invalid_token", rec("token has expired"));
        }
        assert_eq!(counted(&r), 4);
        let s = {
            let o = r.lock();
            let (group, open) = o.open.iter().next().unwrap();
            summary(group, open, Duration::from_millis(50)).unwrap()
        };
        assert_eq!(s.extra.as_ref().unwrap()["summary"]["count"], 4);
        // An IPv6 source is its /64.
        assert_eq!(s.extra.as_ref().unwrap()["summary"]["source"], "2001:db8::");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            r.lock().open.is_empty(),
            "the flusher closes expired groups"
        );
        assert!(!r.lock().flushing);
    }
}
