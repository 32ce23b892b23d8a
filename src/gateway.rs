//! The composition root: assembling a running gateway from a validated config — the guard chain,
//! the router, the edge with its sessions — and the start-up probe that fails a `manual` naming
//! setup with unresolved collisions before any client connects. Nothing below imports this
//! module.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::catalog::{Collision, Namer};
use crate::config::{Config, ConfigError, Strategy};
use crate::edge::{self, Edge, tls};
use crate::guard::Guard;
use crate::identity::Authenticator;
use crate::protocol;
use crate::router::Router;
use crate::session::Store;
use crate::upstream::{BackendSpec, Conn};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("policies: {0}")]
    Policy(String),
    #[error("audit trail: {0}")]
    Audit(String),
    #[error("integrity: {0}")]
    Integrity(#[from] crate::integrity::IntegrityError),
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "unresolved name collisions under `naming.strategy = \"manual\"`:\n{}\nadd `naming.rename` rules such as `\"backend/name\" = \"new_name\"`",
        .0.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n")
    )]
    Collisions(Vec<Collision>),
}

pub struct Gateway {
    pub cfg: Arc<Config>,
    pub guard: Arc<Guard>,
    pub router: Arc<Router>,
    pub edge: Arc<Edge>,
    /// SHA-256 of the config file as loaded (`None` for the embedded quickstart).
    config_digest: Option<String>,
}

fn file_digest(p: &std::path::Path) -> Option<String> {
    use sha2::Digest;
    std::fs::read(p)
        .ok()
        .map(|b| hex::encode(sha2::Sha256::digest(&b)))
}

/// What the start-up probe learned about one backend.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub backend: String,
    pub outcome: Result<ProbeInfo, String>,
}

#[derive(Debug, Clone)]
pub struct ProbeInfo {
    pub server_info: Value,
    pub capabilities: Value,
    pub tools: Vec<Value>,
    pub prompts: Vec<Value>,
    pub resource_templates: Vec<Value>,
}

impl Gateway {
    pub fn new(cfg: Config) -> Result<Arc<Gateway>, StartError> {
        let mut backends = Vec::new();
        for b in &cfg.backends {
            backends.push(Arc::new(BackendSpec::from_config(&cfg, b.get_ref())?));
        }
        let namer = Namer::new(cfg.naming.clone(), &cfg.backend_names());
        let guard = Arc::new(build_guard(&cfg)?);
        for spec in &backends {
            spec.credentials
                .attach_metrics(&spec.name, guard.metrics.clone());
        }
        let integrity = Arc::new(crate::integrity::Monitor::open(&cfg, guard.clone())?);
        let meta = crate::meta::Runtime::new(
            cfg.meta.as_ref().map(|m| m.get_ref()),
            &cfg.base_dir,
            &crate::egress::Egress::from_config(&cfg),
        )
        .map_err(|message| ConfigError::Secret {
            what: "`meta.embedding`".into(),
            message,
        })?;
        let router = Arc::new(Router::new(
            guard.clone(),
            integrity,
            backends,
            namer,
            cfg.session.page_size,
            Arc::new(meta),
            cfg.workflow_set.clone(),
        ));
        let listen = cfg.listen.get_ref();
        let addr = cfg.listen_addr();
        let public = listen
            .public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok());
        let mcp_path = public
            .as_ref()
            .map(|u| u.path().to_owned())
            .filter(|p| p != "/")
            .unwrap_or_else(|| "/mcp".to_owned());
        let allowed_hosts = listen.allowed_hosts.clone().unwrap_or_else(|| {
            let mut v = Vec::new();
            if let Some(h) = public.as_ref().and_then(|u| u.host_str()) {
                v.push(h.trim_matches(['[', ']']).to_ascii_lowercase());
            }
            if addr.ip().is_loopback() {
                v.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
            }
            if v.is_empty() {
                v.push(addr.ip().to_string());
            }
            v
        });
        let allowed_origins = listen.allowed_origins.clone().unwrap_or_default();
        let auth = Arc::new(Authenticator::new(&cfg)?);
        let config_digest = file_digest(std::path::Path::new(&cfg.source_name));
        let edge = Arc::new(Edge {
            router: router.clone(),
            auth,
            sessions: Arc::new(Store::default()),
            http: cfg.http.clone(),
            max_sessions: cfg.session.max_sessions,
            shutdown_grace: Duration::from_secs(listen.shutdown_grace_secs),
            mcp_path,
            allowed_hosts,
            allowed_origins,
        });
        Ok(Arc::new(Gateway {
            guard,
            router,
            edge,
            cfg: Arc::new(cfg),
            config_digest,
        }))
    }

    /// The MCP endpoint's path.
    pub fn mcp_path(&self) -> &str {
        &self.edge.mcp_path
    }

    /// Connect to every backend once with the gateway's own session, read its catalog, then
    /// close it. Under `manual` naming, unresolved collisions are an error.
    pub async fn probe(&self) -> Result<Vec<ProbeReport>, StartError> {
        let probes = self
            .router
            .backends
            .iter()
            .map(|spec| probe_backend(spec.clone(), Some(&self.router.integrity)));
        let reports = futures::future::join_all(probes).await;
        let mut tools = Vec::new();
        let mut prompts = Vec::new();
        let monitor = &self.router.integrity;
        // Every backend's names first: the shadowing rule compares each with the others.
        for r in &reports {
            if let Ok(info) = &r.outcome {
                monitor.note_names(&r.backend, &info.tools);
            }
        }
        for r in &reports {
            match &r.outcome {
                Ok(info) => {
                    self.router
                        .note_capabilities(&r.backend, &info.capabilities);
                    // Review at start: alerts (and first-use pins) before any client connects.
                    let review = |kind, items: &[Value]| {
                        let rv = monitor.review(&r.backend, kind, items, &info.server_info);
                        let held = rv
                            .verdicts
                            .iter()
                            .filter(|(_, v)| v.quarantine.is_some())
                            .count();
                        if held > 0 {
                            tracing::warn!(backend = %r.backend, %kind, quarantined = held, "definitions quarantined; see `portcullis pins status`");
                        }
                        rv.items
                    };
                    let t = review(crate::integrity::Kind::Tool, &info.tools);
                    let p = review(crate::integrity::Kind::Prompt, &info.prompts);
                    review(
                        crate::integrity::Kind::ResourceTemplate,
                        &info.resource_templates,
                    );
                    tools.push((r.backend.clone(), Arc::new(t)));
                    prompts.push((r.backend.clone(), Arc::new(p)));
                }
                Err(e) => {
                    tracing::warn!(backend = %r.backend, error = %e, "backend probe failed; it will be retried per session")
                }
            }
        }
        let namer = &self.router.namer;
        let (tm, mut collisions) = namer.merge(&tools);
        let (pm, pc) = namer.merge(&prompts);
        collisions.extend(pc);
        for h in tm.hidden.iter().chain(pm.hidden.iter()) {
            tracing::warn!(backend = %h.backend, name = %h.original, exposed = %h.exposed, winner = %h.winner, "hidden by a name collision");
        }
        if namer.strategy() == Strategy::Manual && !collisions.is_empty() {
            return Err(StartError::Collisions(collisions));
        }
        // Workflow steps must call tools this catalog has.
        for w in self.router.workflows.check_probe(namer, &reports)? {
            tracing::warn!("{w}");
        }
        Ok(reports)
    }

    /// Bind the public listener (TLS when configured).
    pub async fn bind(
        &self,
    ) -> Result<(TcpListener, Option<tokio_rustls::TlsAcceptor>), StartError> {
        let addr = self.cfg.listen_addr();
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let listen = self.cfg.listen.get_ref();
        let acceptor = match &listen.tls {
            Some(files) => {
                let resolver = tls::ReloadingCert::new(
                    self.cfg.resolve_path(&files.cert),
                    self.cfg.resolve_path(&files.key),
                )?;
                resolver.spawn_watcher(Duration::from_secs(listen.cert_reload_secs));
                let sc = tls::server_config(resolver)?;
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(sc)))
            }
            None => None,
        };
        Ok((listener, acceptor))
    }

    /// Serve until `shutdown`; then end every session (closing upstream sessions).
    pub async fn run(
        self: Arc<Self>,
        listener: TcpListener,
        tls: Option<tokio_rustls::TlsAcceptor>,
        shutdown: CancellationToken,
    ) {
        // Keys now and on a timer (not only on demand), reloads, and bounded limiter memory.
        self.edge.auth.start().await;
        if let Some(store) = &self.guard.policy {
            let guard = Arc::downgrade(&self.guard);
            store.observe_reloads(Box::new(move |ok, why, err| {
                let Some(guard) = guard.upgrade() else { return };
                let decision = if ok {
                    crate::audit::Decision::Info
                } else {
                    crate::audit::Decision::Error
                };
                let mut rec =
                    crate::audit::AuditRecord::new(crate::audit::Kind::PolicyReload, decision);
                rec.reason = Some(match err {
                    None => format!("policies reloaded ({why})"),
                    Some(e) => {
                        format!("reload ({why}) rejected; previous policies stay in force: {e}")
                    }
                });
                guard.event(rec);
            }));
            let every = self
                .cfg
                .policy
                .as_ref()
                .map(|p| p.get_ref().reload_secs)
                .unwrap_or(0);
            if every > 0 {
                store.spawn_watcher(Duration::from_secs(every));
            }
            if let Err(e) = store.spawn_sighup() {
                tracing::warn!(error = %e, "no SIGHUP policy reload");
            }
        }
        self.guard.limits.spawn_pruner(Duration::from_secs(60));
        self.watch_config(shutdown.clone());
        {
            // Approvals (a reloaded lockfile) reach every session at once: each reviews its
            // catalogs again and its client hears `list_changed`.
            let sessions = Arc::downgrade(&self.edge.sessions);
            self.router.integrity.start(Arc::new(move || {
                if let Some(sessions) = sessions.upgrade() {
                    for s in sessions.all() {
                        s.approvals_changed();
                    }
                }
            }));
        }
        let reaper = {
            let gw = self.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let idle = Duration::from_secs(gw.cfg.session.idle_timeout_secs);
                let mut tick = tokio::time::interval(
                    Duration::from_secs(10).min(idle.max(Duration::from_secs(1))),
                );
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tick.tick() => {}
                    }
                    for s in gw.edge.sessions.expire(idle) {
                        tracing::info!(session = %s.id, "session expired after idling");
                        s.close().await;
                        gw.guard.metrics.session_closed();
                        let mut rec = s
                            .caller()
                            .record(crate::audit::Kind::SessionEnd, crate::audit::Decision::Info);
                        rec.reason = Some("expired after idling".into());
                        gw.guard.event(rec);
                    }
                }
            })
        };
        // Returns once every connection is done or the shutdown grace period is over.
        edge::serve(self.edge.clone(), listener, tls, shutdown).await;
        reaper.abort();
        // Then upstream sessions are closed (HTTP DELETE, stdio children stopped), each end
        // recorded, and the trail flushed: its last line is a complete record.
        let sessions = self.edge.sessions.drain();
        futures::future::join_all(sessions.iter().map(|s| s.close())).await;
        for s in &sessions {
            self.guard.metrics.session_closed();
            let mut rec = s
                .caller()
                .record(crate::audit::Kind::SessionEnd, crate::audit::Decision::Info);
            rec.reason = Some("gateway shutting down".into());
            self.guard.event(rec);
        }
        if let Some(audit) = &self.guard.audit {
            // The writer logs the head it closed with.
            if let Err(e) = audit.shutdown().await {
                tracing::error!(error = %e, "audit trail did not flush cleanly");
            }
        }
    }
}

impl Gateway {
    /// Record every change of the config file on disk (an insider with write access to it is in
    /// the threat model): a `config_reload` audit record saying whether the new file is valid.
    /// The running gateway keeps its config; applying a change needs a restart, and the record
    /// says so.
    fn watch_config(&self, stop: CancellationToken) {
        let path = std::path::PathBuf::from(&self.cfg.source_name);
        if !path.is_file() {
            return; // the embedded quickstart
        }
        let guard = self.guard.clone();
        let digest = file_digest;
        let mut last = self.config_digest.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let now = digest(&path);
                if now == last {
                    continue;
                }
                let short = |d: &Option<String>| {
                    d.as_deref()
                        .map_or("none".to_owned(), |d| d.chars().take(12).collect())
                };
                let change = format!("sha256 {} -> {}", short(&last), short(&now));
                last = now;
                let (decision, reason) = match Config::load(&path) {
                    Ok(_) => (
                        crate::audit::Decision::Info,
                        format!(
                            "config file `{}` changed on disk ({change}); it is valid; restart \
                             the gateway to apply it",
                            path.display()
                        ),
                    ),
                    Err(e) => (
                        crate::audit::Decision::Error,
                        format!(
                            "config file `{}` changed on disk ({change}) and is invalid: {e}; \
                             the running gateway keeps its config, a restart would fail",
                            path.display()
                        ),
                    ),
                };
                tracing::warn!("{reason}");
                let mut rec =
                    crate::audit::AuditRecord::new(crate::audit::Kind::ConfigReload, decision);
                rec.reason = Some(reason);
                guard.event(rec);
            }
        });
    }
}

/// The guard chain from config: policy (when `[policy]` is present), limits, audit, metrics.
fn build_guard(cfg: &Config) -> Result<Guard, StartError> {
    let policy = match crate::policy::PolicySources::from_config(cfg) {
        Some((sources, _)) => Some(Arc::new(
            crate::policy::PolicyStore::open(sources)
                .map_err(|e| StartError::Policy(e.to_string()))?,
        )),
        None => {
            tracing::warn!("no [policy] section: every authenticated caller may call every tool");
            None
        }
    };
    let limits = Arc::new(crate::limits::Limits::new(cfg)?);
    let audit = match &cfg.audit {
        Some(a) => Some(
            crate::audit::Audit::start(a.get_ref(), &cfg.base_dir)
                .map_err(|e| StartError::Audit(e.to_string()))?,
        ),
        None => None,
    };
    Ok(Guard {
        policy,
        limits,
        audit,
        metrics: Arc::new(crate::telemetry::Metrics::new()),
    })
}

/// Connect once with the gateway's own session and read the catalog. With a `monitor`, a stdio
/// backend's executable is checked against its pins first (and refused on a mismatch).
pub async fn probe_backend(
    spec: Arc<BackendSpec>,
    monitor: Option<&crate::integrity::Monitor>,
) -> ProbeReport {
    let backend = spec.name.clone();
    let (tx, mut rx) = mpsc::channel(64);
    // Drain whatever the backend sends on its own; the probe only reads lists.
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let params = json!({
        "protocolVersion": protocol::LATEST_VERSION,
        // The capabilities the gateway relays for its clients: servers that register tools
        // only for capable clients show the probe their whole catalog.
        "capabilities": { "roots": { "listChanged": true }, "sampling": {}, "elicitation": {} },
        "clientInfo": { "name": "portcullis-probe", "version": env!("CARGO_PKG_VERSION") },
    });
    let outcome = async {
        if matches!(
            *spec.credentials,
            crate::credentials::Source::Exchange(_) | crate::credentials::Source::Passthrough
        ) {
            return Err("not probed: this backend only accepts per-caller tokens".to_owned());
        }
        if let (Some(m), crate::upstream::SpecKind::Stdio { argv, env, cwd }) =
            (monitor, &spec.kind)
        {
            m.check_executables(&spec.name, argv, env, cwd.as_deref())?;
        }
        let binding = crate::credentials::Binding {
            source: spec.credentials.clone(),
            caller: String::new(),
            subject: Arc::new(Mutex::new(None)),
        };
        let (conn, init) = Conn::connect(spec.clone(), params, tx, Some(binding))
            .await
            .map_err(|e| e.to_string())?;
        let caps = init.get("capabilities").cloned().unwrap_or(Value::Null);
        let tools = if caps.get("tools").is_some() {
            list_all(&conn, "tools/list", "tools").await
        } else {
            Vec::new()
        };
        let prompts = if caps.get("prompts").is_some() {
            list_all(&conn, "prompts/list", "prompts").await
        } else {
            Vec::new()
        };
        let resource_templates = if caps.get("resources").is_some() {
            list_all(&conn, "resources/templates/list", "resourceTemplates").await
        } else {
            Vec::new()
        };
        conn.close().await;
        Ok(ProbeInfo {
            server_info: init.get("serverInfo").cloned().unwrap_or(Value::Null),
            capabilities: caps,
            tools,
            prompts,
            resource_templates,
        })
    }
    .await;
    drain.abort();
    ProbeReport { backend, outcome }
}

async fn list_all(conn: &Conn, method: &str, field: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<Value> = None;
    for _ in 0..100 {
        let params = cursor.take().map(|c| json!({ "cursor": c }));
        let Ok(resp) = conn.call(method, params).await else {
            break;
        };
        let Some(result) = resp.get("result") else {
            break;
        };
        if let Some(items) = result.get(field).and_then(Value::as_array) {
            out.extend(items.iter().cloned());
        }
        match result.get("nextCursor") {
            Some(c) if !c.is_null() => cursor = Some(c.clone()),
            _ => break,
        }
    }
    out
}
