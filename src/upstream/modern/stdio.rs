//! 2026-07-28 over stdio (`basic/transports/stdio.mdx`): one child shared by every caller, one
//! newline-delimited channel, no session. The envelope rides in each request's `_meta`.
//!
//! Everything the child writes shares stdout, so this module does the routing a per-request
//! HTTP stream would do:
//! - requests get ids of ours (callers' ids could collide on the shared channel); the response
//!   is restored to the caller's id;
//! - `notifications/progress` is routed by `progressToken`, which is replaced by one of ours for
//!   the same reason and restored on the way back;
//! - listen notifications are routed by `io.modelcontextprotocol/subscriptionId` (our id, restored
//!   to the caller's);
//! - `notifications/message` carries no correlation on stdio. A server may only send it for a
//!   request whose `_meta` set a log level, so it is delivered when exactly one such request is
//!   in flight and dropped otherwise: guessing would show one caller another caller's logs.
//!
//! Cancelling is `notifications/cancelled` naming our id (dropping the `Reply`); a listen ends
//! the same way. The child starts as 2025 stdio children do (`upstream::stdio::spawn_child`:
//! cleared environment, no shell, optional rlimits) and shuts down by closing its stdin.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Body, ReplyEvent};
use crate::protocol::meta;
use crate::upstream::stdio::{
    ChildIo, EXITED, end_child, log_stderr, read_bounded_line, spawn_child,
};
use crate::upstream::{BackendSpec, UpstreamError, parse_message};

/// Notifications queued for one request before the reader drops further ones (progress and
/// logs are lossy by nature; a slow caller must not stall the child's other callers).
const NOTE_QUEUE: usize = 256;

pub(super) struct StdioBackend {
    name: String,
    shared: Arc<Shared>,
    writer: mpsc::Sender<Vec<u8>>,
    alive: Arc<AtomicBool>,
    /// Why the child's channel ended (with its exit status when known), once it has.
    ended: Arc<std::sync::OnceLock<String>>,
    stop: CancellationToken,
    child: Arc<tokio::sync::Mutex<Option<tokio::process::Child>>>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<Routes>,
}

#[derive(Default)]
struct Routes {
    by_id: HashMap<u64, Route>,
    /// Our progress token → our request id.
    by_token: HashMap<String, u64>,
}

struct Route {
    notes: mpsc::Sender<Value>,
    done: oneshot::Sender<Result<Value, UpstreamError>>,
    /// The caller's id, restored on the response (and the listen's subscription id).
    caller_id: Value,
    /// (ours, the caller's)
    token: Option<(String, Value)>,
    /// The request set `io.modelcontextprotocol/logLevel`.
    logs: bool,
    listen: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remove(&self, id: u64) -> Option<Route> {
        let mut routes = self.lock();
        let route = routes.by_id.remove(&id)?;
        if let Some((ours, _)) = &route.token {
            routes.by_token.remove(ours);
        }
        Some(route)
    }

    fn fail_all(&self, err: &UpstreamError) {
        let drained: Vec<Route> = {
            let mut routes = self.lock();
            routes.by_token.clear();
            routes.by_id.drain().map(|(_, r)| r).collect()
        };
        for r in drained {
            let _ = r.done.send(Err(err.clone()));
        }
    }
}

impl StdioBackend {
    pub(super) fn spawn(spec: &BackendSpec) -> Result<StdioBackend, UpstreamError> {
        let ChildIo {
            child,
            mut stdin,
            stdout,
            stderr,
        } = spawn_child(spec)?;
        let (writer, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let stop = CancellationToken::new();
        let writer_stop = stop.clone();
        tokio::spawn(async move {
            loop {
                let line = tokio::select! {
                    line = rx.recv() => line,
                    () = writer_stop.cancelled() => None,
                };
                let Some(mut line) = line else { break };
                line.push(b'\n');
                if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
            // Dropping stdin closes it: the child's cue to exit.
        });
        tokio::spawn(log_stderr(spec.name.clone(), stderr));
        let shared = Arc::new(Shared::default());
        let alive = Arc::new(AtomicBool::new(true));
        let child = Arc::new(tokio::sync::Mutex::new(Some(child)));
        let reader = Reader {
            name: spec.name.clone(),
            shared: Arc::downgrade(&shared),
            max: spec.max_message_bytes,
            depth: spec.max_json_depth,
        };
        let ended = Arc::new(std::sync::OnceLock::new());
        let (reader_alive, reader_child, reader_shared, reader_ended) =
            (alive.clone(), child.clone(), shared.clone(), ended.clone());
        let name = spec.name.clone();
        tokio::spawn(async move {
            let reason = reader.run(stdout).await;
            let reason = end_child(&reader_child, reason).await;
            let _ = reader_ended.set(reason.clone());
            reader_alive.store(false, Ordering::SeqCst);
            reader_shared.fail_all(&UpstreamError::Unavailable {
                backend: name,
                reason,
            });
        });
        Ok(StdioBackend {
            name: spec.name.clone(),
            shared,
            writer,
            alive,
            ended,
            stop,
            child,
            next_id: AtomicU64::new(1),
        })
    }

    pub(super) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    pub(super) async fn send(&self, mut msg: Value) -> Result<(Body, Option<u16>), UpstreamError> {
        if !self.is_alive() {
            let why = self.ended.get().map_or(EXITED, String::as_str);
            return Err(self.unavailable(why));
        }
        let ours = self.next_id.fetch_add(1, Ordering::Relaxed);
        let caller_id = msg.get("id").cloned().unwrap_or(Value::Null);
        let listen = msg.get("method").and_then(Value::as_str) == Some("subscriptions/listen");
        if let Some(o) = msg.as_object_mut() {
            o.insert("id".into(), json!(ours));
        }
        let meta_obj = msg
            .get_mut("params")
            .and_then(|p| p.get_mut("_meta"))
            .and_then(Value::as_object_mut);
        let mut token = None;
        let mut logs = false;
        if let Some(m) = meta_obj {
            logs = m.get(meta::key::LOG_LEVEL).is_some_and(Value::is_string);
            if let Some(theirs) = m.remove(meta::key::PROGRESS_TOKEN) {
                let our_token = format!("pc-{ours}");
                m.insert(meta::key::PROGRESS_TOKEN.into(), json!(our_token));
                token = Some((our_token, theirs));
            }
        }
        let bytes = serde_json::to_vec(&msg)
            .map_err(|e| self.unavailable(&format!("cannot encode the request: {e}")))?;
        let (notes_tx, notes) = mpsc::channel(NOTE_QUEUE);
        let (done_tx, done) = oneshot::channel();
        {
            let mut routes = self.shared.lock();
            if let Some((t, _)) = &token {
                routes.by_token.insert(t.clone(), ours);
            }
            routes.by_id.insert(
                ours,
                Route {
                    notes: notes_tx,
                    done: done_tx,
                    caller_id,
                    token,
                    logs,
                    listen,
                },
            );
        }
        // From here on, dropping the guard cancels the request.
        let guard = Guard {
            shared: Arc::downgrade(&self.shared),
            writer: self.writer.clone(),
            id: ours,
            armed: true,
        };
        if self.writer.send(bytes).await.is_err() {
            self.shared.remove(ours);
            return Err(self.unavailable("its stdin is closed"));
        }
        Ok((
            Body::Stdio(Pending {
                backend: self.name.clone(),
                notes,
                done,
                guard,
            }),
            None,
        ))
    }

    pub(super) async fn close(&self) {
        self.alive.store(false, Ordering::SeqCst);
        self.stop.cancel();
        if let Some(mut child) = self.child.lock().await.take() {
            // stdio.mdx §Shutdown: close stdin, wait, then terminate.
            if tokio::time::timeout(Duration::from_secs(2), child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            }
        }
    }

    fn unavailable(&self, reason: &str) -> UpstreamError {
        UpstreamError::Unavailable {
            backend: self.name.clone(),
            reason: reason.to_owned(),
        }
    }
}

impl Drop for StdioBackend {
    fn drop(&mut self) {
        // Closing stdin asks the child to exit; the reader task ends it when its stdout closes.
        // A child that ignores its stdin is killed here after a grace period.
        self.alive.store(false, Ordering::SeqCst);
        self.stop.cancel();
        let child = self.child.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                if let Some(mut c) = child.lock().await.take() {
                    let _ = c.start_kill();
                    let _ = c.wait().await;
                }
            });
        }
    }
}

/// One request's answer on the shared channel.
pub(super) struct Pending {
    backend: String,
    notes: mpsc::Receiver<Value>,
    done: oneshot::Receiver<Result<Value, UpstreamError>>,
    guard: Guard,
}

impl Pending {
    pub(super) async fn next(&mut self) -> Result<ReplyEvent, UpstreamError> {
        // INVARIANT: the reader queues a request's notifications before it completes `done`,
        // so taking notifications first keeps the backend's order.
        tokio::select! {
            biased;
            Some(n) = self.notes.recv() => Ok(ReplyEvent::Notification(n)),
            r = &mut self.done => match r {
                Ok(r) => r.map(ReplyEvent::Response),
                Err(_) => Err(UpstreamError::Unavailable {
                    backend: self.backend.clone(),
                    reason: "the process exited".into(),
                }),
            },
        }
    }

    /// `answered`: the response came, so there is nothing to cancel.
    pub(super) fn finish(mut self, answered: bool) {
        self.guard.armed = !answered;
    }
}

/// Cancels its request when dropped before the response.
struct Guard {
    shared: Weak<Shared>,
    writer: mpsc::Sender<Vec<u8>>,
    id: u64,
    armed: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        // Still routed = still in flight: the backend is told to stop.
        if shared.remove(self.id).is_none() {
            return;
        }
        let msg = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": self.id, "reason": "the gateway's caller went away"}});
        let Ok(bytes) = serde_json::to_vec(&msg) else {
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(bytes)) = self.writer.try_send(bytes) {
            let writer = self.writer.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = writer.send(bytes).await;
                });
            }
        }
    }
}

struct Reader {
    name: String,
    shared: Weak<Shared>,
    max: usize,
    depth: usize,
}

impl Reader {
    async fn run(&self, stdout: impl AsyncRead + Unpin) -> String {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_bounded_line(&mut reader, &mut line, self.max).await {
                Ok(0) => return EXITED.into(),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(backend = %self.name, error = %e, "stdio backend output unreadable; closing");
                    return format!("its output broke the protocol ({e}); it was stopped");
                }
            }
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            let Some(shared) = self.shared.upgrade() else {
                return "the gateway closed the backend".into();
            };
            match parse_message(&self.name, trimmed, self.depth) {
                Ok(msg) => self.route(&shared, msg),
                Err(e) => {
                    tracing::warn!(backend = %self.name, error = %e, "ignoring invalid line from stdio backend");
                }
            }
        }
    }

    fn route(&self, shared: &Shared, mut msg: Value) {
        let method = msg.get("method").and_then(Value::as_str).map(str::to_owned);
        let has_id = msg.get("id").is_some();
        match method.as_deref() {
            None => {
                let Some(id) = msg.get("id").and_then(Value::as_u64) else {
                    tracing::warn!(backend = %self.name, "response without one of our ids ignored");
                    return;
                };
                let Some(route) = shared.remove(id) else {
                    tracing::debug!(backend = %self.name, id, "response to no pending request (cancelled or late)");
                    return;
                };
                if let Some(o) = msg.as_object_mut() {
                    o.insert("id".into(), route.caller_id.clone());
                }
                if route.listen {
                    restore_subscription_id(msg.get_mut("result"), &route.caller_id);
                }
                let _ = route.done.send(Ok(msg));
            }
            Some(m) if has_id => {
                tracing::warn!(backend = %self.name, method = m,
                    "a 2026-07-28 stdio server sent a JSON-RPC request, which the revision forbids; ignored");
            }
            Some("notifications/progress") => {
                let routes = shared.lock();
                let token = msg
                    .get("params")
                    .and_then(|p| p.get(meta::key::PROGRESS_TOKEN))
                    .and_then(Value::as_str)
                    .and_then(|t| routes.by_token.get(t))
                    .and_then(|id| routes.by_id.get(id));
                let Some(route) = token else {
                    tracing::debug!(backend = %self.name, "progress for no pending request dropped");
                    return;
                };
                if let (Some((_, theirs)), Some(p)) = (
                    &route.token,
                    msg.get_mut("params").and_then(Value::as_object_mut),
                ) {
                    p.insert(meta::key::PROGRESS_TOKEN.into(), theirs.clone());
                }
                self.deliver(route, msg);
            }
            Some("notifications/message") => {
                let routes = shared.lock();
                let mut asking = routes.by_id.values().filter(|r| r.logs && !r.listen);
                match (asking.next(), asking.next()) {
                    (Some(route), None) => self.deliver(route, msg),
                    _ => tracing::debug!(backend = %self.name,
                        "log message with no single request that asked for logs; dropped"),
                }
            }
            Some(m) => {
                let sub = meta::subscription_id(&msg).and_then(Value::as_u64);
                let sub = sub.or_else(|| {
                    // A server tears a listen down with `notifications/cancelled` on stdio.
                    (m == "notifications/cancelled")
                        .then(|| msg.get("params")?.get("requestId")?.as_u64())
                        .flatten()
                });
                let Some(sub) = sub else {
                    tracing::debug!(backend = %self.name, method = m, "notification for no request dropped");
                    return;
                };
                if m == "notifications/cancelled" {
                    if let Some(route) = shared.remove(sub).filter(|r| r.listen) {
                        let _ = route.done.send(Err(UpstreamError::Unavailable {
                            backend: self.name.clone(),
                            reason: "the backend ended the subscription (notifications/cancelled)"
                                .into(),
                        }));
                    }
                    return;
                }
                let routes = shared.lock();
                match routes.by_id.get(&sub).filter(|r| r.listen) {
                    Some(route) => {
                        restore_subscription_id(msg.get_mut("params"), &route.caller_id);
                        self.deliver(route, msg);
                    }
                    None => tracing::debug!(backend = %self.name, method = m,
                        "notification for no open listen dropped"),
                }
            }
        }
    }

    fn deliver(&self, route: &Route, msg: Value) {
        if let Err(mpsc::error::TrySendError::Full(_)) = route.notes.try_send(msg) {
            tracing::warn!(backend = %self.name,
                "a caller is not reading its notifications; one was dropped");
        }
    }
}

fn restore_subscription_id(holder: Option<&mut Value>, caller_id: &Value) {
    if let Some(m) = holder
        .and_then(|h| h.get_mut("_meta"))
        .and_then(Value::as_object_mut)
        && m.contains_key(meta::key::SUBSCRIPTION_ID)
    {
        m.insert(meta::key::SUBSCRIPTION_ID.into(), caller_id.clone());
    }
}
