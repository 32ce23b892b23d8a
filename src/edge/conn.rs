//! What a connection to the public listener may cost before and between requests: how many may
//! be open ([`Caps`], in total and per client address), how long one may sit without a request
//! in flight ([`Activity`]), how fast a request body must arrive ([`read_body`]), and which
//! protocols a plaintext listener speaks ([`opens_with_h2_preface`], [`refuse_h2c`]).
//!
//! Idle means no request in flight: from a response's last byte to the next request's headers.
//! The timer runs at the connection, not in hyper, because an HTTP/2 connection answers PINGs
//! (RFC 9113 §6.7) without any request, and hyper has no idle timeout of its own for HTTP/2; a
//! client keeping a connection alive with PINGs alone is idle. A response body still being sent
//! (an SSE stream) keeps its connection busy.
//!
//! Plaintext HTTP/2 (prior-knowledge h2c) is not served unless `[http] dangerous_h2c = true`:
//! a plaintext listener exists for loopback development and for a TLS-terminating proxy in
//! front, and both speak HTTP/1.1; HTTP/2's connection machinery (stream multiplexing, HPACK
//! state, SETTINGS, PING, RST_STREAM and CONTINUATION handling, the surface of the 2023–2024
//! floods) is then attack surface without a user, and without ALPN the protocol is guessed from
//! the first bytes. A client that opens with the HTTP/2 preface gets a GOAWAY with
//! `HTTP_1_1_REQUIRED` (RFC 9113 §7) saying why; over TLS, ALPN `h2` is served as before.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::rescue::Rejection;
use crate::config::HttpLimits;

// ---------------------------------------------------------------------------------------------
// Connection caps.

/// Open connections, counted against `max_connections` and `max_connections_per_ip`.
pub struct Caps {
    max_total: usize,
    max_per_address: usize,
    state: Mutex<CapState>,
}

#[derive(Default)]
struct CapState {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    /// Whether the last decision was a refusal: only the first of a run is logged as a warning.
    refusing: bool,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapRefusal {
    #[error("connection cap reached: {0} connections open (`http.max_connections`)")]
    Total(usize),
    #[error(
        "per-address connection cap reached: {1} connections open from {0} \
         (`http.max_connections_per_ip`)"
    )]
    PerAddress(IpAddr, usize),
}

/// One admitted connection; dropping it frees its place.
pub struct Permit {
    caps: Arc<Caps>,
    address: IpAddr,
}

impl Caps {
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<Caps> {
        Arc::new(Caps {
            max_total,
            max_per_address,
            state: Mutex::new(CapState::default()),
        })
    }

    /// Count a new connection from `peer`, or say which cap it would pass. The check and the
    /// count are one step under the lock, so a burst cannot overshoot.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Permit, CapRefusal> {
        let address = address_key(peer);
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mine = s.per_address.get(&address).copied().unwrap_or(0);
        let refusal = if s.total >= self.max_total {
            Some(CapRefusal::Total(s.total))
        } else if mine >= self.max_per_address {
            Some(CapRefusal::PerAddress(address, mine))
        } else {
            None
        };
        if let Some(r) = refusal {
            if s.refusing {
                tracing::debug!(%peer, "{r}; connection closed");
            } else {
                tracing::warn!(%peer, "{r}; refusing connections until one closes");
            }
            s.refusing = true;
            return Err(r);
        }
        if s.refusing {
            tracing::info!("below the connection caps again; accepting");
        }
        s.refusing = false;
        s.total += 1;
        s.per_address.insert(address, mine + 1);
        Ok(Permit {
            caps: self.clone(),
            address,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.state.lock().map_or(0, |s| s.total)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.caps.state.lock().unwrap_or_else(|p| p.into_inner());
        s.total = s.total.saturating_sub(1);
        if let Some(n) = s.per_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.per_address.remove(&self.address);
            }
        }
    }
}

/// The unit a per-address cap counts: an IPv4 address, or an IPv6 /64 (one subscriber's
/// prefix: a single host can use any of its 2^64 addresses). IPv4-mapped IPv6 counts as IPv4.
pub(super) fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

// ---------------------------------------------------------------------------------------------
// Idle connections.

/// Requests in flight on one connection. Each request holds an [`InFlight`] from the moment its
/// headers are in until its response body has been sent (or dropped).
#[derive(Clone)]
pub struct Activity {
    in_flight: Arc<watch::Sender<usize>>,
    started: Arc<std::sync::atomic::AtomicBool>,
}

/// One request in flight; dropping it ends it.
pub struct InFlight(Arc<watch::Sender<usize>>);

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: Arc::new(watch::Sender::new(0)),
            started: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }
}

impl Activity {
    pub fn begin(&self) -> InFlight {
        self.started
            .store(true, std::sync::atomic::Ordering::Release);
        self.in_flight.send_modify(|n| *n += 1);
        InFlight(self.in_flight.clone())
    }

    /// Whether any request has started on this connection.
    pub fn started(&self) -> bool {
        self.started.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Resolves once the connection has had no request in flight for `first` (before its first
    /// request) or `idle` (after one).
    pub async fn idle(&self, first: Duration, idle: Duration) {
        let mut rx = self.in_flight.subscribe();
        loop {
            let busy = *rx.borrow_and_update();
            let wait = if self.started() { idle } else { first };
            if busy > 0 {
                // INVARIANT: `self` holds the sender, so `changed` cannot fail while we wait.
                if rx.changed().await.is_err() {
                    return;
                }
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => return,
                changed = rx.changed() => if changed.is_err() { return },
            }
        }
    }
}

/// A response body that keeps its request in flight until it has been sent or dropped. Size
/// and end are the inner body's, so a response keeps its `Content-Length`.
pub struct Held<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B> Held<B> {
    pub fn new(inner: B, in_flight: InFlight) -> Self {
        Held {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for Held<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<B::Data>, B::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

/// Read a request body of at most `http.max_body_bytes`, at a pace: it gets
/// `http.body_timeout_secs` once its headers are in, plus one second for every
/// `http.min_body_bytes_per_sec` bytes received (Apache `mod_reqtimeout`'s `body=…,MinRate=…`).
/// A client trickling a byte a second is cut off after about `body_timeout_secs`; a large
/// body on a decent link is never near the bound; and `request_timeout_secs` bounds them all.
pub async fn read_body(body: Incoming, http: &HttpLimits) -> Result<Bytes, Rejection> {
    let limit = http.max_body_bytes;
    let start = tokio::time::Instant::now();
    let grace = Duration::from_secs(http.body_timeout_secs);
    let rate = http.min_body_bytes_per_sec;
    let mut body = std::pin::pin!(http_body_util::Limited::new(body, limit));
    let mut buf = BytesMut::new();
    loop {
        // Rate 0: no allowance for size; the whole body within `body_timeout_secs`.
        let received = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        let earned =
            Duration::from_millis(received.saturating_mul(1000).checked_div(rate).unwrap_or(0));
        let deadline = start + grace + earned;
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(buf.freeze()),
            Err(_) => {
                return Err(Rejection::SlowBody {
                    received: buf.len(),
                    secs: start.elapsed().as_secs(),
                    rate,
                    grace: http.body_timeout_secs,
                });
            }
        };
        match frame {
            Ok(f) => {
                // Trailers carry nothing we read.
                if let Ok(data) = f.into_data() {
                    buf.extend_from_slice(&data);
                }
            }
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(Rejection::PayloadTooLarge(limit));
            }
            Err(e) => return Err(Rejection::BodyRead(e.to_string())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// h2c on a plaintext listener.

const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the client opened with the HTTP/2 connection preface (prior-knowledge h2c). Reads
/// nothing: the bytes stay for the HTTP/1.1 server. Bound the wait with a timeout.
pub async fn opens_with_h2_preface(stream: &TcpStream) -> std::io::Result<bool> {
    let mut buf = [0u8; 24];
    loop {
        let n = stream.peek(&mut buf).await?;
        let seen = buf.get(..n).unwrap_or_default();
        if n == 0 || !H2_PREFACE.starts_with(seen) {
            return Ok(false);
        }
        if n == H2_PREFACE.len() {
            return Ok(true);
        }
        // Part of the preface so far (or a request that starts with `P`): wait for more.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A plaintext connection for the HTTP/1.1 server, or `None` when it was refused: it opened
/// with the HTTP/2 preface (answered by [`refuse_h2c`]), or sent no request line within
/// `timeout`.
pub async fn http1_or_refuse_h2c(stream: TcpStream, timeout: Duration) -> Option<TcpStream> {
    let peer = stream.peer_addr().ok();
    match tokio::time::timeout(timeout, opens_with_h2_preface(&stream)).await {
        Ok(Ok(false)) => Some(stream),
        Ok(Ok(true)) => {
            tracing::debug!(?peer, "h2c refused: `http.dangerous_h2c` is off");
            refuse_h2c(stream).await;
            None
        }
        Ok(Err(_)) | Err(_) => {
            tracing::debug!(?peer, "no request within the header read timeout");
            None
        }
    }
}

/// Tell a prior-knowledge HTTP/2 client, in HTTP/2, that this listener needs HTTP/1.1: our
/// SETTINGS, then GOAWAY (last stream 0, `HTTP_1_1_REQUIRED`) with a reason, then close.
pub async fn refuse_h2c(mut stream: TcpStream) {
    const SETTINGS: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
    const HTTP_1_1_REQUIRED: u32 = 0xd;
    let debug: &[u8] =
        b"h2c is not served on this plaintext listener: use HTTP/1.1, or HTTP/2 over TLS";
    let [_, l1, l2, l3] = u32::try_from(8 + debug.len()).unwrap_or(8).to_be_bytes();
    let mut frames = SETTINGS.to_vec();
    frames.extend_from_slice(&[l1, l2, l3, 0x7, 0, 0, 0, 0, 0]);
    frames.extend_from_slice(&0u32.to_be_bytes());
    frames.extend_from_slice(&HTTP_1_1_REQUIRED.to_be_bytes());
    frames.extend_from_slice(debug);
    let write = async {
        stream.write_all(&frames).await?;
        stream.shutdown().await
    };
    if tokio::time::timeout(Duration::from_secs(5), write)
        .await
        .is_err()
    {
        return;
    }
    // Read what the client already sent before closing, so the kernel does not answer it
    // with a reset that could destroy the GOAWAY in flight.
    let mut sink = [0u8; 4096];
    let drain = async {
        let mut total = 0usize;
        while total < 64 * 1024 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_address_and_in_total_and_free_on_drop() {
        let caps = Caps::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = caps.admit(a).unwrap();
        let _a2 = caps.admit(a).unwrap();
        assert_eq!(caps.admit(a).err(), Some(CapRefusal::PerAddress(a, 2)));
        let _b1 = caps.admit(b).unwrap();
        assert_eq!(caps.admit(b).err(), Some(CapRefusal::Total(3)));
        drop(a1);
        assert_eq!(caps.open(), 2);
        let _a3 = caps.admit(a).unwrap();
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let caps = Caps::new(100, 1);
        let _p = caps.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        let err = caps.admit("2001:db8:1:2:ffff::9".parse().unwrap()).err();
        assert!(matches!(err, Some(CapRefusal::PerAddress(..))), "{err:?}");
        assert!(caps.admit("2001:db8:1:3::1".parse().unwrap()).is_ok());
        let _v4 = caps.admit("192.0.2.7".parse().unwrap()).unwrap();
        let err = caps.admit("::ffff:192.0.2.7".parse().unwrap()).err();
        assert!(matches!(err, Some(CapRefusal::PerAddress(..))), "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_no_request_in_flight() {
        let a = Activity::default();
        let first = Duration::from_secs(10);
        let idle = Duration::from_secs(3);
        // Before any request: `first`.
        let t = tokio::time::Instant::now();
        a.idle(first, idle).await;
        assert_eq!(t.elapsed(), first);
        // A request in flight for 20 s, then idle: 3 s after it ended.
        let req = a.begin();
        let watcher = {
            let a = a.clone();
            tokio::spawn(async move {
                let t = tokio::time::Instant::now();
                a.idle(first, idle).await;
                t.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_secs(20)).await;
        drop(req);
        assert_eq!(watcher.await.unwrap(), Duration::from_secs(23));
    }
}
