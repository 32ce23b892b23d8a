//! The edge's side of `[cluster]`: 2025-era sessions this replica did not create, the session
//! caps across replicas, what a session request gets while Redis is unavailable, and requests
//! handed to the replica that holds what they continue.
//!
//! Two ways a request can land on a replica that lacks its state, two answers:
//! - a 2025-era session lives in the directory, so any replica rebuilds it (see
//!   `session::shared` for the choice and its cost);
//! - a call held open in one process (an MRTR round parked for a 2026-07-28 client, a task
//!   relayed by one replica) cannot be rebuilt, so the request is handed to its holder
//!   ([`hand_over`]): the same request (headers and body as received), sent to the holder's
//!   published address, its answer streamed back. The holder runs the whole chain on it (token,
//!   policy, limits, the single use of `requestState`, audit); the handing replica records that
//!   it handed it over. Cost: one more hop inside the cluster, only for these requests.

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

/// Request header a replica adds to a request it hands over: the holder serves it and never
/// hands it on (a client that sends it only opts out of being handed over).
pub(super) const HANDED_OVER: &str = "portcullis-handed-over-by";

/// Why the client for the other replicas cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum PeersError {
    #[error("not a PEM bundle of certificates: {0}")]
    Certificates(reqwest::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// How a replica reaches the others.
pub struct Peers {
    client: reqwest::Client,
}

impl Peers {
    /// A client for the other replicas' listeners: `roots` (PEM, the CA of their certificates
    /// or the certificate itself) are the only trusted roots; none: plaintext peers only.
    pub fn new(roots: Option<&[u8]>) -> Result<Peers, PeersError> {
        let roots = match roots {
            Some(pem) => {
                reqwest::Certificate::from_pem_bundle(pem).map_err(PeersError::Certificates)?
            }
            None => Vec::new(),
        };
        let b = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(2))
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .tls_certs_only(roots);
        Ok(Peers {
            client: b.build().map_err(PeersError::Client)?,
        })
    }
}

/// Hand `body` (a request that continues a call held by another replica) to that replica, and
/// return its answer. `None`: serve it here — no cluster, nothing held elsewhere, a request
/// already handed over, or the holder unreachable (then this replica's answer says so).
pub(super) async fn hand_over(
    gw: &Edge,
    headers: &http::HeaderMap,
    msg: &serde_json::Value,
    body: &bytes::Bytes,
    principal: &Principal,
    peer: std::net::SocketAddr,
) -> Option<http::Response<super::Body>> {
    let peers = gw.peers.as_ref()?;
    if headers.contains_key(HANDED_OVER) {
        return None;
    }
    let holder = gw.router.held_elsewhere(msg).await?;
    let cluster = gw.router.sealer().cluster()?;
    let record = |decision: audit::Decision, reason: String| {
        let mut rec = AuditRecord::new(audit::Kind::Call, decision);
        rec.principal = Some(principal.key());
        rec.method = crate::protocol::method(msg).map(str::to_owned);
        rec.request_id = msg.get("id").map(|v| v.to_string());
        rec.client = Some(audit::ClientInfo {
            address: Some(peer.to_string()),
            ..Default::default()
        });
        rec.reason = Some(reason);
        rec.extra = Some(serde_json::json!({ "holder": holder }));
        gw.router.guard.event(rec);
    };
    let address = match cluster.peer_address(&holder).await {
        Ok(Some(sealed)) => gw.router.sealer().open_address(&sealed, &holder),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(replica = %holder, error = %e, "the holder's address is unavailable");
            None
        }
    };
    let Some(base) = address else {
        record(
            audit::Decision::Error,
            format!("replica `{holder}` holds what this request continues and has no live address"),
        );
        return None;
    };
    let url = format!("{}{}", base.trim_end_matches('/'), gw.mcp_path);
    let mut req = peers.client.post(&url).body(body.clone());
    for (name, value) in headers {
        if !hop_by_hop(name) {
            req = req.header(name, value);
        }
    }
    req = req.header(HANDED_OVER, cluster.replica());
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(replica = %holder, %url, error = %e, "handing a request to its holder failed");
            record(
                audit::Decision::Error,
                format!(
                    "replica `{holder}` holds what this request continues and could not be reached: {e}"
                ),
            );
            return None;
        }
    };
    record(
        audit::Decision::Info,
        format!("handed to replica `{holder}`, which holds what this request continues"),
    );
    let mut out = http::Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    // Streamed as it comes; a holder that dies mid-answer ends the stream there.
    let frames = futures::StreamExt::map(
        futures::StreamExt::take_while(resp.bytes_stream(), |r| std::future::ready(r.is_ok())),
        |r| Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(r.unwrap_or_default())),
    );
    out.body(http_body_util::BodyExt::boxed_unsync(
        http_body_util::StreamBody::new(frames),
    ))
    .ok()
}

/// Headers of one connection, not of the request (RFC 9110 §7.6.1), and the length a new body
/// sets again.
fn hop_by_hop(name: &http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}
