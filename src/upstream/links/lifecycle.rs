//! A link's life: connecting in the era its backend speaks (probing it when nobody has), the
//! 2026-07-28 listen stream, the supervisor of a 2025-era session, going down, recovering with
//! backoff, closing.

use super::*;

impl Link {
    /// Connect (once; the caller decides about retries).
    pub(super) async fn connect(self: &Arc<Self>) -> Result<(), UpstreamError> {
        let hooks = self.hooks().ok_or_else(|| UpstreamError::Unavailable {
            backend: self.spec.name.clone(),
            reason: "the gateway is shutting down".into(),
        })?;
        hooks.before_start(&self.spec)?;
        if self.stateless_era().await? {
            return self.connect_stateless(hooks.as_ref()).await;
        }
        let (tx, rx) = mpsc::channel(256);
        let (conn, init) = Conn::connect(
            self.spec.clone(),
            self.init_params.clone(),
            tx,
            Some(self.binding()),
        )
        .await?;
        hooks.connected(&self.spec.name, &init);
        self.set(LinkState::Up {
            via: Via::Session(conn.clone()),
            init,
        });
        if self.cancel.is_cancelled() {
            conn.close().await;
            return Ok(());
        }
        self.spawn_supervisor(conn, rx);
        Ok(())
    }

    /// Whether to speak 2026-07-28 to the backend: what its config says, else what it was found
    /// to speak (probing it now if nobody has), the client's own era when it speaks both.
    pub(super) async fn stateless_era(&self) -> Result<bool, UpstreamError> {
        let eras = match self.spec.protocol {
            BackendProtocol::Modern => return Ok(true),
            BackendProtocol::Legacy => return Ok(false),
            BackendProtocol::Auto => {
                match self.pool.upgrade().and_then(|p| p.eras(&self.spec.name)) {
                    Some(e) => e,
                    None => {
                        let e = probe_eras(&self.spec, self.credential().await?).await?;
                        if let Some(pool) = self.pool.upgrade() {
                            pool.note_eras(&self.spec.name, e);
                        }
                        e
                    }
                }
            }
        };
        Ok(match (eras.modern, eras.legacy) {
            (true, true) => self.client_modern,
            (modern, _) => modern,
        })
    }

    pub(super) async fn connect_stateless(
        self: &Arc<Self>,
        hooks: &dyn Hooks,
    ) -> Result<(), UpstreamError> {
        let backend = Arc::new(ModernBackend::connect(self.spec.clone())?);
        let call = modern::Call {
            credential: self.credential().await?,
            ..Default::default()
        };
        let found = backend.discover(&self.own_envelope(), call).await?;
        // Shaped as an `initialize` result: capabilities, identity and instructions are read
        // the same way whatever the era.
        let mut init = json!({
            "protocolVersion": protocol::MODERN_VERSION,
            "capabilities": found.capabilities,
        });
        if let Some(o) = init.as_object_mut() {
            if let Some(info) = found.server_info {
                o.insert("serverInfo".into(), info);
            }
            if let Some(text) = found.instructions {
                o.insert("instructions".into(), Value::String(text));
            }
        }
        hooks.connected(&self.spec.name, &init);
        let caps = init.get("capabilities").cloned().unwrap_or(Value::Null);
        self.set(LinkState::Up {
            via: Via::Stateless(backend.clone()),
            init,
        });
        if self.cancel.is_cancelled() {
            backend.close().await;
            return Ok(());
        }
        self.spawn_listener(backend, caps);
        Ok(())
    }

    /// The filter of this link's upstream `subscriptions/listen`: the list changes the backend
    /// announces, and the resources its clients subscribed (when it supports subscriptions).
    pub(super) fn listen_filter(&self, caps: &Value) -> serde_json::Map<String, Value> {
        let flag =
            |cap: &str| caps.pointer(&format!("/{cap}/listChanged")) == Some(&Value::Bool(true));
        let mut filter = serde_json::Map::new();
        for (cap, key) in [
            ("tools", "toolsListChanged"),
            ("prompts", "promptsListChanged"),
            ("resources", "resourcesListChanged"),
        ] {
            if flag(cap) {
                filter.insert(key.into(), Value::Bool(true));
            }
        }
        if caps.pointer("/resources/subscribe") == Some(&Value::Bool(true)) {
            let uris: Vec<Value> = lock(&self.routes)
                .subs
                .keys()
                .map(|u| Value::String(u.clone()))
                .collect();
            if !uris.is_empty() {
                filter.insert("resourceSubscriptions".into(), Value::Array(uris));
            }
        }
        filter
    }

    /// A 2026-07-28 backend tells of changes on a `subscriptions/listen` stream: one per link,
    /// renewed when its clients' subscriptions change or when the stream breaks (then the
    /// backend may have restarted, and with no replay its clients hear their lists may have
    /// changed). The same task notices a stdio child that exits.
    pub(super) fn spawn_listener(self: &Arc<Self>, backend: Arc<ModernBackend>, caps: Value) {
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        let notify = self.listen_changed.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(250);
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                let Some(link) = weak.upgrade() else { return };
                if !backend.is_alive() {
                    link.down("the backend process exited".into());
                    return;
                }
                let changed = notify.notified();
                tokio::pin!(changed);
                let generation = link.listen_wanted.load(Ordering::SeqCst);
                let filter = link.listen_filter(&caps);
                if filter.is_empty() {
                    // Nothing to listen for: every renewal asked so far is in force.
                    link.listen_acked.send_if_modified(|a| {
                        let newer = generation > *a;
                        *a = (*a).max(generation);
                        newer
                    });
                    drop(link);
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = &mut changed => continue,
                        _ = tick.tick() => continue,
                    }
                }
                let id = Value::String(format!(
                    "portcullis-listen-{}",
                    link.next_uid.fetch_add(1, Ordering::Relaxed)
                ));
                let credential = link.credential().await;
                let env = link.own_envelope();
                drop(link);
                let opened = match credential {
                    Ok(credential) => {
                        let call = modern::Call {
                            credential,
                            ..Default::default()
                        };
                        tokio::select! {
                            _ = cancel.cancelled() => return,
                            s = backend.listen(&env, id, Value::Object(filter), call) => s,
                        }
                    }
                    Err(e) => Err(e),
                };
                let lost = match opened {
                    Err(e) => {
                        tracing::debug!(backend = %backend.name(), error = %e, "upstream listen failed; retrying");
                        true
                    }
                    Ok(mut stream) => loop {
                        tokio::select! {
                            _ = cancel.cancelled() => return,
                            _ = &mut changed => break false,
                            _ = tick.tick() => {
                                if !backend.is_alive() {
                                    break true;
                                }
                            }
                            ev = stream.next() => match ev {
                                modern::ListenEvent::Ack(_) => {
                                    delay = Duration::from_millis(250);
                                    if let Some(link) = weak.upgrade() {
                                        link.listen_acked.send_if_modified(|a| {
                                            let newer = generation > *a;
                                            *a = (*a).max(generation);
                                            newer
                                        });
                                    }
                                }
                                modern::ListenEvent::Notification(mut n) => {
                                    let Some(link) = weak.upgrade() else { return };
                                    if let Some(meta) = protocol::params_mut(&mut n)
                                        .and_then(|p| p.get_mut("_meta"))
                                        .and_then(Value::as_object_mut)
                                    {
                                        meta.remove(protocol::meta_keys::SUBSCRIPTION_ID);
                                    }
                                    link.on_backend_message(Inbound {
                                        msg: n,
                                        related: None,
                                        flushed: None,
                                    })
                                    .await;
                                }
                                modern::ListenEvent::Response(_)
                                | modern::ListenEvent::Dropped(_) => break true,
                            }
                        }
                    },
                };
                if lost {
                    if let Some(link) = weak.upgrade() {
                        for (_, owner, _) in link.owners() {
                            for change in [
                                ListChange::Tools,
                                ListChange::Prompts,
                                ListChange::Resources,
                            ] {
                                owner.list_changed(&link.spec.name, change);
                            }
                        }
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
            }
        });
    }

    /// The first connection: in the background, settling `settled` either way.
    pub(super) fn spawn_first_connect(self: &Arc<Self>) {
        let link = self.clone();
        tokio::spawn(async move {
            let result = link.connect().await;
            let name = link.spec.name.as_str();
            let believed_down = link.pool.upgrade().map(|pool| {
                let before = pool.known_down(name);
                note_health(&pool, name, &result);
                before
            });
            // The clients hear of an outcome the gateway did not expect when they attached: a
            // backend known to be down did not delay them and joins them now (`list_changed`);
            // one believed up that failed is reported down, as when a link drops.
            match result {
                Err(e) => {
                    tracing::warn!(backend = %name, link = %link.label, error = %e, "backend not connected; will retry");
                    let reason = e.to_string();
                    link.set(LinkState::Down {
                        reason: reason.clone(),
                    });
                    if believed_down == Some(false) {
                        for (_, owner, _) in link.owners() {
                            owner.backend_state(name, BackendState::Down { reason: &reason });
                        }
                    }
                    link.spawn_recovery();
                }
                Ok(()) => {
                    tracing::debug!(backend = %name, link = %link.label, "backend connected");
                    if believed_down == Some(true) {
                        tracing::info!(backend = %name, link = %link.label, "backend up after it was found down");
                        for (_, owner, _) in link.owners() {
                            owner.backend_state(name, BackendState::Up);
                        }
                    }
                }
            }
            let _ = link.settled.send(true);
        });
    }

    /// Route the backend's own messages while the connection lives; when it dies, mark the
    /// backend down, tell the clients, and start recovery.
    pub(super) fn spawn_supervisor(
        self: &Arc<Self>,
        conn: Arc<Conn>,
        mut rx: mpsc::Receiver<Inbound>,
    ) {
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            let reason = loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    m = rx.recv() => match m {
                        Some(Inbound { flushed: Some(done), .. }) => {
                            let _ = done.send(());
                        }
                        Some(inb) => {
                            let Some(link) = weak.upgrade() else { return };
                            link.on_backend_message(inb).await;
                            conn.inbound_handled();
                        }
                        None => break "the connection closed".to_owned(),
                    },
                    _ = tick.tick() => {
                        if !conn.is_alive() {
                            break "the connection was lost".to_owned();
                        }
                    }
                }
            };
            conn.close().await;
            let Some(link) = weak.upgrade() else { return };
            link.down(reason);
        });
    }

    /// Mark the link down (once), tell its clients, and reconnect in the background.
    pub fn down(self: &Arc<Self>, reason: String) {
        if !self.is_up() {
            return;
        }
        tracing::warn!(backend = %self.spec.name, link = %self.label, %reason, "backend down");
        self.set(LinkState::Down {
            reason: format!("{reason}; reconnecting"),
        });
        for (_, owner, _) in self.owners() {
            owner.backend_state(&self.spec.name, BackendState::Down { reason: &reason });
        }
        self.spawn_recovery();
    }

    pub(super) fn spawn_recovery(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(250);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                let Some(link) = weak.upgrade() else { return };
                let result = link.connect().await;
                if let Some(pool) = link.pool.upgrade() {
                    note_health(&pool, &link.spec.name, &result);
                }
                match result {
                    Ok(()) => {
                        tracing::info!(backend = %link.spec.name, link = %link.label, "backend back up");
                        for (_, owner, _) in link.owners() {
                            owner.backend_state(&link.spec.name, BackendState::Up);
                        }
                        return;
                    }
                    Err(e) => {
                        link.set(LinkState::Down {
                            reason: e.to_string(),
                        });
                        delay = (delay * 2).min(Duration::from_secs(30));
                    }
                }
            }
        });
    }

    /// Close the upstream session (HTTP DELETE, stdio child stopped).
    pub(super) async fn close(&self) {
        self.cancel.cancel();
        let via = self.via().ok();
        self.set(LinkState::Closed);
        match via {
            Some(Via::Session(conn)) => conn.close().await,
            Some(Via::Stateless(backend)) => backend.close().await,
            None => {}
        }
    }
}

/// Which eras a backend speaks: `server/discover` (a 2026-07-28 answer that lists 2025
/// versions too means both), else `initialize` is assumed.
pub async fn probe_eras(
    spec: &Arc<BackendSpec>,
    credential: Option<modern::Credential>,
) -> Result<Eras, UpstreamError> {
    let backend = ModernBackend::connect(spec.clone())?;
    let mut env = Envelope::new(json!({}));
    env.client_info =
        Some(json!({ "name": "portcullis-probe", "version": env!("CARGO_PKG_VERSION") }));
    let call = modern::Call {
        credential,
        ..Default::default()
    };
    let era = backend.probe(&env, call).await;
    backend.close().await;
    Ok(match era? {
        modern::Era::Modern(info) => Eras {
            modern: true,
            legacy: info
                .supported_versions
                .iter()
                .any(|v| protocol::SUPPORTED_VERSIONS.contains(&v.as_str())),
        },
        modern::Era::Legacy { .. } => Eras {
            modern: false,
            legacy: true,
        },
    })
}

/// Record a link's connection outcome as the backend's health, unless it was about one caller
/// only: a caller whose token cannot be exchanged must not make other callers' sessions stop
/// waiting for a backend that is up.
fn note_health(pool: &Pool, backend: &str, result: &Result<(), UpstreamError>) {
    match result {
        Ok(()) => pool.note_health(backend, true),
        Err(e) if e.is_about_backend() => pool.note_health(backend, false),
        Err(_) => {}
    }
}
