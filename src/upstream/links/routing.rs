//! What crosses a link: messages the backend sends on its own (routed to a call's stream, to
//! one client, to every attached client or to subscribers, never across principals) and calls
//! forwarded to it, in a 2025-era session or as 2026-07-28 stateless requests.

use super::*;

impl Link {
    // ----- messages from the backend -----

    pub(super) async fn on_backend_message(self: &Arc<Self>, inb: Inbound) {
        let backend = self.spec.name.as_str();
        let Inbound {
            mut msg, related, ..
        } = inb;
        let mut call = related;
        // Without a relation from the transport (stdio), the newest call in flight is a guess;
        // on a link several principals share it could be another principal's call, so there
        // is no guessing there: the message goes to no call.
        let may_guess = self.one_principal();
        match protocol::classify(&msg) {
            Ok(protocol::Kind::Request) => {
                if protocol::method(&msg) == Some("ping") {
                    if let (Some(id), Ok(Via::Session(conn))) = (msg.get("id").cloned(), self.via())
                    {
                        let _ = conn.send(protocol::result_response(id, json!({}))).await;
                    }
                    return;
                }
                let upstream_id = msg.get("id").cloned().unwrap_or(Value::Null);
                let client_id = Value::from(NEXT_SERVER_REQUEST.fetch_add(1, Ordering::Relaxed));
                if let Some(o) = msg.as_object_mut() {
                    o.insert("id".into(), client_id.clone());
                }
                let mut routes = lock(&self.routes);
                routes.server_reqs.insert(id_key(&client_id), upstream_id);
                // stdio gives no relation; the backend's newest call in flight is the best guess.
                if call.is_none_or(|c| !routes.calls.contains_key(&c)) {
                    call = routes.calls.keys().max().copied().filter(|_| may_guess);
                }
                self.deliver(routes, msg, call, Audience::One);
            }
            Ok(protocol::Kind::Notification) => {
                let method = protocol::method(&msg).unwrap_or("").to_owned();
                let mut audience = Audience::All;
                let mut routes = lock(&self.routes);
                match method.as_str() {
                    "notifications/progress" => {
                        let token = protocol::params(&msg)
                            .and_then(|p| p.get("progressToken"))
                            .map(id_key);
                        let mapped = token.and_then(|t| routes.progress.get(&t).cloned());
                        if let Some((client_token, u)) = mapped {
                            if let Some(p) = protocol::params_mut(&mut msg) {
                                p.insert("progressToken".into(), client_token);
                            }
                            call = Some(u);
                        }
                        audience = Audience::One;
                    }
                    "notifications/cancelled" => {
                        // The backend gave up on a request it sent the client: use our id.
                        let up = protocol::params(&msg)
                            .and_then(|p| p.get("requestId"))
                            .cloned();
                        if let Some(up) = up {
                            let found = routes
                                .server_reqs
                                .iter()
                                .find(|(_, u)| **u == up)
                                .map(|(k, _)| k.clone());
                            if let Some(k) = found {
                                routes.server_reqs.remove(&k);
                                if let Some(p) = protocol::params_mut(&mut msg) {
                                    p.insert("requestId".into(), key_to_id(&k));
                                }
                            }
                        }
                    }
                    "notifications/message" if call.is_none() && may_guess => {
                        call = routes.calls.keys().max().copied();
                    }
                    "notifications/resources/updated" => {
                        let uri = protocol::params(&msg)
                            .and_then(|p| p.get("uri"))
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        if let Some(subscribed) = routes.subs.get(uri) {
                            audience = Audience::These(subscribed.clone());
                        }
                    }
                    _ => {}
                }
                let change = match method.as_str() {
                    "notifications/tools/list_changed" => Some(ListChange::Tools),
                    "notifications/prompts/list_changed" => Some(ListChange::Prompts),
                    "notifications/resources/list_changed" => Some(ListChange::Resources),
                    _ => None,
                };
                if let Some(change) = change {
                    drop(routes);
                    for (_, owner, _) in self.owners() {
                        owner.list_changed(backend, change);
                    }
                    audience = Audience::Everyone;
                    routes = lock(&self.routes);
                }
                self.deliver(routes, msg, call, audience);
            }
            Ok(protocol::Kind::Response) => {
                tracing::debug!(backend, "dropping a response nobody waits for");
            }
            Err(e) => tracing::warn!(backend, error = %e, "dropping invalid message from backend"),
        }
    }

    /// Send a backend's message to its clients: on the stream of the call it relates to if that
    /// is open; otherwise to the audience's standalone streams (requests and progress, which a
    /// client must see for its call to progress, also on any open call stream), else queued.
    pub(super) fn deliver(
        &self,
        routes: std::sync::MutexGuard<'_, Routes>,
        msg: Value,
        call: Option<u64>,
        audience: Audience,
    ) {
        let mut msg = msg;
        if let Some(c) = call.and_then(|c| routes.calls.get(&c)) {
            match c.sink.try_send(msg) {
                Ok(()) => return,
                Err(e) => msg = e.into_inner(),
            }
        }
        let urgent = matches!(audience, Audience::One);
        let owners = self.owners();
        // Never across principals: on a link several principals share, only list changes (about
        // the backend, not a user) and updates to what a client subscribed go to clients.
        let shared_by_many = !self.one_principal();
        let targets: Vec<&(u64, Arc<dyn Owner>, String)> = match &audience {
            Audience::Everyone => owners.iter().collect(),
            Audience::These(ids) => owners.iter().filter(|(id, ..)| ids.contains(id)).collect(),
            Audience::All | Audience::One if shared_by_many => Vec::new(),
            Audience::All | Audience::One => owners.iter().collect(),
        };
        if targets.is_empty() {
            if shared_by_many {
                tracing::debug!(link = %self.label, "message for no single client of a shared link; dropped");
            }
            return;
        }
        if matches!(audience, Audience::One) {
            // One client must see it: the first with a stream open, else any call stream, else
            // the first client's queue.
            for (_, owner, _) in &targets {
                match owner.send_standalone(msg) {
                    Ok(()) => return,
                    Err(m) => msg = m,
                }
            }
            if urgent || msg.get("id").is_some() {
                for c in routes.calls.values() {
                    match c.sink.try_send(msg) {
                        Ok(()) => return,
                        Err(e) => msg = e.into_inner(),
                    }
                }
            }
            drop(routes);
            if let Some((_, owner, _)) = targets.first() {
                owner.queue(msg);
            }
            return;
        }
        drop(routes);
        for (_, owner, _) in targets {
            if let Err(m) = owner.send_standalone(msg.clone()) {
                owner.queue(m);
            }
        }
    }

    // ----- forwarding client requests -----

    pub(super) async fn forward(
        self: &Arc<Self>,
        owner: u64,
        client_key: &str,
        mut msg: Value,
        sink: mpsc::Sender<Value>,
        env: &Envelope,
    ) -> Forwarded {
        let conn = match self.via()? {
            Via::Session(conn) => conn,
            Via::Stateless(backend) => {
                return self
                    .forward_stateless(backend, owner, client_key, msg, sink, env)
                    .await;
            }
        };
        // A 2025-era backend takes no 2026-07-28 envelope or retry fields.
        strip_modern(&mut msg);
        let client_id = msg.get("id").cloned().unwrap_or(Value::Null);
        let uid = conn.next_id();
        let by_client = (owner, client_key.to_owned());
        let flight = InFlight { sink, abort: None };
        let gateway_token = self.register_call(uid, &by_client, &mut msg, flight);
        let called = call_target(&msg);
        let started = Instant::now();
        let result = conn.request_with_id(uid, msg).await;
        self.report_done(called.as_deref(), started, result.as_ref().err());
        // The backend's messages sent before its response (progress, logging) may still be
        // queued for the supervisor: deliver them while the routes they need are in place.
        conn.flush_inbound().await;
        self.unregister_call(uid, &by_client, gateway_token);
        match result {
            Ok(mut resp) => {
                if let Some(o) = resp.as_object_mut() {
                    o.insert("id".into(), client_id);
                }
                Ok(resp)
            }
            Err(e) => {
                if matches!(
                    e,
                    UpstreamError::Unavailable { .. } | UpstreamError::SessionExpired { .. }
                ) && !conn.is_alive()
                {
                    self.down(e.to_string());
                }
                Err(e)
            }
        }
    }
}

impl Link {
    /// Forward a client request to a 2026-07-28 backend: one stateless request with the
    /// caller's envelope and credential; its notifications go to the call's stream as they
    /// come, the response last.
    pub(super) async fn forward_stateless(
        self: &Arc<Self>,
        backend: Arc<ModernBackend>,
        owner: u64,
        client_key: &str,
        mut msg: Value,
        sink: mpsc::Sender<Value>,
        env: &Envelope,
    ) -> Forwarded {
        let client_id = protocol::id(&msg).cloned().unwrap_or(Value::Null);
        let uid = self.next_uid.fetch_add(1, Ordering::Relaxed);
        if let Some(o) = msg.as_object_mut() {
            protocol::set(o, "id", Value::from(uid));
        }
        let by_client = (owner, client_key.to_owned());
        let abort = CancellationToken::new();
        let flight = InFlight {
            sink: sink.clone(),
            abort: Some(abort.clone()),
        };
        let gateway_token = self.register_call(uid, &by_client, &mut msg, flight);
        let called = call_target(&msg);
        // `Mcp-Param-*` from the tool's schema as the backend listed it.
        let params = (protocol::method(&msg) == Some("tools/call"))
            .then(|| called.as_deref().and_then(|n| self.param_headers(n)))
            .flatten();
        let started = Instant::now();
        let result = async {
            let call = modern::Call {
                credential: self.credential().await?,
                trace: None,
                params: params.as_ref(),
            };
            let mut reply = backend.request(env, msg, call).await?;
            loop {
                let event = tokio::select! {
                    // Dropping the reply aborts the request: cancellation in 2026-07-28.
                    _ = abort.cancelled() => return Err(UpstreamError::Cancelled {
                        backend: self.spec.name.clone(),
                    }),
                    ev = reply.next() => ev?,
                };
                match event {
                    modern::ReplyEvent::Response(r) => return Ok(r),
                    modern::ReplyEvent::Notification(mut n) => {
                        self.restore_progress_token(&mut n);
                        if sink.try_send(n).is_err() {
                            tracing::debug!(backend = %self.spec.name, "call stream closed; notification dropped");
                        }
                    }
                }
            }
        }
        .await;
        self.report_done(called.as_deref(), started, result.as_ref().err());
        self.unregister_call(uid, &by_client, gateway_token);
        let mut resp = result?;
        if let Some(o) = resp.as_object_mut() {
            protocol::set(o, "id", client_id);
        }
        Ok(resp)
    }

    /// A forwarded call (upstream id `uid`) into the routes before it is sent: its stream,
    /// the client's key for it, and a progress token of the gateway's in place of the
    /// client's (given back on its notifications by [`Self::restore_progress_token`]). Returns
    /// the gateway's token, for [`Self::unregister_call`].
    fn register_call(
        &self,
        uid: u64,
        by_client: &(u64, String),
        msg: &mut Value,
        flight: InFlight,
    ) -> Option<Value> {
        let mut gateway_token = None;
        let mut routes = lock(&self.routes);
        if let Some(meta) = protocol::params_mut(msg)
            .and_then(|p| protocol::get_mut(p, "_meta"))
            .and_then(Value::as_object_mut)
        {
            if let Some(t) = protocol::get(meta, "progressToken").cloned() {
                let g = format!("pc-{}", self.next_token.fetch_add(1, Ordering::Relaxed));
                protocol::set(meta, "progressToken", Value::String(g.clone()));
                let g = Value::String(g);
                routes.progress.insert(id_key(&g), (t, uid));
                gateway_token = Some(g);
            }
        }
        routes.calls.insert(uid, flight);
        routes.by_client.insert(by_client.clone(), uid);
        gateway_token
    }

    /// A finished call out of the routes ([`Self::register_call`] undone); the client's key
    /// is left alone when a newer call of the client's has taken it.
    fn unregister_call(&self, uid: u64, by_client: &(u64, String), gateway_token: Option<Value>) {
        let mut routes = lock(&self.routes);
        routes.calls.remove(&uid);
        if routes.by_client.get(by_client) == Some(&uid) {
            routes.by_client.remove(by_client);
        }
        if let Some(g) = gateway_token {
            routes.progress.remove(&id_key(&g));
        }
    }

    /// Tell the hooks a forwarded call ended (`called`: what it was for, see [`call_target`]).
    fn report_done(&self, called: Option<&str>, started: Instant, error: Option<&UpstreamError>) {
        if let Some(hooks) = self.hooks() {
            hooks.call_done(&self.spec.name, called, started.elapsed(), error);
        }
    }

    /// A progress notification with the client's own token again.
    pub(super) fn restore_progress_token(&self, n: &mut Value) {
        if protocol::method(n) != Some("notifications/progress") {
            return;
        }
        let token = protocol::params(n)
            .and_then(|p| p.get("progressToken"))
            .map(id_key);
        let mapped = token.and_then(|t| lock(&self.routes).progress.get(&t).cloned());
        if let (Some((client_token, _)), Some(p)) = (mapped, protocol::params_mut(n)) {
            p.insert("progressToken".into(), client_token);
        }
    }

    /// The `x-mcp-header` annotations of tool `name` as the backend listed it.
    pub(super) fn param_headers(&self, name: &str) -> Option<ParamHeaders> {
        lock(&self.tool_params).get(name).cloned()
    }
}

/// The tool, prompt or URI a forwarded request is for (`name`, else `uri`, of its params).
fn call_target(msg: &Value) -> Option<String> {
    protocol::params(msg)
        .and_then(|p| protocol::get(p, "name").or_else(|| protocol::get(p, "uri")))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// What a 2025-era backend takes of a request: no 2026-07-28 envelope (the progress token and
/// trace context stay) and no MRTR retry fields (the gateway answers those itself).
pub(super) fn strip_modern(msg: &mut Value) {
    let Some(params) = protocol::params_mut(msg) else {
        return;
    };
    params.remove("inputResponses");
    params.remove("requestState");
    let empty = match params.get_mut("_meta").and_then(Value::as_object_mut) {
        Some(meta) => {
            meta.retain(|k, _| !k.starts_with("io.modelcontextprotocol/"));
            meta.is_empty()
        }
        None => false,
    };
    if empty {
        params.remove("_meta");
    }
}
