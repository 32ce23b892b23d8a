//! The admin listener: `/metrics`, `/healthz` and `/readyz`, separate from the MCP listener.
//!
//! `[admin] address = "127.0.0.1:9090"` (absent: none), plain HTTP, so it belongs on loopback or
//! a private interface (`portcullis check` warns otherwise). It serves `GET /metrics` (the
//! registry of `telemetry::Metrics`), `GET /healthz` (200 while the process runs) and
//! `GET /readyz` (200 or 503 with `{ "ready": …, "checks": … }` from the gateway's readiness
//! function, e.g. a `telemetry::Readiness`).
//!
//! Every request passes the same kind of `Host` and `Origin` check as the MCP listener ([`Access`],
//! 403 otherwise), so a page whose name an attacker rebinds to this address cannot read it. An IP
//! literal in `Host` is accepted: a rebinding page always sends its own name, and probes and
//! scrapers that reach the listener by IP (Kubernetes, Prometheus service discovery) keep working.
//! `/metrics` also requires `Authorization: Bearer <token>` when `metrics_token` is set (401
//! otherwise); health and readiness never do, so probes need no secret.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Body, full, host_without_port};
use crate::config::{ConfigError, SecretOrValue};
use crate::telemetry::{AdminConfig, Metrics};

/// Connections served at once; more are closed on accept. Scrapers and probes need a handful.
const MAX_ADMIN_CONNECTIONS: usize = 64;
/// Time allowed for a request's headers (and for a connection's first request).
const ADMIN_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("`admin.metrics_token`: {0}")]
    Token(ConfigError),
    #[error("`admin.metrics_token` resolves to an empty string; put the token in the secret")]
    EmptyToken,
}

/// Who may ask the admin listener what: the `Host` and `Origin` rules and the metrics token.
#[derive(Clone)]
pub struct Access {
    /// Names (not IP literals) accepted in `Host`, lower case.
    names: Vec<String>,
    origins: Vec<String>,
    /// The listener is on a loopback address: loopback pages are not foreign origins.
    loopback: bool,
    /// SHA-256 of the metrics token: compared digest to digest, so the comparison time says
    /// nothing about the token.
    metrics_token: Option<[u8; 32]>,
}

impl Access {
    /// The rules of a listener bound to `bound`, from its `[admin]` section (secrets resolved
    /// against `base`).
    pub fn new(cfg: &AdminConfig, bound: SocketAddr, base: &Path) -> Result<Access, AdminError> {
        let mut access = Access::for_address(bound);
        if let Some(names) = &cfg.allowed_hosts {
            access.names = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        }
        access.origins = cfg.allowed_origins.clone();
        if let Some(r) = &cfg.metrics_token {
            let token = SecretOrValue::Ref(r.clone())
                .resolve(base)
                .map_err(AdminError::Token)?;
            if token.is_empty() {
                return Err(AdminError::EmptyToken);
            }
            access.metrics_token = Some(Sha256::digest(token.as_bytes()).into());
        }
        Ok(access)
    }

    /// The default rules for `bound`: loopback names on a loopback address, IP literals always,
    /// no token.
    pub fn for_address(bound: SocketAddr) -> Access {
        let loopback = bound.ip().is_loopback();
        let names = if loopback {
            vec!["localhost".to_owned()]
        } else {
            Vec::new()
        };
        Access {
            names,
            origins: Vec::new(),
            loopback,
            metrics_token: None,
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_without_port(host);
        name.parse::<IpAddr>().is_ok() || self.name_allowed(name)
    }

    fn name_allowed(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// A browser origin: configured, or one whose host is an allowed name or a loopback
    /// address of a loopback listener (unlike `Host`, not any IP: a page on another address
    /// is another site).
    fn origin_allowed(&self, origin: &str) -> bool {
        if self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return true;
        }
        match url::Url::parse(origin) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => match u.host() {
                Some(url::Host::Domain(d)) => self.name_allowed(d),
                Some(url::Host::Ipv4(ip)) => self.loopback && ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => self.loopback && ip.is_loopback(),
                None => false,
            },
            _ => false,
        }
    }

    /// `Host` (or the authority of an absolute-form target) and `Origin`: a 403 when either is
    /// foreign.
    fn check_request(&self, req: &Request<Incoming>) -> Result<(), Refusal> {
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| header_text(req.headers(), header::HOST))
            .unwrap_or_default();
        if !self.host_allowed(&host) {
            return Err(Refusal::Host(host));
        }
        if let Some(origin) = header_text(req.headers(), header::ORIGIN) {
            if !self.origin_allowed(&origin) {
                return Err(Refusal::Origin(origin));
            }
        }
        Ok(())
    }

    /// The metrics token, when one is configured: a 401 with a challenge otherwise.
    fn check_token(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(want) = &self.metrics_token else {
            return Ok(());
        };
        let presented = header_text(headers, header::AUTHORIZATION).and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
        let Some(token) = presented else {
            return Err(Refusal::NoToken);
        };
        let got: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if got.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0 {
            Ok(())
        } else {
            Err(Refusal::WrongToken)
        }
    }
}

/// Why the admin listener refused a request.
#[derive(Debug)]
enum Refusal {
    Host(String),
    Origin(String),
    NoToken,
    WrongToken,
}

impl Refusal {
    fn into_response(self) -> Response<Body> {
        let (status, body, challenge) = match self {
            Refusal::Host(host) => (
                StatusCode::FORBIDDEN,
                format!(
                    "forbidden: host `{host}` is not allowed on the admin listener; add it to \
                     `admin.allowed_hosts` (or address the listener by IP)\n"
                ),
                None,
            ),
            Refusal::Origin(origin) => (
                StatusCode::FORBIDDEN,
                format!(
                    "forbidden: origin `{origin}` is not allowed on the admin listener; add it \
                     to `admin.allowed_origins`\n"
                ),
                None,
            ),
            Refusal::NoToken => (
                StatusCode::UNAUTHORIZED,
                "unauthorized: `/metrics` needs `Authorization: Bearer <token>` with the \
                 `admin.metrics_token`\n"
                    .to_owned(),
                Some("Bearer realm=\"portcullis-admin\""),
            ),
            Refusal::WrongToken => (
                StatusCode::UNAUTHORIZED,
                "unauthorized: the bearer token is not the `admin.metrics_token`\n".to_owned(),
                Some("Bearer realm=\"portcullis-admin\", error=\"invalid_token\""),
            ),
        };
        let mut r = Response::new(full(body));
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(c) = challenge {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        r
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or("<non-ascii>").to_owned())
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `listener` (plain HTTP/1.1) until `shutdown`
/// fires.
pub async fn serve_admin(
    listener: TcpListener,
    access: Access,
    metrics: Arc<Metrics>,
    ready: Arc<dyn Fn() -> (bool, Value) + Send + Sync>,
    shutdown: CancellationToken,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(ADMIN_HEADER_TIMEOUT);
    let builder = Arc::new(builder);
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_ADMIN_CONNECTIONS));
    let access = Arc::new(access);
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "admin listener busy; connection closed");
            continue;
        };
        let metrics = metrics.clone();
        let ready = ready.clone();
        let access = access.clone();
        let builder = builder.clone();
        let conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let resp = admin_response(&req, &access, &metrics, &*ready);
                async move { Ok::<_, Infallible>(resp) }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let result = tokio::select! {
                r = conn => r,
                _ = conn_shutdown.cancelled() => Ok(()),
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "admin connection ended with an error");
            }
        });
    }
}

fn admin_response(
    req: &Request<Incoming>,
    access: &Access,
    metrics: &Metrics,
    ready: &(dyn Fn() -> (bool, Value) + Send + Sync),
) -> Response<Body> {
    if let Err(refusal) = access.check_request(req) {
        return refusal.into_response();
    }
    let path = req.uri().path();
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /healthz or /readyz\n",
        );
    }
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut resp = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: use GET\n",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    if path == "/metrics" {
        if let Err(refusal) = access.check_token(req.headers()) {
            return refusal.into_response();
        }
    }
    let mut resp = match path {
        "/metrics" => {
            let mut r = Response::new(full(metrics.encode()));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
            r
        }
        "/readyz" => {
            let (ok, checks) = ready();
            let body = json!({ "ready": ok, "checks": checks });
            let mut r = Response::new(full(body.to_string()));
            *r.status_mut() = if ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        _ => text(StatusCode::OK, "ok"),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // HEAD: hyper sends the headers (with the GET's length) and drops the body.
    resp
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
