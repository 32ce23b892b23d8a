//! The public listener: TLS, HTTP/1.1 and HTTP/2, and the MCP Streamable HTTP endpoint.
//!
//! The request path reads top to bottom in [`handle`]: host and origin checks, identity, then per
//! method the transport rules of MCP 2025-11-25 (headers, session id, body limits, JSON decode),
//! then the router with the request's context. Every refusal goes through
//! [`rescue::Rejection`]. The edge holds its own state ([`Edge`]), not the whole gateway.

pub mod admin;
pub mod cluster;
pub mod conn;
pub mod floods;
mod modern;
pub mod rescue;
pub mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::audit::{self, AuditRecord};
use crate::config::HttpLimits;
use crate::guard::Guard;
use crate::identity::{Authenticator, Principal};
use crate::protocol::{self, Kind, sse};
use crate::router::{Call, Next, Reply, Router};
use crate::session::{CapExceeded, Session, Store, new_session_id};
use rescue::Rejection;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed_unsync()
}

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What the public listener needs: the router, identity, the 2025-era sessions, and its own
/// limits and host rules.
pub struct Edge {
    pub router: Arc<Router>,
    pub auth: Arc<Authenticator>,
    pub sessions: Arc<Store>,
    pub http: HttpLimits,
    /// `session.max_sessions`: live sessions at most.
    pub max_sessions: usize,
    /// `listen.shutdown_grace_secs`.
    pub shutdown_grace: Duration,
    /// The MCP endpoint's path (from `listen.public_url`, default `/mcp`).
    pub mcp_path: String,
    pub allowed_hosts: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// Refusals before the router (tokens, session ids), recorded flood-summarised.
    pub refusals: Arc<floods::Refusals>,
    /// `[cluster]`: the session directory shared by replicas.
    pub directory: Option<Arc<crate::session::shared::Directory>>,
    /// `[cluster]`: how to reach the other replicas, to hand them what they hold.
    pub peers: Option<Arc<cluster::Peers>>,
}

impl Edge {
    fn guard(&self) -> &Guard {
        &self.router.guard
    }

    /// `Host` must name this gateway: the defence against DNS rebinding for clients that do not
    /// send `Origin`.
    pub fn host_allowed(&self, host: &str) -> bool {
        let name = host_without_port(host).to_ascii_lowercase();
        self.allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&name))
    }

    /// A browser `Origin` must be configured, or be an origin whose host is an allowed host.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        if self
            .allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
        {
            return true;
        }
        match url::Url::parse(origin) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
                u.host_str().is_some_and(|h| self.host_allowed(h))
            }
            _ => false,
        }
    }
}

fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

/// What a connection runs on: TCP or TLS over TCP, one type for both.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Accept connections until `shutdown` fires, then drain: the listener is closed at once (new
/// connections are refused), requests in flight get up to `[listen] shutdown_grace_secs` to
/// finish (HTTP/1.1 connections close after their response, HTTP/2 ones get GOAWAY; standalone
/// GET streams end), and whatever is still running then is cut off. Returns when no
/// connection is left; the caller then closes sessions and flushes the audit trail.
///
/// Per connection ([`conn`]): the connection caps are checked on accept (over a cap it is
/// closed at once, before any TLS handshake), a plaintext one that opens with the HTTP/2
/// preface is refused unless `dangerous_h2c`, and one without a request in flight for
/// `idle_timeout_secs` (`header_read_timeout_secs` before its first) is closed.
pub async fn serve(
    gw: Arc<Edge>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(gw.http.header_read_timeout_secs))
        .max_buf_size(gw.http.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(gw.http.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(Duration::from_secs(30)));
    // Plaintext: HTTP/1.1 only unless h2c is asked for by name (see `conn`). TLS: ALPN decides.
    let builder = Arc::new(if tls.is_none() && !gw.http.dangerous_h2c {
        builder.http1_only()
    } else {
        builder
    });
    let sniff_h2c = tls.is_none() && !gw.http.dangerous_h2c;
    let handshake_timeout = Duration::from_secs(gw.http.header_read_timeout_secs);
    let idle_timeout = Duration::from_secs(gw.http.idle_timeout_secs);
    let caps = conn::Caps::new(gw.http.max_connections, gw.http.max_connections_per_ip);
    let grace = gw.shutdown_grace;
    let connections = tokio_util::task::TaskTracker::new();
    // Fired when the grace period is over: connections still open are dropped.
    let cut_off = CancellationToken::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Over a cap: closed before it costs a task, a TLS handshake or a buffer.
        let Ok(permit) = caps.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let gw = gw.clone();
        let builder = builder.clone();
        let tls = tls.clone();
        let draining = shutdown.clone();
        let cut_off = cut_off.clone();
        connections.spawn(async move {
            let _permit = permit;
            let activity = conn::Activity::default();
            let streams_end = draining.clone();
            let requests = activity.clone();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                // From here until the response's last byte, the connection is not idle.
                let in_flight = requests.begin();
                let gw = gw.clone();
                let streams_end = streams_end.clone();
                async move {
                    let get = req.method() == Method::GET;
                    let resp = handle(gw, req, peer).await;
                    // A standalone GET stream never ends by itself: it ends at shutdown, so
                    // that its connection can close within the grace period. (Other GET
                    // answers keep their length.)
                    let standalone = get
                        && resp
                            .headers()
                            .get(header::CONTENT_TYPE)
                            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
                    let resp = if standalone {
                        end_at(resp, streams_end)
                    } else {
                        resp
                    };
                    Ok::<_, Infallible>(held_until_sent(resp, in_flight))
                }
            });
            let io: Box<dyn Io> = match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => Box::new(s),
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
                None if sniff_h2c => {
                    let plain = conn::http1_or_refuse_h2c(stream, handshake_timeout).await;
                    match plain {
                        Some(stream) => Box::new(stream),
                        None => return,
                    }
                }
                None => Box::new(stream),
            };
            let conn = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            let idle = activity.idle(handshake_timeout, idle_timeout);
            tokio::pin!(idle);
            let mut closing = false;
            let mut draining_started = false;
            let result = loop {
                tokio::select! {
                    r = conn.as_mut() => break r,
                    _ = &mut idle, if !closing => {
                        if !activity.started() {
                            // hyper's header read timeout only starts once hyper_util has read
                            // enough bytes to tell HTTP/1 from HTTP/2, so a client sending
                            // nothing (or one byte) is dropped here.
                            tracing::debug!(%peer, "no request within the header read timeout");
                            break Ok(());
                        }
                        let idle_secs = idle_timeout.as_secs();
                        tracing::debug!(%peer, idle_secs, "idle connection closed");
                        // HTTP/2: GOAWAY; HTTP/1.1: closed. Nothing is in flight, so this ends
                        // the connection unless a request raced in, which then finishes.
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    _ = draining.cancelled(), if !draining_started => {
                        // Finish the request in flight, accept no other on this connection.
                        conn.as_mut().graceful_shutdown();
                        draining_started = true;
                        closing = true;
                    }
                    _ = cut_off.cancelled() => {
                        tracing::warn!(%peer, "request still in flight at the end of the shutdown grace period; cut off");
                        break Ok(());
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    // Stop accepting: with the socket closed, new connections are refused by the OS at once
    // instead of queueing in the backlog until the process exits.
    drop(listener);
    connections.close();
    tracing::info!(
        connections = connections.len(),
        grace_secs = grace.as_secs(),
        "shutting down: listener closed, draining requests in flight"
    );
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        cut_off.cancel();
        // Dropping a connection is immediate; this only lets the tasks unwind.
        let _ = tokio::time::timeout(Duration::from_secs(1), connections.wait()).await;
    }
    tracing::info!("all connections closed");
}

/// `resp` with `in_flight` held until its body has been sent or dropped.
fn held_until_sent(resp: Response<Body>, in_flight: conn::InFlight) -> Response<Body> {
    resp.map(|body| conn::Held::new(body, in_flight).boxed_unsync())
}

/// `resp` with a body that ends when `token` fires.
fn end_at(resp: Response<Body>, token: CancellationToken) -> Response<Body> {
    resp.map(|body| {
        let frames = http_body_util::BodyStream::new(body).take_until(token.cancelled_owned());
        BodyExt::boxed_unsync(StreamBody::new(frames))
    })
}

/// The whole edge request path.
pub async fn handle(gw: Arc<Edge>, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    // Bounds reading the body and dispatching; a streamed response body is bounded by the
    // backend's own timeout instead.
    let limit = Duration::from_secs(gw.http.request_timeout_secs);
    // Everything done for this request, including the forwarding task a call spawns, runs in
    // this span; a valid client `traceparent` makes it part of the client's trace.
    let span = tracing::info_span!(
        "request",
        request_id = %crate::telemetry::trace::new_request_id(),
        method = %req.method(),
        path = %req.uri().path(),
        %peer,
    );
    crate::telemetry::trace::continue_trace(&span, req.headers());
    let outcome = match tokio::time::timeout(limit, route(&gw, req, peer))
        .instrument(span.clone())
        .await
    {
        Ok(r) => r,
        Err(_) => Err(Rejection::Timeout(limit.as_secs())),
    };
    match outcome {
        Ok(resp) => resp,
        Err(rejection) => {
            let _entered = span.enter();
            tracing::info!(%peer, status = %rejection.status(), reason = %rejection, "request refused");
            rejection.into_response()
        }
    }
}

async fn route(
    gw: &Arc<Edge>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, Rejection> {
    check_host(gw, &req)?;
    check_origin(gw, req.headers())?;
    let path = req.uri().path();
    if path == WELL_KNOWN_PRM || path.strip_prefix(WELL_KNOWN_PRM) == Some(gw.mcp_path.as_str()) {
        if req.method() != Method::GET {
            return Err(Rejection::MethodNotAllowed(req.method().to_string()));
        }
        return Ok(json_response(StatusCode::OK, &gw.auth.resource_metadata()));
    }
    if path != gw.mcp_path {
        return Err(Rejection::NotFound(gw.mcp_path.clone()));
    }
    // Identity before anything else on the endpoint: no session lookup, no body read.
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("<non-ascii>"));
    let caller = match gw.auth.authenticate(authorization, req.uri().query()).await {
        Ok(c) => c,
        Err(e) => {
            let challenge = gw.auth.challenge(&e);
            let mut rec = AuditRecord::new(audit::Kind::AuthFailure, audit::Decision::Deny);
            rec.reason = Some(e.to_string());
            rec.client = Some(audit::ClientInfo {
                name: None,
                version: None,
                address: Some(peer.to_string()),
                protocol: None,
            });
            // Unauthenticated: a flood of these is summarised, not written line by line.
            gw.refusals
                .record(&gw.router.guard, peer.ip(), floods::auth_kind(&e), rec);
            return Err(Rejection::Auth(e, challenge));
        }
    };
    match *req.method() {
        Method::POST => post(gw, req, caller, peer).await,
        Method::GET => get(gw, req, &caller.0, peer).await,
        Method::DELETE => delete(gw, req, &caller.0, peer).await,
        ref m => Err(Rejection::MethodNotAllowed(m.to_string())),
    }
}

const WELL_KNOWN_PRM: &str = "/.well-known/oauth-protected-resource";

type Caller = (Principal, Option<String>);

fn check_host(gw: &Edge, req: &Request<Incoming>) -> Result<(), Rejection> {
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    if gw.host_allowed(&host) {
        Ok(())
    } else {
        Err(Rejection::HostNotAllowed(host))
    }
}

fn check_origin(gw: &Edge, headers: &HeaderMap) -> Result<(), Rejection> {
    // No Origin: not a browser request, so DNS rebinding does not apply.
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("<non-ascii>");
    if gw.origin_allowed(origin) {
        Ok(())
    } else {
        Err(Rejection::OriginNotAllowed(origin.to_owned()))
    }
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|part| {
                let t = part
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                t == media
                    || t == "*/*"
                    || (t.ends_with("/*") && media.starts_with(t.trim_end_matches('*')))
            })
        })
}

fn check_version_header(headers: &HeaderMap) -> Result<(), Rejection> {
    if let Some(v) = headers.get(VERSION_HEADER) {
        let v = v.to_str().unwrap_or("");
        if !protocol::is_supported_version(v) {
            return Err(Rejection::UnsupportedVersion(
                v.to_owned(),
                protocol::SUPPORTED_VERSIONS.join(", "),
            ));
        }
    }
    Ok(())
}

/// The session named by the request, which must belong to the caller. With `[cluster]`, one
/// this replica does not hold is rebuilt from the directory (`cluster::adopt`). A refusal is
/// recorded (`auth_failure`, flood-summarised per source and reason): an unknown id may be a
/// stale client or someone guessing, another principal's id is someone trying a session not
/// theirs.
async fn session_of(
    gw: &Edge,
    headers: &HeaderMap,
    principal: &Principal,
    peer: SocketAddr,
    method: &str,
    token: Option<String>,
) -> Result<Arc<Session>, Rejection> {
    let named = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok());
    let refused = |rejection: Rejection, kind: &'static str, id: Option<&str>| {
        let mut rec = AuditRecord::new(audit::Kind::AuthFailure, audit::Decision::Deny);
        rec.principal = Some(principal.key());
        // The client chose the id: a bounded prefix identifies it well enough.
        rec.session_id = id.map(|i| i.chars().take(64).collect());
        rec.method = Some(method.to_owned());
        rec.reason = Some(rejection.to_string());
        rec.client = Some(audit::ClientInfo {
            name: None,
            version: None,
            address: Some(peer.to_string()),
            protocol: None,
        });
        gw.refusals.record(&gw.router.guard, peer.ip(), kind, rec);
        rejection
    };
    let Some(id) = named else {
        return Err(refused(Rejection::MissingSession, "missing_session", None));
    };
    let session = match gw.sessions.get(id) {
        Some(s) => s,
        None => match cluster::adopt(gw, id, principal, token).await {
            Ok(s) => s,
            Err(Rejection::UnknownSession) => {
                return Err(refused(
                    Rejection::UnknownSession,
                    "unknown_session",
                    Some(id),
                ));
            }
            // Already counted and recorded by the cluster (limits, Redis away).
            Err(other) => return Err(other),
        },
    };
    if session.owner.key() != principal.key() {
        tracing::warn!(session = %session.id, owner = %session.owner.key(), caller = %principal.key(), "session used by another principal");
        return Err(refused(
            Rejection::SessionOfAnother,
            "session_of_another",
            Some(id),
        ));
    }
    Ok(session)
}

/// The body of a POST: bounded in size and in pace (`conn::read_body`).
async fn read_body(body: Incoming, http: &HttpLimits) -> Result<Bytes, Rejection> {
    conn::read_body(body, http).await
}

/// The transport rules of a POST checked before its body is read: `Accept`, `Content-Type`,
/// `MCP-Protocol-Version`, and a declared `Content-Length` over the limit.
pub fn check_post_headers(headers: &HeaderMap, max_body_bytes: usize) -> Result<(), Rejection> {
    if !(accepts(headers, "application/json") && accepts(headers, "text/event-stream")) {
        return Err(Rejection::NotAcceptable(
            "both `application/json` and `text/event-stream`",
        ));
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.split(';').next().map(str::trim) != Some("application/json") {
        return Err(Rejection::UnsupportedMediaType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_body_bytes) {
        return Err(Rejection::PayloadTooLarge(max_body_bytes));
    }
    Ok(())
}

/// What [`post`] does to a request before the session, on a body already read (no socket):
/// the header rules, the body limit and the JSON-RPC decode. The `http_request` fuzz target
/// runs raw HTTP/1.1 requests through it.
pub fn decode_post(
    headers: &HeaderMap,
    body: &[u8],
    max_body_bytes: usize,
    max_json_depth: usize,
) -> Result<(Value, Kind), Rejection> {
    check_post_headers(headers, max_body_bytes)?;
    if body.len() > max_body_bytes {
        return Err(Rejection::PayloadTooLarge(max_body_bytes));
    }
    let (msg, kind) = protocol::decode(body, max_json_depth)?;
    if !modern::is_modern(&msg, headers) {
        check_version_header(headers)?;
    }
    Ok((msg, kind))
}

async fn post(
    gw: &Arc<Edge>,
    req: Request<Incoming>,
    caller: Caller,
    peer: SocketAddr,
) -> Result<Response<Body>, Rejection> {
    let headers = req.headers().clone();
    let limit = gw.http.max_body_bytes;
    check_post_headers(&headers, limit)?;
    let bytes = read_body(req.into_body(), &gw.http).await?;
    let (msg, kind) = protocol::decode(&bytes, gw.http.max_json_depth)?;
    // A 2026-07-28 request has no session: its own envelope says who the client is.
    if modern::is_modern(&msg, &headers) {
        return modern::post(gw, &headers, msg, &bytes, kind, caller, peer).await;
    }
    check_version_header(&headers)?;

    if kind == Kind::Request
        && protocol::method(&msg) == Some("initialize")
        && !headers.contains_key(SESSION_HEADER)
    {
        gw.guard().metrics.record_request("initialize");
        let rpc = tracing::info_span!(
            "rpc",
            rpc_method = "initialize",
            rpc_id = %msg.get("id").unwrap_or(&serde_json::Value::Null),
        );
        return initialize(gw, msg, caller, peer).instrument(rpc).await;
    }
    if let Some(m) = protocol::method(&msg) {
        gw.guard().metrics.record_request(m);
    }
    let (principal, token) = caller;
    let method = protocol::method(&msg).unwrap_or("(response)");
    let session = session_of(gw, &headers, &principal, peer, method, token.clone()).await?;
    cluster::still_live(gw, &session).await?;
    session.touch();
    session.view.links.set_token(token);
    // Decided with this request's own principal (its claims), never the session opener's.
    let cx = session.context(Arc::new(principal));
    let router = &gw.router;
    let rpc = tracing::info_span!(
        "rpc",
        session = %session.id,
        rpc_method = protocol::method(&msg).unwrap_or("-"),
        rpc_id = %msg.get("id").unwrap_or(&serde_json::Value::Null),
    );
    async move {
        match kind {
            // Every response after initialize is an SSE stream, as the backends we front most
            // often answer: clients then see one behaviour whatever the method. A response
            // with nothing before it is one event in one body (one write, no task); a call
            // whose backend relates messages to it first (progress, logging, sampling,
            // elicitation) streams them as they come, the response last.
            Kind::Request => Ok(match router.handle_request(&cx, msg).await {
                Reply::Json(v) => sse_single(&v),
                Reply::Call(mut call) => match call.next().await {
                    Some(Next::Response(v)) => sse_single(&v),
                    Some(Next::Related(first)) => call_stream(first, call),
                    None => sse_single(&protocol::error_response(
                        Value::Null,
                        protocol::code::INTERNAL_ERROR,
                        "the call ended without a response",
                        None,
                    )),
                },
            }),
            Kind::Notification => {
                router.handle_notification(&cx, msg).await;
                Ok(accepted())
            }
            Kind::Response => {
                router.handle_response(&cx, msg).await;
                Ok(accepted())
            }
        }
    }
    .instrument(rpc)
    .await
}

async fn initialize(
    gw: &Arc<Edge>,
    msg: Value,
    caller: Caller,
    peer: SocketAddr,
) -> Result<Response<Body>, Rejection> {
    let key = caller.0.key();
    let guard = gw.guard();
    // The caps count this session from here on, so concurrent `initialize` requests cannot all
    // pass a check made before any of them is stored.
    let reservation = match gw.sessions.reserve(&key, gw.max_sessions, |mine| {
        guard.limits.check_session(&key, mine)
    }) {
        Ok(r) => r,
        Err(CapExceeded::Total(max)) => return Err(Rejection::TooManySessions(max)),
        Err(CapExceeded::Principal(e)) => {
            guard.metrics.record_rate_limited(&e.limit);
            let mut rec = AuditRecord::new(audit::Kind::RateLimited, audit::Decision::Deny);
            rec.principal = Some(key);
            rec.method = Some("initialize".into());
            rec.reason = Some(e.to_string());
            guard.event(rec);
            return Err(Rejection::RateLimited(e.to_string(), e.retry_after_secs()));
        }
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let params = msg
        .get("params")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let (principal, token) = caller;
    let sid = new_session_id();
    cluster::open(gw, &sid, &principal, &params, &peer.to_string()).await?;
    let session = Session::start(
        gw.router.clone(),
        sid,
        params,
        principal,
        token,
        peer.to_string(),
    )
    .await;
    let who = session.owner.key();
    let result = session.initialize_result();
    let sid = session.id.clone();
    let start = session
        .caller()
        .record(audit::Kind::SessionStart, audit::Decision::Info);
    reservation.fill(session);
    tracing::info!(session = %sid, principal = %who, "session started");
    guard.metrics.session_opened();
    guard.event(start);
    let mut resp = json_response(StatusCode::OK, &protocol::result_response(id, result));
    if let Ok(v) = HeaderValue::from_str(&sid) {
        resp.headers_mut().insert(SESSION_HEADER, v);
    }
    Ok(resp)
}

async fn get(
    gw: &Arc<Edge>,
    req: Request<Incoming>,
    principal: &Principal,
    peer: SocketAddr,
) -> Result<Response<Body>, Rejection> {
    if !accepts(req.headers(), "text/event-stream") {
        return Err(Rejection::NotAcceptable("`text/event-stream`"));
    }
    check_version_header(req.headers())?;
    let session = session_of(gw, req.headers(), principal, peer, "GET", None).await?;
    cluster::still_live(gw, &session).await?;
    session.touch();
    let rx = session.open_get_stream();
    Ok(sse_response(rx, true))
}

async fn delete(
    gw: &Arc<Edge>,
    req: Request<Incoming>,
    principal: &Principal,
    peer: SocketAddr,
) -> Result<Response<Body>, Rejection> {
    check_version_header(req.headers())?;
    let id = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Rejection::MissingSession)?;
    // With `[cluster]`: ended in the directory, and every replica closes its copy.
    let ended_elsewhere = match gw.sessions.get(id) {
        Some(_) => false,
        None => cluster::end(gw, id, principal).await?,
    };
    if ended_elsewhere {
        tracing::info!(session = %id, "session ended by client (held by other replicas)");
        let mut resp = Response::new(full(Bytes::new()));
        *resp.status_mut() = StatusCode::OK;
        return Ok(resp);
    }
    let session = session_of(gw, req.headers(), principal, peer, "DELETE", None).await?;
    if let Some(dir) = &gw.directory
        && let Err(e) = dir.end(&session.id, &principal.key()).await
    {
        // The record expires by itself; other replicas' copies then end on their next touch.
        tracing::warn!(session = %session.id, error = %e, "session not ended in the cluster's directory");
    }
    gw.sessions.remove(&session.id);
    session.close().await;
    gw.guard().metrics.session_closed();
    gw.guard().event(
        session
            .caller()
            .record(audit::Kind::SessionEnd, audit::Decision::Info),
    );
    tracing::info!(session = %session.id, "session ended by client");
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::OK;
    Ok(resp)
}

fn accepted() -> Response<Body> {
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::ACCEPTED;
    resp
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    let mut resp = Response::new(full(Bytes::from(v.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// An SSE response of exactly one event, the whole body known.
fn sse_single(msg: &Value) -> Response<Body> {
    sse(full(sse::encode_value(msg)))
}

/// A `text/event-stream` response with `body`.
fn sse(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The SSE stream of a call whose backend sent `first` before answering. The connection's own
/// task drives the rest of the call as the client reads the stream.
fn call_stream(first: Value, call: Call) -> Response<Body> {
    let stream = futures::stream::unfold((Some(first), Some(call)), |(first, call)| async move {
        let msg = match first {
            Some(m) => m,
            None => {
                let mut call = call?;
                let span = call.span().clone();
                match call.next().instrument(span).await? {
                    Next::Related(m) => return Some((frame(&m), (None, Some(call)))),
                    Next::Response(m) => return Some((frame(&m), (None, None))),
                }
            }
        };
        Some((frame(&msg), (None, call)))
    });
    fn frame(m: &Value) -> Result<Frame<Bytes>, Infallible> {
        Ok(Frame::data(Bytes::from(sse::encode_value(m))))
    }
    sse(BodyExt::boxed_unsync(StreamBody::new(stream)))
}

/// An SSE response fed by `rx`. With `keepalive`, a comment line every few seconds lets both
/// sides notice a dead peer on otherwise idle standalone streams.
fn sse_response(mut rx: mpsc::Receiver<Value>, keepalive: bool) -> Response<Body> {
    let (tx, body_rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        // The first tick is one period away. (Awaiting an `interval`'s immediate first tick
        // instead waits for the timer wheel's next millisecond: up to 1 ms on every response.)
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        loop {
            let frame = tokio::select! {
                m = rx.recv() => match m {
                    Some(v) => Bytes::from(sse::encode_value(&v)),
                    None => return,
                },
                _ = tick.tick(), if keepalive => Bytes::from_static(b": keepalive\n\n"),
            };
            if tx.send(frame).await.is_err() {
                return;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(body_rx)
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    sse(BodyExt::boxed_unsync(StreamBody::new(stream)))
}

#[cfg(test)]
mod tests {
    use super::host_without_port;

    #[test]
    fn strips_ports_from_hosts() {
        assert_eq!(host_without_port("localhost:8080"), "localhost");
        assert_eq!(host_without_port("[::1]:8080"), "::1");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[::1]"), "::1");
    }
}
