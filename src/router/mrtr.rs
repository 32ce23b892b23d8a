//! Multi round-trip requests (MRTR) for 2026-07-28 clients.
//!
//! A 2026-07-28 client cannot be sent a request mid-call. When a 2025-era backend asks for
//! elicitation, sampling or roots while serving such a client's call, the gateway holds the
//! call open upstream (it is *parked*) and answers the client with an `input_required` result
//! listing what the backend asked, and a sealed `requestState` naming the parked call. The
//! client's retry — same method and arguments, `inputResponses`, the state — passes the whole
//! guard chain again; the gateway then answers the backend's pending requests with the client's
//! responses and goes on reading the same upstream call, for as many rounds as the backend
//! needs. A retry that never comes: the parked call's requests are answered with an error once
//! the state expires.
//!
//! A request the client did not declare the capability for (on this request) is refused to the
//! backend at once and never reaches the client.
//!
//! A 2026-07-28 backend answers `input_required` itself: the gateway passes it through with the
//! backend's own `requestState` sealed inside its own (bound to the principal, the backend, the
//! tool and its arguments), and unseals it on the retry. And a 2025-era client of a 2026-07-28
//! backend gets the backend's `inputRequests` as real requests on its call's stream; the gateway
//! retries with the client's answers, for as many rounds as the backend needs (`bridge`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::seal::{Expect, Inner, args_digest};
use super::{CALL_STREAM_CAPACITY, Call, Context, Next, RouteError, Router, lock};
use crate::audit::{Decision, Kind};
use crate::protocol;

/// How long the backend's requests wait for more of its requests before the round is
/// answered (a backend may ask several things at once).
const GATHER: Duration = Duration::from_millis(50);
/// Rounds one call may take, at most.
pub const MAX_ROUNDS: u32 = 10;

/// A call held open upstream while its client answers.
pub(super) struct Parked {
    call: Call,
    /// `inputRequests` key → the gateway id of the backend's request.
    pending: Vec<(String, Value)>,
    /// What the client was asked (for a round that answers only part of it).
    asked: Map<String, Value>,
    principal: String,
    cx: Context,
    backend: String,
    rounds: u32,
    expires: Instant,
}

/// What a retry carrying `requestState` resumes.
pub(super) enum Resumed {
    /// A call the gateway held open upstream, driven again.
    Call(Call),
    /// The answer to send instead (a refusal, or another `input_required` round).
    Reply(Value),
    /// The request to forward, with the backend's own `requestState` restored.
    Forward(Value),
}

/// What one round gathered.
#[derive(Default)]
struct Round {
    asked: Map<String, Value>,
    pending: Vec<(String, Value)>,
    /// The call's response, when it came instead of waiting.
    done: Option<Value>,
}

fn capability_of(method: &str) -> Option<&'static str> {
    match method {
        "elicitation/create" => Some("elicitation"),
        "sampling/createMessage" => Some("sampling"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

/// Whether a backend message is a request (it has both a method and an id).
fn is_request(m: &Value) -> bool {
    m.get("method").is_some() && m.get("id").is_some()
}

impl Router {
    /// Drive a forwarded call of a 2026-07-28 client (its request `id`): notifications pass, a
    /// backend's server-to-client requests end the round with `input_required`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn mrtr_drive(
        self: &Arc<Self>,
        cx: &Context,
        id: Value,
        call: Call,
        backend: &str,
        method: &str,
        name: &str,
        // Owned: kept for the response (a seal or a task binding names them), not copied.
        arguments: Option<Value>,
        rounds: u32,
    ) -> Call {
        if cx
            .view
            .links
            .link(backend)
            .is_some_and(|l| l.is_stateless())
        {
            return self.finish_stateless(cx, id, call, backend, method, name, arguments);
        }
        let (tx, rx) = mpsc::channel(CALL_STREAM_CAPACITY);
        let router = self.clone();
        let cx = cx.clone();
        let backend = backend.to_owned();
        // What a `requestState` is bound to; the arguments' digest is taken only if one is
        // sealed (most calls complete without a round).
        let (method, name) = (method.to_owned(), name.to_owned());
        let args = arguments;
        // Dropped (the client closed its stream), it drops the forwarded call with it, which
        // tells the backend.
        Call::until_dropped(
            async move {
                let id_args = || (method.clone(), name.clone(), args_digest(args.as_ref()));
                let mut call = call;
                loop {
                    let Some(next) = call.next().await else {
                        return RouteError::Internal("the call ended without a response")
                            .response(id);
                    };
                    match next {
                        Next::Response(r) => {
                            let r = router
                                .settle(&cx, r, &backend, &method, &name, args.as_ref())
                                .await;
                            return with_id(r, id);
                        }
                        Next::Related(m) if is_request(&m) => {
                            let round = router.gather(&cx, &mut call, m, &tx).await;
                            if let Some(r) = round.done {
                                return with_id(r, id);
                            }
                            if round.pending.is_empty() {
                                // Every request was refused (undeclared capabilities): the
                                // call goes on.
                                continue;
                            }
                            let reply = router.hold(
                                &cx,
                                call,
                                &backend,
                                round.pending,
                                round.asked,
                                &id_args(),
                                rounds,
                            );
                            return with_id(reply, id);
                        }
                        Next::Related(m) => {
                            let _ = tx.send(m).await;
                        }
                    }
                }
            },
            rx,
        )
    }

    /// [`Router::mrtr_drive`] for a call to a 2026-07-28 backend. It sends no server-to-client
    /// request on a response stream (`upstream::modern` refuses one as a protocol error), so
    /// no round can start mid-call: its notifications pass as they are, and its response is
    /// sealed (its own `input_required`) or bound (a task) on the way out, without a second
    /// call around the first.
    #[allow(clippy::too_many_arguments)]
    fn finish_stateless(
        self: &Arc<Self>,
        cx: &Context,
        id: Value,
        call: Call,
        backend: &str,
        method: &str,
        name: &str,
        args: Option<Value>,
    ) -> Call {
        let router = self.clone();
        let cx = cx.clone();
        let backend = backend.to_owned();
        let (method, name) = (method.to_owned(), name.to_owned());
        call.then_response(move |r| async move {
            let r = router
                .settle(&cx, r, &backend, &method, &name, args.as_ref())
                .await;
            with_id(r, id)
        })
    }

    /// A backend's final response to a call, on its way to the client: sealed when it is the
    /// backend's own `input_required` (the `requestState` bound to the call's method, name and
    /// arguments' digest, taken only then), bound to the caller when it starts a task.
    async fn settle(
        &self,
        cx: &Context,
        r: Value,
        backend: &str,
        method: &str,
        name: &str,
        args: Option<&Value>,
    ) -> Value {
        let r = if needs_seal(&r) {
            let id_args = (method.to_owned(), name.to_owned(), args_digest(args));
            self.seal_backend_round(cx, r, backend, &id_args)
        } else {
            r
        };
        if method == "tools/call" {
            self.bind_task(cx, r, backend, name, args).await
        } else {
            r
        }
    }

    /// The backend asked the client something: gather what else it asks at once (forwarding
    /// notifications as they come).
    async fn gather(
        &self,
        cx: &Context,
        call: &mut Call,
        first: Value,
        tx: &mpsc::Sender<Value>,
    ) -> Round {
        let mut round = Round::default();
        let mut next = Some(first);
        loop {
            if let Some(m) = next.take() {
                if is_request(&m) {
                    self.ask(cx, m, &mut round.asked, &mut round.pending).await;
                } else {
                    let _ = tx.send(m).await;
                }
            }
            match tokio::time::timeout(GATHER, call.next()).await {
                Ok(Some(Next::Related(m))) => next = Some(m),
                // The backend answered without waiting for anything it asked.
                Ok(Some(Next::Response(r))) => {
                    round.done = Some(r);
                    return round;
                }
                Ok(None) => {
                    round.done = Some(
                        RouteError::Internal("the call ended without a response")
                            .response(Value::Null),
                    );
                    return round;
                }
                Err(_) => return round,
            }
        }
    }

    /// One backend request for the client: kept for the round if the client declared the
    /// capability on this request, else refused to the backend.
    async fn ask(
        &self,
        cx: &Context,
        mut m: Value,
        asked: &mut Map<String, Value>,
        pending: &mut Vec<(String, Value)>,
    ) {
        let gid = m.get("id").cloned().unwrap_or(Value::Null);
        let method = protocol::method(&m).unwrap_or("").to_owned();
        let declared =
            capability_of(&method).is_some_and(|c| cx.client.capabilities.get(c).is_some());
        if !declared {
            let refusal = protocol::error_response(
                gid,
                protocol::code::METHOD_NOT_FOUND,
                format!("the client did not declare the capability for `{method}`"),
                None,
            );
            cx.view.links.answer(refusal).await;
            return;
        }
        let mut params = m
            .get_mut("params")
            .map(Value::take)
            .unwrap_or_else(|| json!({}));
        if let Some(p) = params.as_object_mut() {
            p.remove("_meta");
        }
        let key = format!("r{}", protocol::id_key(&gid).trim_start_matches("n:"));
        asked.insert(key.clone(), json!({ "method": method, "params": params }));
        pending.push((key, gid));
    }

    /// Park `call` and answer the client with what it must provide.
    #[allow(clippy::too_many_arguments)]
    fn hold(
        &self,
        cx: &Context,
        call: Call,
        backend: &str,
        pending: Vec<(String, Value)>,
        asked: Map<String, Value>,
        id_args: &(String, String, String),
        rounds: u32,
    ) -> Value {
        let parked_id = hex::encode(rand::random::<[u8; 16]>());
        let sealer = &self.sealer;
        let state = sealer.state(
            &cx.principal.key(),
            backend,
            &id_args.0,
            &id_args.1,
            &id_args.2,
            Inner::Parked(parked_id.clone()),
        );
        let token = sealer.seal(&state);
        let requests: Map<String, Value> = pending
            .iter()
            .filter_map(|(k, _)| asked.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        lock(&self.parked).insert(
            parked_id,
            Parked {
                call,
                pending,
                asked,
                principal: cx.principal.key(),
                cx: cx.clone(),
                backend: backend.to_owned(),
                rounds: rounds + 1,
                expires: Instant::now() + sealer.ttl(),
            },
        );
        protocol::result_response(
            Value::Null,
            json!({
                "resultType": "input_required",
                "inputRequests": requests,
                "requestState": token,
            }),
        )
    }

    /// A retry of a 2026-07-28 client carrying `requestState`, already past the guard chain:
    /// resume the call it names. `None`: the state is not one of ours for a parked call (the
    /// caller forwards it as a backend's own state).
    pub(super) async fn resume(
        self: &Arc<Self>,
        cx: &Context,
        msg: &Value,
        backend: &str,
        method: &str,
        name: &str,
    ) -> Resumed {
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let params = protocol::params(msg);
        let token = params
            .and_then(|p| p.get("requestState"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let arguments = params.and_then(|p| p.get("arguments"));
        let principal = cx.principal.key();
        let args = args_digest(arguments);
        let expect = Expect {
            principal: &principal,
            method,
            name,
            args: &args,
        };
        let state = match self.sealer.open_shared(token, &expect).await {
            Ok(s) => s,
            Err(e) => {
                let mut rec = cx.caller().record(Kind::Call, Decision::Deny);
                rec.request_id = Some(id.to_string());
                rec.method = Some(method.to_owned());
                rec.tool = Some(name.to_owned());
                rec.reason = Some(format!("requestState refused: {e}"));
                self.guard.event(rec);
                return Resumed::Reply(RouteError::InvalidState(e.to_string()).response(id));
            }
        };
        if state.backend != backend {
            return Resumed::Reply(
                RouteError::InvalidState("issued for another backend".into()).response(id),
            );
        }
        let parked_id = match state.inner {
            Inner::Parked(p) => p,
            Inner::Backend(own) => {
                // The backend's own state goes back to it, never the gateway's.
                let mut forward = msg.clone();
                if let Some(p) = protocol::params_mut(&mut forward) {
                    match own {
                        Some(s) => p.insert("requestState".into(), Value::String(s)),
                        None => p.remove("requestState"),
                    };
                }
                return Resumed::Forward(forward);
            }
        };
        let parked = lock(&self.parked).remove(&parked_id);
        let Some(mut parked) = parked else {
            return Resumed::Reply(
                RouteError::InvalidState(
                    "the call this state belongs to is no longer held (it expired)".into(),
                )
                .response(id),
            );
        };
        if parked.principal != principal {
            return Resumed::Reply(
                RouteError::InvalidState("issued to another principal".into()).response(id),
            );
        }
        let responses = match params.and_then(|p| p.get("inputResponses")) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(_) => {
                // Put it back: a malformed retry does not lose the call.
                lock(&self.parked).insert(parked_id, parked);
                return Resumed::Reply(
                    RouteError::InvalidArguments(
                        "`inputResponses` must be an object keyed like `inputRequests`".into(),
                    )
                    .response(id),
                );
            }
        };
        let mut still = Vec::new();
        for (key, gid) in std::mem::take(&mut parked.pending) {
            match responses.get(&key) {
                Some(result @ Value::Object(_)) => {
                    let answer = json!({ "jsonrpc": "2.0", "id": gid, "result": result });
                    parked.cx.view.links.answer(answer).await;
                }
                _ => still.push((key, gid)),
            }
        }
        let id_args = (method.to_owned(), name.to_owned(), args);
        if !still.is_empty() {
            // Only part answered: ask again for the rest.
            let asked = std::mem::take(&mut parked.asked);
            let reply = self.hold(
                &parked.cx,
                parked.call,
                &parked.backend,
                still,
                asked,
                &id_args,
                parked.rounds,
            );
            return Resumed::Reply(with_id(reply, id));
        }
        if parked.rounds > MAX_ROUNDS {
            return Resumed::Reply(
                RouteError::Internal("the backend asked for input too many times").response(id),
            );
        }
        Resumed::Call(self.mrtr_drive(
            cx,
            id,
            parked.call,
            &parked.backend,
            method,
            name,
            arguments.cloned(),
            parked.rounds,
        ))
    }

    /// A 2026-07-28 backend's own `input_required`: its `requestState` (if any) travels
    /// sealed inside the gateway's, bound to this principal, backend, tool and arguments.
    fn seal_backend_round(
        &self,
        cx: &Context,
        mut r: Value,
        backend: &str,
        id_args: &(String, String, String),
    ) -> Value {
        let Some(result) = r.get_mut("result").and_then(Value::as_object_mut) else {
            return r;
        };
        if result.get("resultType").and_then(Value::as_str) != Some("input_required") {
            return r;
        }
        let own = result
            .get("requestState")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let state = self.sealer.state(
            &cx.principal.key(),
            backend,
            &id_args.0,
            &id_args.1,
            &id_args.2,
            Inner::Backend(own),
        );
        result.insert(
            "requestState".into(),
            Value::String(self.sealer.seal(&state)),
        );
        r
    }

    /// Forget parked calls whose client never came back: their backends hear an error.
    pub async fn expire_parked(&self) {
        let now = Instant::now();
        let gone: Vec<Parked> = {
            let mut parked = lock(&self.parked);
            let ids: Vec<String> = parked
                .iter()
                .filter(|(_, p)| p.expires <= now)
                .map(|(k, _)| k.clone())
                .collect();
            ids.iter().filter_map(|k| parked.remove(k)).collect()
        };
        for p in gone {
            for (_, gid) in &p.pending {
                let refusal = protocol::error_response(
                    gid.clone(),
                    protocol::code::REQUEST_CANCELLED,
                    "the client did not provide the input in time",
                    None,
                );
                p.cx.view.links.answer(refusal).await;
            }
            // Dropped unfinished, the call runs to its end and its bookkeeping is cleaned up.
            drop(p.call);
        }
    }
}

/// `reply` (a response built without an id) answering request `id`.
/// Whether a backend's response asks for input (`input_required`): its `requestState` is then
/// sealed by the gateway before the client sees it.
fn needs_seal(r: &Value) -> bool {
    protocol::field(r, "result")
        .and_then(|res| protocol::field(res, "resultType"))
        .and_then(Value::as_str)
        == Some("input_required")
}

fn with_id(mut reply: Value, id: Value) -> Value {
    if let Some(o) = reply.as_object_mut() {
        protocol::set(o, "id", id);
    }
    reply
}

/// Parked calls, by id.
pub(super) type ParkedCalls = std::sync::Mutex<HashMap<String, Parked>>;

/// Ids of the requests the gateway sends a 2025-era client on a 2026-07-28 backend's behalf.
static NEXT_BRIDGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Requests sent to 2025-era clients for a 2026-07-28 backend, by id, awaiting the answer.
pub(super) type Bridged = std::sync::Mutex<HashMap<String, tokio::sync::oneshot::Sender<Value>>>;

impl Router {
    /// Forward a 2025-era client's call; when the backend speaks 2026-07-28, its
    /// `input_required` rounds become requests to the client (`bridge`).
    pub(super) fn forward_bridged(
        self: &Arc<Self>,
        cx: &Context,
        backend: String,
        msg: Value,
    ) -> super::Reply {
        let stateless = cx
            .view
            .links
            .link(&backend)
            .is_some_and(|l| l.is_stateless());
        let retry = msg.clone();
        match self.stream_forward(cx, backend.clone(), msg) {
            super::Reply::Call(call) if stateless => {
                super::Reply::Call(self.bridge(cx, backend, retry, call))
            }
            reply => reply,
        }
    }

    /// Drive a 2025-era client's call to a 2026-07-28 backend: each `input_required` result is
    /// asked of the client as real requests on the call's stream (only what it declared it can
    /// answer), and the request is retried with its answers and the backend's `requestState`,
    /// for at most [`MAX_ROUNDS`] rounds. The client sees one call.
    fn bridge(self: &Arc<Self>, cx: &Context, backend: String, msg: Value, call: Call) -> Call {
        let (tx, rx) = mpsc::channel(CALL_STREAM_CAPACITY);
        let router = self.clone();
        let cx = cx.clone();
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        Call::new(
            async move {
                let mut call = call;
                let mut rounds = 0u32;
                loop {
                    let resp = loop {
                        match call.next().await {
                            Some(Next::Related(m)) => {
                                let _ = tx.send(m).await;
                            }
                            Some(Next::Response(r)) => break r,
                            None => {
                                return RouteError::Internal("the call ended without a response")
                                    .response(id);
                            }
                        }
                    };
                    let Some(result) = resp.get("result").filter(|r| {
                        r.get("resultType").and_then(Value::as_str) == Some("input_required")
                    }) else {
                        return legacy_result(resp);
                    };
                    rounds += 1;
                    if rounds > MAX_ROUNDS {
                        return RouteError::Internal("the backend asked for input too many times")
                            .response(id);
                    }
                    let asked = result
                        .get("inputRequests")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    let answers = match router.ask_client(&cx, &asked, &tx).await {
                        Ok(a) => a,
                        Err(e) => return e.response(id),
                    };
                    let mut next = msg.clone();
                    if let Some(p) = protocol::params_mut(&mut next) {
                        p.insert("inputResponses".into(), Value::Object(answers));
                        match result.get("requestState") {
                            Some(s) => p.insert("requestState".into(), s.clone()),
                            None => p.remove("requestState"),
                        };
                    }
                    call = match router.stream_forward(&cx, backend.clone(), next) {
                        super::Reply::Call(c) => c,
                        super::Reply::Json(v) => return v,
                    };
                }
            },
            rx,
        )
    }

    /// Ask a 2025-era client what a 2026-07-28 backend needs: one request each, concurrently,
    /// answered by the client's responses (`handle_response`).
    async fn ask_client(
        &self,
        cx: &Context,
        asked: &Map<String, Value>,
        tx: &mpsc::Sender<Value>,
    ) -> Result<Map<String, Value>, RouteError> {
        let mut waits = Vec::new();
        for (key, request) in asked {
            let method = request.get("method").and_then(Value::as_str).unwrap_or("");
            let declared =
                capability_of(method).is_some_and(|c| cx.client.capabilities.get(c).is_some());
            if !declared {
                return Err(RouteError::InvalidArguments(format!(
                    "the backend needs `{method}`, which this client did not declare it can answer"
                )));
            }
            let mut params = request.get("params").cloned().unwrap_or_else(|| json!({}));
            // 2025-11-25 needs an id on a URL-mode elicitation; 2026-07-28 has none.
            if method == "elicitation/create"
                && params.get("mode").and_then(Value::as_str) == Some("url")
            {
                if let Some(p) = params.as_object_mut() {
                    p.entry("elicitationId")
                        .or_insert_with(|| Value::String(hex::encode(rand::random::<[u8; 8]>())));
                }
            }
            let gid = format!(
                "pb-{}",
                NEXT_BRIDGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            let (answer, wait) = tokio::sync::oneshot::channel();
            lock(&self.bridged).insert(protocol::id_key(&Value::String(gid.clone())), answer);
            let req = json!({ "jsonrpc": "2.0", "id": gid, "method": method, "params": params });
            if tx.send(req).await.is_err() {
                return Err(RouteError::Internal("the client's stream is closed"));
            }
            waits.push((key.clone(), gid, wait));
        }
        let mut answers = Map::new();
        let limit = self.sealer.ttl();
        for (key, gid, wait) in waits {
            let got = tokio::time::timeout(limit, wait).await;
            lock(&self.bridged).remove(&protocol::id_key(&Value::String(gid)));
            let reply = match got {
                Ok(Ok(r)) => r,
                _ => {
                    return Err(RouteError::InvalidArguments(
                        "the client did not answer the backend's request in time".into(),
                    ));
                }
            };
            match reply.get("result") {
                Some(r) => {
                    answers.insert(key, r.clone());
                }
                None => {
                    let why = reply
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("it answered with an error");
                    return Err(RouteError::InvalidArguments(format!(
                        "the client refused the backend's request: {why}"
                    )));
                }
            }
        }
        Ok(answers)
    }

    /// A client's response to a request the gateway sent it on a backend's behalf; `false`:
    /// not one of those.
    pub(super) fn answer_bridged(&self, msg: &Value) -> bool {
        let Some(id) = msg.get("id") else {
            return false;
        };
        let waiting = lock(&self.bridged).remove(&protocol::id_key(id));
        match waiting {
            Some(w) => {
                let _ = w.send(msg.clone());
                true
            }
            None => false,
        }
    }
}

/// A 2026-07-28 result as a 2025-era client reads it: the revision's own fields go (a 2025
/// client must tolerate them, but the 2025 wire is cleaner without).
fn legacy_result(mut resp: Value) -> Value {
    if let Some(r) = resp.get_mut("result").and_then(Value::as_object_mut) {
        if r.get("resultType").and_then(Value::as_str) == Some("complete") {
            r.remove("resultType");
        }
        r.remove("ttlMs");
        r.remove("cacheScope");
        let empty = match r.get_mut("_meta").and_then(Value::as_object_mut) {
            Some(m) => {
                m.remove(crate::protocol::meta_keys::SERVER_INFO);
                m.is_empty()
            }
            None => false,
        };
        if empty {
            r.remove("_meta");
        }
    }
    resp
}
