//! The composition root: assembling a running gateway from a validated config — the guard chain,
//! the router, the edge with its sessions — and the start-up probe that fails a `manual` naming
//! setup with unresolved collisions before any client connects. Each module is built from its
//! own section and the few facts it needs from elsewhere; the helpers here that pick those out
//! of a `Config` (`limits`, `authenticator`, `cluster`, `upstream_setup`) are shared with
//! `portcullis check` (so it builds what `serve` would), the benches and the fuzz targets.
//! Nothing below imports this module.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::catalog::{Collision, Namer};
use crate::config::{Config, ConfigError, Strategy};
use crate::edge::{self, Edge, tls};
use crate::guard::Guard;
use crate::identity::Authenticator;
use crate::router::Router;
use crate::session::Store;
use crate::upstream::BackendSpec;
use crate::upstream::probe::{ProbeError, ProbeReport, probe_backend};

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
    #[error("requestState key: {0}")]
    Seal(String),
    #[error("cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("cluster.peer_ca: {0}")]
    Peers(String),
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
    /// `[cluster]`: the state shared with the other replicas.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    pub guard: Arc<Guard>,
    pub router: Arc<Router>,
    pub edge: Arc<Edge>,
    /// SHA-256 of the config file as loaded (`None` for the embedded quickstart).
    config_digest: Option<String>,
}

/// The tool and prompt lists of the backends (by backend) merged under the naming rules, as
/// at start (`serve`, and `check`): a name collision hides the loser, with a warning, and is
/// refused under `manual` naming.
pub(crate) fn check_names(
    namer: &Namer,
    tools: &[(String, Arc<Vec<Value>>)],
    prompts: &[(String, Arc<Vec<Value>>)],
) -> Result<(), StartError> {
    let (tm, mut collisions) = namer.merge(tools);
    let (pm, pc) = namer.merge(prompts);
    collisions.extend(pc);
    for h in tm.hidden.iter().chain(pm.hidden.iter()) {
        tracing::warn!(backend = %h.backend, name = %h.original, exposed = %h.exposed, winner = %h.winner, "hidden by a name collision");
    }
    if namer.strategy() == Strategy::Manual && !collisions.is_empty() {
        return Err(StartError::Collisions(collisions));
    }
    Ok(())
}

fn file_digest(p: &std::path::Path) -> Option<String> {
    use sha2::Digest;
    std::fs::read(p)
        .ok()
        .map(|b| hex::encode(sha2::Sha256::digest(&b)))
}

/// `[limits]` of `cfg`, built as `Gateway::new` builds it (without the cluster).
pub fn limits(cfg: &Config) -> Result<crate::limits::Limits, ConfigError> {
    crate::limits::Limits::new(
        &cfg.limits,
        crate::limits::Setup {
            backends: &cfg.backend_names(),
            session_retry: Duration::from_secs(cfg.session.idle_timeout_secs),
            source_name: &cfg.source_name,
        },
    )
}

/// What each backend's spec is built with: `cfg`'s `[http]` bounds and directory, and
/// `egress`, the SSRF guard of its `[network]`.
pub fn upstream_setup<'a>(
    cfg: &'a Config,
    egress: &'a Arc<crate::egress::Egress>,
) -> crate::upstream::Setup<'a> {
    crate::upstream::Setup {
        http: &cfg.http,
        base_dir: &cfg.base_dir,
        egress,
    }
}

/// `[auth]` of `cfg`: its issuers, `listen.public_url` as the resource, key files in the
/// config's directory, discovery and JWKS through `egress`.
pub fn authenticator(
    cfg: &Config,
    egress: Arc<crate::egress::Egress>,
) -> Result<Authenticator, ConfigError> {
    Authenticator::new(
        cfg.auth.as_ref().map(|a| a.get_ref()),
        cfg.listen.get_ref().public_url.as_deref(),
        &cfg.base_dir,
        egress,
    )
}

/// How this replica reaches the others (`[cluster]`): trusting `cluster.peer_ca`, else the
/// certificates of its own `[listen.tls]` (replicas that share one certificate), else none
/// (plaintext peers only).
fn peers(cfg: &Config) -> Result<crate::edge::cluster::Peers, StartError> {
    let file = cfg
        .cluster
        .as_ref()
        .and_then(|c| c.get_ref().peer_ca.clone())
        .or_else(|| cfg.listen.get_ref().tls.as_ref().map(|t| t.cert.clone()));
    let pem =
        match file {
            Some(f) => {
                let path = cfg.resolve_path(&f);
                Some(std::fs::read(&path).map_err(|e| {
                    StartError::Peers(format!("cannot read `{}`: {e}", path.display()))
                })?)
            }
            None => None,
        };
    crate::edge::cluster::Peers::new(pem.as_deref()).map_err(|e| StartError::Peers(e.to_string()))
}

/// Where the other replicas reach this one: `cluster.advertise_url`, else the listener's
/// scheme and bound address. Bound to every interface: the address this host uses toward
/// Redis (the network the replicas share, e.g. a pod's IP), else its host name.
fn advertised_url(cfg: &Config, bound: SocketAddr, tls: bool) -> String {
    let cluster = cfg.cluster.as_ref().map(|c| c.get_ref());
    if let Some(u) = cluster.and_then(|c| c.advertise_url.clone()) {
        return u;
    }
    let scheme = if tls { "https" } else { "http" };
    if !bound.ip().is_unspecified() {
        return format!("{scheme}://{bound}");
    }
    let toward_redis = cluster
        .and_then(|c| url::Url::parse(&c.redis.url).ok())
        .and_then(|u| {
            let host = u.host_str()?.trim_matches(['[', ']']).to_owned();
            Some((host, u.port().unwrap_or(6379)))
        })
        .and_then(|(host, port)| {
            use std::net::ToSocketAddrs;
            let target = (host.as_str(), port).to_socket_addrs().ok()?.next()?;
            let any: SocketAddr = if target.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            };
            // A UDP "connect" sends nothing: it only picks the route, and so the local address.
            let sock = std::net::UdpSocket::bind(any).ok()?;
            sock.connect(target).ok()?;
            Some(sock.local_addr().ok()?.ip())
        })
        .filter(|ip| !ip.is_unspecified());
    let host = match toward_redis {
        Some(ip) => SocketAddr::new(ip, bound.port()).to_string(),
        None => {
            let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "localhost".into());
            format!("{name}:{}", bound.port())
        }
    };
    format!("{scheme}://{host}")
}

/// `[cluster]` of `cfg` (`None` without it); see `Cluster::from_config`.
pub fn cluster(
    cfg: &Config,
) -> Result<Option<Arc<crate::cluster::Cluster>>, crate::cluster::ClusterError> {
    crate::cluster::Cluster::from_config(
        cfg.cluster.as_ref().map(|c| c.get_ref()),
        cfg.listen_addr().port(),
        &cfg.base_dir,
    )
}

impl Gateway {
    pub fn new(cfg: Config) -> Result<Arc<Gateway>, StartError> {
        // One SSRF guard for every outbound client: backends, token endpoints, JWKS, webhook.
        let egress = crate::egress::Egress::from_config(&cfg.network);
        let mut backends = Vec::new();
        for b in &cfg.backends {
            backends.push(Arc::new(BackendSpec::from_config(
                b.get_ref(),
                upstream_setup(&cfg, &egress),
            )?));
        }
        let namer = Namer::new(cfg.naming.clone(), &cfg.backend_names());
        let cluster = cluster(&cfg)?;
        let guard = Arc::new(build_guard(&cfg, cluster.as_ref())?);
        for spec in &backends {
            spec.credentials
                .attach_metrics(&spec.name, guard.metrics.clone());
        }
        let events = {
            let (audit, metrics) = (guard.clone(), guard.metrics.clone());
            let events = crate::integrity::Events::new(
                move |rec| audit.event(rec),
                move |backend| metrics.record_drift_alert(backend),
            );
            match &cluster {
                Some(c) => events.with_claim(alert_claim(c.clone())),
                None => events,
            }
        };
        let integrity = Arc::new(crate::integrity::Monitor::open(
            &cfg.integrity,
            cfg.backends.iter().map(|b| b.get_ref()),
            &cfg.base_dir,
            egress.clone(),
            events,
        )?);
        let meta = crate::meta::Runtime::new(
            cfg.meta.as_ref().map(|m| m.get_ref()),
            &cfg.base_dir,
            &egress,
        )
        .map_err(|e| ConfigError::Secret {
            what: "`meta.embedding`".into(),
            message: e.to_string(),
        })?;
        let router = Router::new(crate::router::Parts {
            guard: guard.clone(),
            integrity,
            backends,
            namer,
            page_size: cfg.session.page_size,
            meta: Arc::new(meta),
            workflows: crate::checks::workflows(&cfg)?,
            upstream_idle: Duration::from_secs(cfg.session.upstream_idle_secs),
            sealer: crate::router::seal::Sealer::new(
                crate::cluster::request_state_key(
                    cfg.cluster.as_ref().map(|c| c.get_ref()),
                    &cfg.base_dir,
                )?,
                Duration::from_secs(300),
            )
            .map_err(|e| StartError::Seal(e.to_string()))?
            .clustered(cluster.clone()),
        });
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
        let auth = Arc::new(authenticator(&cfg, egress.clone())?);
        let peers = match &cluster {
            Some(_) => Some(Arc::new(peers(&cfg)?)),
            None => None,
        };
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
            refusals: Default::default(),
            directory: cluster.as_ref().map(|c| {
                Arc::new(crate::session::shared::Directory::new(
                    c.clone(),
                    Duration::from_secs(cfg.session.idle_timeout_secs),
                ))
            }),
            peers,
        });
        Ok(Arc::new(Gateway {
            cluster,
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
            .map(|spec| self.probe_one(spec.clone()));
        let reports = futures::future::join_all(probes).await;
        let mut tools = Vec::new();
        let mut prompts = Vec::new();
        let monitor = &self.router.integrity;
        // One compilation of the scan's rules for every review below, dropped when the probe
        // is done (a gateway at rest holds none).
        let _compiled = crate::integrity::findings::hold();
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
                    self.router.pool.note_health(&r.backend, true);
                    self.router.pool.note_eras(&r.backend, info.eras);
                    // Review at start: alerts (and first-use pins) before any client connects.
                    let review = |kind, items: &[Value]| {
                        // The probe declares every capability the gateway relays: its list is
                        // the backend's whole offer.
                        let rv = monitor.review(
                            &r.backend,
                            kind,
                            items,
                            &info.server_info,
                            crate::integrity::Listing::Whole,
                        );
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
                    review(
                        crate::integrity::Kind::Instructions,
                        &crate::integrity::instructions_items(info.instructions.as_deref()),
                    );
                    tools.push((r.backend.clone(), Arc::new(t)));
                    prompts.push((r.backend.clone(), Arc::new(p)));
                }
                Err(e) => {
                    // Sessions do not wait for a backend that failed: it joins them when it
                    // comes up. One the probe cannot reach without a caller is not down.
                    if !e.is_per_caller() {
                        self.router.pool.note_health(&r.backend, false);
                    }
                    tracing::warn!(backend = %r.backend, error = %e, "backend probe failed; it will be retried per session")
                }
            }
        }
        let namer = &self.router.namer;
        check_names(namer, &tools, &prompts)?;
        // Workflow steps must call tools this catalog has.
        let listed = reports.iter().map(|r| {
            let tools = r.outcome.as_ref().ok().map(|i| i.tools.as_slice());
            (r.backend.as_str(), tools)
        });
        for w in self.router.workflows.check_listed(namer, listed)? {
            tracing::warn!("{w}");
        }
        Ok(reports)
    }

    /// A stdio backend's executable is checked against its pins before it is started (and
    /// refused on a mismatch, in `enforce`).
    async fn probe_one(&self, spec: Arc<BackendSpec>) -> ProbeReport {
        if let crate::upstream::SpecKind::Stdio { argv, env, cwd } = &spec.kind
            && let Err(e) =
                self.router
                    .integrity
                    .check_executables(&spec.name, argv, env, cwd.as_deref())
        {
            return ProbeReport {
                backend: spec.name.clone(),
                outcome: Err(ProbeError::NotStarted {
                    reason: e.to_string(),
                }),
            };
        }
        probe_backend(spec).await
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
            // catalogs again and its client hears `list_changed`. With `[cluster]` the other
            // replicas hear of it too and re-read their lockfile at once.
            let sessions = Arc::downgrade(&self.edge.sessions);
            let refresh = Arc::new(move || {
                if let Some(sessions) = sessions.upgrade() {
                    for s in sessions.all() {
                        s.approvals_changed();
                    }
                }
            });
            let cluster = self.cluster.clone();
            let announce = refresh.clone();
            self.router.integrity.start(Arc::new(move || {
                announce();
                if let Some(c) = cluster.clone() {
                    tokio::spawn(async move {
                        let notice = crate::cluster::Event::Approvals {
                            from: c.replica().to_owned(),
                        };
                        if let Err(e) = c.publish(&notice).await {
                            tracing::warn!(error = %e, "approvals not announced to the other replicas; they reload on their own poll");
                        }
                    });
                }
            }));
            if let Some(c) = &self.cluster {
                if let Ok(bound) = listener.local_addr() {
                    let url = advertised_url(&self.cfg, bound, tls.is_some());
                    tracing::info!(replica = %c.replica(), %url, "other replicas reach this one at");
                    c.advertise(self.router.sealer().seal_address(c.replica(), &url));
                }
                self.run_cluster(c.clone(), refresh, shutdown.clone());
            }
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
                    // Stateless callers idle as long as a session would be, and calls whose
                    // client never came back with its input.
                    gw.router.stateless.expire(idle).await;
                    gw.router.expire_parked().await;
                    for s in gw.edge.sessions.expire(idle) {
                        if let Some(d) = &gw.edge.directory {
                            // This copy only: the directory's record expires on its own clock.
                            d.forget(&s.id);
                        }
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
        // Stateless callers' links, and shared upstream sessions kept for the next client.
        self.router.stateless.close_all().await;
        self.router.pool.close_all().await;
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

/// How long a drift alert claimed by one replica keeps the others from raising it again.
const ALERT_ONCE: Duration = Duration::from_secs(24 * 3600);

/// One drift alert per drift across the cluster: the first replica to claim its key raises it.
/// Redis unavailable: raised (a duplicate is better than a lost alert).
fn alert_claim(cluster: Arc<crate::cluster::Cluster>) -> crate::integrity::Claim {
    Arc::new(move |key: String| {
        let c = cluster.clone();
        Box::pin(async move {
            match c.claim_once("alert", &key, ALERT_ONCE).await {
                Ok(first) => first,
                Err(e) => {
                    tracing::warn!(error = %e, "drift alert raised without the cluster's de-duplication");
                    true
                }
            }
        })
    })
}

impl Gateway {
    /// The cluster's background work: Redis health (reported to metrics, the audit trail and
    /// `/readyz`), and notices from the other replicas.
    fn run_cluster(
        &self,
        cluster: Arc<crate::cluster::Cluster>,
        refresh: Arc<dyn Fn() + Send + Sync>,
        stop: CancellationToken,
    ) {
        let guard = Arc::downgrade(&self.guard);
        cluster.on_transition(move |t| {
            let Some(guard) = guard.upgrade() else { return };
            guard.metrics.set_redis_up(t.up);
            let (decision, reason) = if t.up {
                (
                    crate::audit::Decision::Info,
                    "redis reachable again: limits, session caps and alerts are shared again"
                        .to_owned(),
                )
            } else {
                let meanwhile = match t.mode {
                    crate::config::cluster::OnRedisUnavailable::FailClosed => {
                        "calls under a limit and new sessions are refused until it is back (fail_closed)"
                    }
                    crate::config::cluster::OnRedisUnavailable::Local => {
                        "limits are decided by this replica alone until it is back (local): N replicas allow up to N times each quota"
                    }
                };
                (
                    crate::audit::Decision::Error,
                    format!("redis unavailable ({}); {meanwhile}", t.reason),
                )
            };
            let mut rec = crate::audit::AuditRecord::new(crate::audit::Kind::Cluster, decision);
            rec.reason = Some(reason);
            rec.extra = Some(serde_json::json!({
                "redis": if t.up { "up" } else { "down" },
                "on_redis_unavailable": t.mode.as_str(),
            }));
            guard.event(rec);
        });
        cluster.spawn(stop.clone());
        let mut notices = cluster.subscribe();
        let integrity = self.router.integrity.clone();
        let sessions = Arc::downgrade(&self.edge.sessions);
        let guard = self.guard.clone();
        let directory = self.edge.directory.clone();
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    _ = stop.cancelled() => return,
                    n = notices.recv() => n,
                };
                let notice = match notice {
                    Ok(n) => n,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        crate::cluster::Event::Resynced
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                match notice {
                    crate::cluster::Event::Approvals { from } => {
                        if integrity.reload(&format!("announced by replica `{from}`")) {
                            refresh();
                        }
                    }
                    crate::cluster::Event::Resynced => {
                        if integrity.reload("cluster notices reconnected") {
                            refresh();
                        }
                    }
                    crate::cluster::Event::SessionEnded { id, from } => {
                        let Some(s) = sessions.upgrade().and_then(|st| st.remove(&id)) else {
                            continue;
                        };
                        if let Some(d) = &directory {
                            d.forget(&id);
                        }
                        s.close().await;
                        guard.metrics.session_closed();
                        let mut rec = s
                            .caller()
                            .record(crate::audit::Kind::SessionEnd, crate::audit::Decision::Info);
                        rec.reason = Some(format!("ended by the client on replica `{from}`"));
                        guard.event(rec);
                        tracing::info!(session = %id, replica = %from, "session ended on another replica; local copy closed");
                    }
                }
            }
        });
    }
}

/// The guard chain from config: policy (when `[policy]` is present), limits, audit, metrics.
fn build_guard(
    cfg: &Config,
    cluster: Option<&Arc<crate::cluster::Cluster>>,
) -> Result<Guard, StartError> {
    let policy = match crate::policy::PolicySources::from_config(
        cfg.policy.as_ref().map(|p| p.get_ref()),
        &cfg.base_dir,
    ) {
        Some((sources, _)) => Some(Arc::new(
            crate::policy::PolicyStore::open(sources)
                .map_err(|e| StartError::Policy(e.to_string()))?,
        )),
        None => {
            tracing::warn!("no [policy] section: every authenticated caller may call every tool");
            None
        }
    };
    let limits = Arc::new(limits(cfg)?.clustered(cluster.cloned()));
    let audit = match &cfg.audit {
        Some(a) => {
            // Each replica keeps its own chain; its records say which replica wrote them.
            let mut a = a.get_ref().clone();
            a.replica = cluster.map(|c| c.replica().to_owned());
            Some(
                crate::audit::Audit::start(&a, &cfg.base_dir)
                    .map_err(|e| StartError::Audit(e.to_string()))?,
            )
        }
        None => None,
    };
    let metrics = match cluster {
        Some(c) => crate::telemetry::Metrics::for_replica(c.replica()),
        None => crate::telemetry::Metrics::new(),
    };
    Ok(Guard {
        policy,
        limits,
        audit,
        metrics: Arc::new(metrics),
    })
}
