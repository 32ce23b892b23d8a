//! Connections that cost the gateway without asking anything of it, through the real binary
//! (issue 15, finding 10): a request body trickled a byte at a time, an idle keep-alive or
//! HTTP/2 connection kept alive with PINGs, more connections than the gateway will hold (in
//! total and from one address), and HTTP/2 without TLS (h2c) on the plaintext port.
//!
//! Each case checks the bound it is given in `[http]` and that the gateway keeps serving a real
//! `tools/call` (the demo backend) to everyone else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use serde_json::{Value, json};

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn demo_backend() -> String {
    format!(
        "\n[[backend]]\nname = \"demo\"\ncommand = [{}, \"demo-server\"]\n",
        toml_str(&portcullis_bin().display().to_string())
    )
}

/// Anonymous loopback gateway with the demo backend and these `[http]` keys.
fn config(http: &str) -> String {
    format!("{ANON}\n[http]\n{http}\n{}", demo_backend())
}

/// A client that opens a new connection for every request (so it never holds one that a test
/// counts), initialized with a session.
async fn client(url: &str) -> RawClient {
    let mut c = RawClient::new(url);
    c.http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    c.initialize().await;
    c
}

async fn assert_serving(c: &RawClient, what: &str) {
    let m = c
        .request(
            "tools/call",
            json!({"name": "demo__echo", "arguments": {"message": what}}),
        )
        .await;
    assert_eq!(m["result"]["content"][0]["text"], what, "{m}");
}

/// Read from `s` until the peer closes it (or `limit` passes, then `None`); writes one byte of
/// `trickle` after every read timeout of 200 ms. Returns the time to close and what was read.
fn time_to_close(
    s: &mut TcpStream,
    trickle: &[u8],
    limit: Duration,
) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let mut trickle = trickle.iter().cycle();
    while start.elapsed() < limit {
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(0) => return Some((start.elapsed(), got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some((start.elapsed(), got)),
        }
        if let Some(b) = trickle.next() {
            if s.write_all(&[*b]).is_err() {
                // Closed while we wrote: whatever it sent is still readable.
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let _ = s.read_to_end(&mut got);
                return Some((start.elapsed(), got));
            }
        }
    }
    None
}

fn post_head(addr: &str, sid: &str, length: usize) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nMcp-Session-Id: {sid}\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[test]
fn a_slow_request_body_is_cut_off_within_its_bound_and_others_are_served() {
    let gw = start_gateway(&config(
        "body_timeout_secs = 2\nmin_body_bytes_per_sec = 1024\nrequest_timeout_secs = 120",
    ));
    let rt = runtime();
    let c = rt.block_on(client(&gw.url));
    let sid = c.session.clone().unwrap();
    let msg = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "demo__echo", "arguments": {"message": "x".repeat(300)}}})
    .to_string();

    // One byte every 200 ms (5 B/s, far under 1024 B/s): 408 once the 2 s allowance is spent,
    // long before the 120 s request timeout. Others are served meanwhile.
    let addr = gw.addr.clone();
    let head = post_head(&addr, &sid, msg.len());
    let body = msg.clone();
    let slow = std::thread::spawn(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        time_to_close(&mut s, body.as_bytes(), Duration::from_secs(20))
    });
    let served = Instant::now();
    for i in 0..5 {
        rt.block_on(assert_serving(&c, &format!("meanwhile {i}")));
    }
    assert!(
        served.elapsed() < Duration::from_secs(10),
        "{:?}",
        served.elapsed()
    );
    let (t, got) = slow
        .join()
        .unwrap()
        .expect("a body trickled at 5 B/s was still being read after 20 s");
    eprintln!("measured: body trickled at 5 B/s cut off after {t:?}");
    let (status, _, text) = parse_http_response(&got);
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&got));
    assert!(text.contains("request body"), "{text}");
    assert!(text.contains("1024 bytes/s"), "{text}");
    assert!(t >= Duration::from_millis(1500), "cut off too early: {t:?}");
    assert!(t < Duration::from_secs(8), "cut off too late: {t:?}");

    // Headers complete and then nothing at all: the same bound.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.write_all(post_head(&gw.addr, &sid, 100).as_bytes())
        .unwrap();
    let (t, got) =
        time_to_close(&mut s, b"", Duration::from_secs(20)).expect("a stalled body is held");
    eprintln!("measured: stalled body cut off after {t:?}");
    let (status, _, _) = parse_http_response(&got);
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&got));
    assert!(t < Duration::from_secs(8), "{t:?}");

    // A large body sent at full speed is far above the rate: served.
    let big = "y".repeat(512 * 1024);
    rt.block_on(assert_serving(&c, &big));
    rt.block_on(assert_serving(&c, "after"));
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let gw = start_gateway(&config(
        "idle_timeout_secs = 2\nheader_read_timeout_secs = 30",
    ));
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    let req = format!(
        "GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: {}\r\n\r\n",
        gw.addr
    );
    s.write_all(req.as_bytes()).unwrap();
    let (t, got) =
        time_to_close(&mut s, b"", Duration::from_secs(20)).expect("idle connection held");
    eprintln!("measured: idle HTTP/1.1 keep-alive closed after {t:?}");
    let (status, _, _) = parse_http_response(&got);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    assert!(t >= Duration::from_millis(1500), "closed too early: {t:?}");
    assert!(
        t < Duration::from_secs(6),
        "closed after {t:?}, not after 2 s idle"
    );
    let rt = runtime();
    rt.block_on(async {
        let c = client(&gw.url).await;
        assert_serving(&c, "after idle").await;
    });
}

// ----- HTTP/2 over TLS (ALPN h2) -----

fn dev_cert(out: &Path) {
    let status = Command::new(portcullis_bin())
        .arg("dev-cert")
        .arg("--out")
        .arg(out)
        .args(["--name", "localhost", "--name", "127.0.0.1"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn tls_gateway(http: &str) -> (Gateway, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    dev_cert(&certs);
    let pem = std::fs::read(certs.join("dev.crt")).unwrap();
    let cfg = format!(
        "[listen]\naddress = \"127.0.0.1:0\"\ntls = {{ cert = \"certs/dev.crt\", key = \"certs/dev.key\" }}\n\n\
         [auth]\nmode = \"anonymous\"\ndangerous_allow_anonymous = true\n\n\
         [http]\n{http}\n{TOFU}{}",
        demo_backend()
    );
    let gw = start_gateway_in(&cfg, dir);
    assert!(gw.url.starts_with("https://"), "{}", gw.url);
    (gw, pem)
}

type H2 = h2::client::SendRequest<Bytes>;

/// An HTTP/2 connection over TLS (ALPN `h2` only), its PING handle, and the task driving it
/// (done when the server closes the connection).
async fn h2_tls(
    addr: SocketAddr,
    ca_pem: &[u8],
) -> (
    H2,
    h2::PingPong,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, mut conn) = h2::client::handshake(tls).await.unwrap();
    let ping = conn.ping_pong().unwrap();
    (send, ping, tokio::spawn(conn))
}

fn h2_request(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<()> {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap()
}

/// Send a request (with `body`, if any) and read the whole response.
async fn h2_exchange(
    send: &H2,
    req: http::Request<()>,
    body: Option<&str>,
) -> (u16, String, http::HeaderMap) {
    let mut send = send.clone().ready().await.unwrap();
    let (resp, mut stream) = send.send_request(req, body.is_none()).unwrap();
    if let Some(b) = body {
        stream.send_data(Bytes::from(b.to_owned()), true).unwrap();
    }
    let resp = resp.await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut recv = resp.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.unwrap();
        let _ = recv.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    (status, String::from_utf8_lossy(&text).into_owned(), headers)
}

/// PING every 300 ms until the connection closes; `None` if still open after `limit`.
async fn ping_until_closed(
    ping: &mut h2::PingPong,
    conn: &mut tokio::task::JoinHandle<Result<(), h2::Error>>,
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if conn.is_finished() {
            return Some(start.elapsed());
        }
        if tokio::time::timeout(Duration::from_secs(2), ping.ping(h2::Ping::opaque()))
            .await
            .map_or(true, |r| r.is_err())
        {
            // No pong: the server is gone (or going).
            let _ = tokio::time::timeout(Duration::from_secs(2), &mut *conn).await;
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    None
}

#[test]
fn an_idle_http2_connection_is_closed_despite_pings_but_not_while_a_stream_is_open() {
    let (gw, pem) = tls_gateway("idle_timeout_secs = 2\nheader_read_timeout_secs = 30");
    let addr: SocketAddr = gw.addr.parse().unwrap();
    let base = format!("https://localhost:{}", addr.port());
    let rt = runtime();
    rt.block_on(async {
        // One request, then only PINGs (answered by the gateway, as HTTP/2 requires): closed
        // about 2 s after the response.
        let (send, mut ping, mut conn) = h2_tls(addr, &pem).await;
        let req = h2_request(
            "GET",
            &format!("{base}/.well-known/oauth-protected-resource"),
            &[],
        );
        let (status, _, _) = h2_exchange(&send, req, None).await;
        assert_eq!(status, 200);
        let t = ping_until_closed(&mut ping, &mut conn, Duration::from_secs(15))
            .await
            .expect("an idle HTTP/2 connection answering PINGs was still open after 15 s");
        eprintln!("measured: idle HTTP/2 connection (PINGs every 300 ms) closed after {t:?}");
        assert!(t >= Duration::from_millis(1500), "closed too early: {t:?}");
        assert!(
            t < Duration::from_secs(7),
            "closed after {t:?}, not after 2 s idle"
        );

        // A connection with an open stream (the standalone GET stream of a session) is busy,
        // however long nothing is sent on it; once that stream ends, it idles out.
        let (send, mut ping, mut conn) = h2_tls(addr, &pem).await;
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "connections-test", "version": "0"}}})
        .to_string();
        let req = h2_request(
            "POST",
            &format!("{base}/mcp"),
            &[
                ("accept", "application/json, text/event-stream"),
                ("content-type", "application/json"),
            ],
        );
        let (status, text, headers) = h2_exchange(&send, req, Some(&init)).await;
        assert_eq!(status, 200, "{text}");
        let sid = headers["mcp-session-id"].to_str().unwrap().to_owned();
        let mut ready = send.clone().ready().await.unwrap();
        let req = h2_request(
            "GET",
            &format!("{base}/mcp"),
            &[("accept", "text/event-stream"), ("mcp-session-id", &sid)],
        );
        let (resp, _stream) = ready.send_request(req, true).unwrap();
        let resp = resp.await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            ping_until_closed(&mut ping, &mut conn, Duration::from_secs(5))
                .await
                .is_none(),
            "a connection with an open stream was closed as idle"
        );
        drop(resp);
        drop(_stream);
        let t = ping_until_closed(&mut ping, &mut conn, Duration::from_secs(15))
            .await
            .expect("still open 15 s after its last stream ended");
        eprintln!("measured: HTTP/2 connection closed {t:?} after its stream ended");
        assert!(t < Duration::from_secs(7), "{t:?}");

        // New connections are served.
        let (send, _ping, _conn) = h2_tls(addr, &pem).await;
        let req = h2_request(
            "GET",
            &format!("{base}/.well-known/oauth-protected-resource"),
            &[],
        );
        assert_eq!(h2_exchange(&send, req, None).await.0, 200);
    });
}

// ----- connection caps -----

/// A connection from `ip` that has been served one request and stays open (keep-alive).
async fn held(ip: &str, addr: SocketAddr) -> Option<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    let mut s = sock.connect(addr).await.unwrap();
    let req = format!("GET /.well-known/oauth-protected-resource HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return None;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) => return None,
            Err(_) => panic!("no answer and no close from the gateway within 5 s"),
        };
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            });
            let complete = match length {
                Some(len) => body.len() >= len,
                None => body.ends_with("0\r\n\r\n"),
            };
            if complete {
                assert!(head.starts_with("HTTP/1.1 200"), "{text}");
                return Some(s);
            }
        }
    }
}

#[test]
fn connection_caps_refuse_the_next_connection_and_serve_again_once_one_closes() {
    let gw = start_gateway(&config(
        "max_connections = 4\nmax_connections_per_ip = 2\nheader_read_timeout_secs = 30",
    ));
    let addr: SocketAddr = gw.addr.parse().unwrap();
    let rt = runtime();
    rt.block_on(async {
        let a1 = held("127.0.0.1", addr).await.expect("first connection");
        let _a2 = held("127.0.0.1", addr).await.expect("second connection");
        // A third from the same address: closed at once, nothing served.
        let t = Instant::now();
        assert!(
            held("127.0.0.1", addr).await.is_none(),
            "per-address cap not enforced"
        );
        eprintln!(
            "measured: connection over the per-address cap closed after {:?}",
            t.elapsed()
        );
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        // Another address still gets in, up to the global cap.
        let _b1 = held("127.0.0.2", addr).await.expect("other address");
        let _b2 = held("127.0.0.2", addr)
            .await
            .expect("other address, second");
        assert!(
            held("127.0.0.3", addr).await.is_none(),
            "global cap not enforced"
        );
        // One closes: the next one is served again.
        drop(a1);
        let deadline = Instant::now() + Duration::from_secs(5);
        let again = loop {
            if let Some(s) = held("127.0.0.1", addr).await {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "no connection served after one closed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        drop(again);
        drop(_b1);
        drop(_b2);
        drop(_a2);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let c = client(&gw.url).await;
        assert_serving(&c, "after the caps").await;
    });
    assert!(
        gw.proc.stderr().contains("connection cap"),
        "the refusals are not logged: {}",
        gw.proc.stderr()
    );
}

// ----- h2c on the plaintext port -----

#[test]
fn h2c_is_refused_on_the_plaintext_port_unless_named_dangerous() {
    let rt = runtime();
    // Default: an HTTP/2 prior-knowledge client is told HTTP_1_1_REQUIRED (RFC 9113 §7);
    // HTTP/1.1 on the same port is served.
    let gw = start_gateway(&config(""));
    let addr: SocketAddr = gw.addr.parse().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        let conn = tokio::spawn(conn);
        let req = h2_request(
            "GET",
            &format!("http://{addr}/.well-known/oauth-protected-resource"),
            &[],
        );
        let outcome = async {
            let mut send = send.ready().await?;
            let (resp, _) = send.send_request(req, true)?;
            resp.await
        }
        .await;
        let err = outcome.expect_err("h2c was served on the plaintext port");
        assert_eq!(err.reason(), Some(h2::Reason::HTTP_1_1_REQUIRED), "{err:?}");
        let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
        let c = client(&gw.url).await;
        assert_serving(&c, "h1 still served").await;
    });
    drop(gw);

    // `dangerous_h2c = true`: served (for a TLS-terminating proxy that speaks h2 to it), and
    // `portcullis check` says so.
    let gw = start_gateway(&config("dangerous_h2c = true"));
    let addr: SocketAddr = gw.addr.parse().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        let req = h2_request(
            "GET",
            &format!("http://{addr}/.well-known/oauth-protected-resource"),
            &[],
        );
        let (status, body, _) = h2_exchange(&send, req, None).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v["resource"].is_null() || v["resource"].is_string(), "{v}");
    });
    let (ok, out, err) = check_config(&gw.config_path);
    assert!(ok, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("http.dangerous_h2c"),
        "{out}{err}"
    );
}
