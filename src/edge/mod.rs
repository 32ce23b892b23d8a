//! The public listener: TLS, HTTP/1.1 and HTTP/2, and the MCP Streamable HTTP endpoint.
//!
//! The request path reads top to bottom in [`handle`]: host and origin checks, identity, then per
//! method the transport rules of MCP 2025-11-25 (headers, session id, body limits, JSON decode),
//! then the router with the request's context. Every refusal goes through
//! [`rescue::Rejection`]. The edge holds its own state ([`Edge`]), not the whole gateway.

pub mod admin;
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
    let builder = Arc::new(builder);
    let handshake_timeout = Duration::from_secs(gw.http.header_read_timeout_secs);
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
        let _ = stream.set_nodelay(true);
        let gw = gw.clone();
        let builder = builder.clone();
        let tls = tls.clone();
        let draining = shutdown.clone();
        let cut_off = cut_off.clone();
        connections.spawn(async move {
            // hyper's header read timeout only starts once hyper_util has read enough bytes to
            // tell HTTP/1 from HTTP/2, so a client sending nothing (or one byte) would hold the
            // connection forever: bound the wait for the first request here too.
            let first_request = CancellationToken::new();
            let seen = first_request.clone();
            let idle = async move {
                tokio::select! {
                    _ = first_request.cancelled() => std::future::pending::<()>().await,
                    _ = tokio::time::sleep(handshake_timeout) => {
                        tracing::debug!(%peer, "no request within the header read timeout");
                    }
                }
            };
            let streams_end = draining.clone();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                seen.cancel();
                let gw = gw.clone();
                let streams_end = streams_end.clone();
                async move {
                    let standalone = req.method() == Method::GET;
                    let resp = handle(gw, req, peer).await;
                    // A standalone GET stream never ends by itself: it ends at shutdown, so
                    // that its connection can close within the grace period.
                    Ok::<_, Infallible>(if standalone {
                        end_at(resp, streams_end)
                    } else {
                        resp
                    })
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
                None => Box::new(stream),
            };
            let conn = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = idle => Ok(()),
                _ = draining.cancelled() => {
                    // Finish the request in flight, accept no other on this connection.
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        r = conn.as_mut() => r,
                        _ = cut_off.cancelled() => {
                            tracing::warn!(%peer, "request still in flight at the end of the shutdown grace period; cut off");
                            Ok(())
                        }
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
            });
            gw.guard().event(rec);
            return Err(Rejection::Auth(e, challenge));
        }
    };
    match *req.method() {
        Method::POST => post(gw, req, caller, peer).await,
        Method::GET => get(gw, req, &caller.0),
        Method::DELETE => delete(gw, req, &caller.0).await,
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

/// The session named by the request, which must belong to the caller.
fn session_of(
    gw: &Edge,
    headers: &HeaderMap,
    principal: &Principal,
) -> Result<Arc<Session>, Rejection> {
    let id = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Rejection::MissingSession)?;
    let session = gw.sessions.get(id).ok_or(Rejection::UnknownSession)?;
    if session.owner.key() != principal.key() {
        tracing::warn!(session = %session.id, owner = %session.owner.key(), caller = %principal.key(), "session used by another principal");
        return Err(Rejection::SessionOfAnother);
    }
    Ok(session)
}

async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, Rejection> {
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(Rejection::PayloadTooLarge(limit))
            } else {
                Err(Rejection::BodyRead(e.to_string()))
            }
        }
    }
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
    check_version_header(headers)?;
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
    Ok(protocol::decode(body, max_json_depth)?)
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
    let bytes = read_body(req.into_body(), limit).await?;
    let (msg, kind) = protocol::decode(&bytes, gw.http.max_json_depth)?;

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
    let session = session_of(gw, &headers, &principal)?;
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
    let session = Session::start(
        gw.router.clone(),
        new_session_id(),
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

fn get(
    gw: &Arc<Edge>,
    req: Request<Incoming>,
    principal: &Principal,
) -> Result<Response<Body>, Rejection> {
    if !accepts(req.headers(), "text/event-stream") {
        return Err(Rejection::NotAcceptable("`text/event-stream`"));
    }
    check_version_header(req.headers())?;
    let session = session_of(gw, req.headers(), principal)?;
    session.touch();
    let rx = session.open_get_stream();
    Ok(sse_response(rx, true))
}

async fn delete(
    gw: &Arc<Edge>,
    req: Request<Incoming>,
    principal: &Principal,
) -> Result<Response<Body>, Rejection> {
    check_version_header(req.headers())?;
    let session = session_of(gw, req.headers(), principal)?;
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
    sse(full(sse::encode_message(&msg.to_string(), None)))
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
        Ok(Frame::data(Bytes::from(sse::encode_message(
            &m.to_string(),
            None,
        ))))
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
                    Some(v) => Bytes::from(sse::encode_message(&v.to_string(), None)),
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
