// Bench code: a failed setup should stop the floor process loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The performance floor for the e2e bench: a *bare* HTTPS reverse proxy. It terminates TLS,
//! serves HTTP/1.1 with hyper, and forwards each request to one backend with a keep-alive
//! HTTP/1.1 client, then returns the backend's response. No auth, no policy, no JSON parsing.
//!
//! Measured through this, the e2e numbers answer "what do the extra TLS hop, a hyper server and
//! an HTTP client cost on this machine"; whatever the gateway adds beyond that is its own work.
//!
//! The client is reqwest (HTTP/1.1 only, `TCP_NODELAY`, no proxy), the same client stack the
//! gateway uses: `Cargo.toml` does not enable hyper-util's `client-legacy` feature itself.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Request headers forwarded to the backend (`authorization`, `host`, `content-length` are not).
const REQUEST_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];
/// Response headers returned to the client.
const RESPONSE_HEADERS: &[&str] = &["content-type", "mcp-session-id", "cache-control"];

/// Runs forever (call from a process started only for this): listens on 127.0.0.1 with an
/// OS-assigned port, prints exactly one line `floor proxy listening on https://127.0.0.1:<port>/mcp`
/// to stdout (then flushes), and forwards every request to `backend_url` (an http:// URL like
/// `http://127.0.0.1:1234/mcp`).
pub fn serve(cert_pem: &Path, key_pem: &Path, backend_url: &str) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(cert_pem, key_pem, backend_url));
}

async fn run(cert_pem: &Path, key_pem: &Path, backend_url: &str) {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_pem)
        .expect("read certificate PEM")
        .collect::<Result<_, _>>()
        .expect("parse certificate PEM");
    let key = PrivateKeyDer::from_pem_file(key_pem).expect("read private key PEM");
    let mut tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("TLS server config");
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));

    let backend = reqwest::Url::parse(backend_url).expect("backend URL");
    let client = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .expect("HTTP client");

    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "floor proxy listening on https://127.0.0.1:{port}/mcp"
    )
    .expect("stdout");
    stdout.flush().expect("flush stdout");

    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, client, backend) = (acceptor.clone(), client.clone(), backend.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = service_fn(move |req| forward(client.clone(), backend.clone(), req));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn forward(
    client: reqwest::Client,
    backend: reqwest::Url,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return Ok(bad_gateway());
    };
    let mut upstream = client.request(parts.method, backend);
    for name in REQUEST_HEADERS {
        if let Some(value) = parts.headers.get(*name) {
            upstream = upstream.header(*name, value);
        }
    }
    let Ok(resp) = upstream.body(body).send().await else {
        return Ok(bad_gateway());
    };
    let mut out = Response::builder().status(resp.status());
    for name in RESPONSE_HEADERS {
        if let Some(value) = resp.headers().get(*name) {
            out = out.header(*name, value);
        }
    }
    let Ok(body) = resp.bytes().await else {
        return Ok(bad_gateway());
    };
    Ok(out.body(Full::new(body)).unwrap_or_else(|_| bad_gateway()))
}

fn bad_gateway() -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}
