//! The edge's side of `[cluster]`: 2025-era sessions this replica did not create, the session
//! caps across replicas, and what a session request gets while Redis is unavailable. The
//! choice (rebuild a session from the directory, not forward to its creator) and its cost are
//! in `session::shared`.

use std::sync::Arc;

use super::Edge;
use super::rescue::Rejection;
use crate::audit::{self, AuditRecord};
use crate::identity::Principal;
use crate::session::Session;
use crate::session::shared::Refused;

/// The local copy of session `id` of `principal`, rebuilt from the directory when this
/// replica has none. Without `[cluster]`: unknown.
pub(super) async fn adopt(
    gw: &Edge,
    id: &str,
    principal: &Principal,
    token: Option<String>,
) -> Result<Arc<Session>, Rejection> {
    let Some(dir) = &gw.directory else {
        return Err(Rejection::UnknownSession);
    };
    match dir
        .adopt(
            &gw.sessions,
            &gw.router,
            gw.max_sessions,
            id,
            principal,
            token,
        )
        .await
    {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(Rejection::UnknownSession),
        Err(r) => Err(refused(gw, &principal.key(), "session request", r)),
    }
}

/// Whether `session` is still live in the directory (a touch, at most every so often). A
/// session ended or expired elsewhere ends here too: unknown.
pub(super) async fn still_live(gw: &Edge, session: &Session) -> Result<(), Rejection> {
    let Some(dir) = &gw.directory else {
        return Ok(());
    };
    if dir.touch(session).await {
        return Ok(());
    }
    if gw.sessions.remove(&session.id).is_some() {
        session.close().await;
        gw.router.guard.metrics.session_closed();
        tracing::info!(session = %session.id, "session ended elsewhere in the cluster; local copy closed");
    }
    dir.forget(&session.id);
    Err(Rejection::UnknownSession)
}

/// Register a new session in the directory (the cluster-wide caps).
pub(super) async fn open(
    gw: &Edge,
    id: &str,
    principal: &Principal,
    params: &serde_json::Value,
    address: &str,
) -> Result<(), Rejection> {
    let Some(dir) = &gw.directory else {
        return Ok(());
    };
    let max_per = gw.router.guard.limits.max_sessions();
    dir.open(id, principal, params, address, gw.max_sessions, max_per)
        .await
        .map_err(|r| refused(gw, &principal.key(), "initialize", r))
}

/// End session `id` across the cluster. `Ok(false)`: the directory has no such session of
/// `principal` (nothing was ended).
pub(super) async fn end(gw: &Edge, id: &str, principal: &Principal) -> Result<bool, Rejection> {
    let Some(dir) = &gw.directory else {
        return Ok(false);
    };
    let unavailable = |e: crate::cluster::ClusterError| {
        refused(
            gw,
            &principal.key(),
            "DELETE",
            Refused::Unavailable(e.to_string()),
        )
    };
    if !dir.owns(id, principal).await.map_err(unavailable)? {
        return Ok(false);
    }
    dir.end(id, &principal.key()).await.map_err(unavailable)
}

/// A session refusal by the directory: counted, audited, and the HTTP answer.
pub(super) fn refused(gw: &Edge, principal_key: &str, method: &str, r: Refused) -> Rejection {
    let guard = &gw.router.guard;
    match r {
        Refused::Total(max) => Rejection::TooManySessions(max),
        Refused::Principal(e) => {
            guard.metrics.record_rate_limited(&e.limit);
            let mut rec = AuditRecord::new(audit::Kind::RateLimited, audit::Decision::Deny);
            rec.principal = Some(principal_key.to_owned());
            rec.method = Some(method.into());
            rec.reason = Some(format!("{e} [{}]", e.rule));
            guard.event(rec);
            Rejection::RateLimited(e.to_string(), e.retry_after_secs())
        }
        Refused::Unavailable(reason) => {
            guard
                .metrics
                .record_rate_limited(crate::limits::names::CLUSTER_UNAVAILABLE);
            let mut rec = AuditRecord::new(audit::Kind::RateLimited, audit::Decision::Deny);
            rec.principal = Some(principal_key.to_owned());
            rec.method = Some(method.into());
            rec.reason = Some(format!(
                "refused: the cluster's session directory is unavailable (redis: {reason}); \
                 fail closed"
            ));
            guard.event(rec);
            Rejection::ClusterUnavailable(reason)
        }
    }
}
