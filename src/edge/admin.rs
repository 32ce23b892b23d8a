//! The admin listener: `/metrics`, `/healthz` and `/readyz`, separate from the MCP listener.
//!
//! `[admin] address = "127.0.0.1:9090"` (absent: none), plain HTTP, no authentication, so it
//! belongs on loopback or a private interface (`portcullis check` warns otherwise). It serves
//! `GET /metrics` (the registry of `telemetry::Metrics`), `GET /healthz` (200 while the process
//! runs) and `GET /readyz` (200 or 503 with `{ "ready": …, "checks": … }` from the gateway's
//! readiness function, e.g. a `telemetry::Readiness`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Body, full};
use crate::telemetry::Metrics;

/// Connections served at once; more are closed on accept. Scrapers and probes need a handful.
const MAX_ADMIN_CONNECTIONS: usize = 64;
/// Time allowed for a request's headers (and for a connection's first request).
const ADMIN_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serve `/metrics`, `/healthz` and `/readyz` on `listener` (plain HTTP/1.1) until `shutdown`
/// fires.
pub async fn serve_admin(
    listener: TcpListener,
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
        let builder = builder.clone();
        let conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let resp = admin_response(&req, &metrics, &*ready);
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
    metrics: &Metrics,
    ready: &(dyn Fn() -> (bool, Value) + Send + Sync),
) -> Response<Body> {
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
