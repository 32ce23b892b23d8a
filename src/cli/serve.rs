//! `portcullis serve`: load the config, build the gateway, probe the backends, listen, and run
//! until SIGTERM or Ctrl-C. Without `--config` it runs the built-in quickstart.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::{CliError, load};
use crate::gateway::Gateway;

pub(super) async fn run(
    config: Option<PathBuf>,
    listen: Option<String>,
    advertise_url: Option<String>,
) -> Result<(), CliError> {
    let quickstart = config.is_none();
    let mut cfg = load(config.as_deref())?;
    let telemetry =
        crate::telemetry::trace::init(cfg.telemetry.as_ref()).map_err(|e| CliError::Runtime {
            what: "telemetry",
            message: e.to_string(),
        })?;
    if let Some(addr) = listen {
        let mut l = cfg.listen.get_ref().clone();
        l.address = toml::Spanned::new(0..0, addr);
        cfg.listen = toml::Spanned::new(cfg.listen.span(), l);
    }
    if let Some(url) = advertise_url {
        let Some(cluster) = cfg.cluster.as_mut() else {
            return Err(CliError::Usage(
                "--advertise-url is for replicas: the config has no `[cluster]`".into(),
            ));
        };
        crate::config::cluster::check_advertise_url(&url)
            .map_err(|e| CliError::Usage(format!("--advertise-url: {e}")))?;
        let mut c = cluster.get_ref().clone();
        c.advertise_url = Some(url);
        *cluster = toml::Spanned::new(cluster.span(), c);
    }
    for w in cfg.warnings() {
        tracing::warn!("{w}");
    }
    let gw = Gateway::new(cfg)?;
    let probes = gw.probe().await?;
    let (listener, tls) = gw.bind().await?;
    let addr = listener.local_addr().map_err(|source| CliError::Io {
        action: "read the address of the listener on",
        path: PathBuf::from(gw.cfg.listen_addr().to_string()),
        source,
    })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("portcullis listening on {scheme}://{addr}{}", gw.mcp_path());
    if quickstart {
        // Authentication is on: say how to get past it, not that it is off.
        println!(
            "quickstart (DEV ONLY): tokens are required, signed by the local dev key in \
             .portcullis-dev/; mint one with `portcullis token mint --sub alice --groups eng` \
             and send it as `Authorization: Bearer <token>` from any MCP client (Streamable HTTP)"
        );
    }
    let shutdown = CancellationToken::new();
    // The admin listener (metrics, health, readiness): never on the public port.
    if let Some(admin) = gw.cfg.admin.as_ref() {
        let addr = admin.get_ref().address.get_ref().clone();
        let admin_listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| CliError::Io {
                action: "listen on admin address",
                path: PathBuf::from(&addr),
                source,
            })?;
        let admin_addr = admin_listener.local_addr().map_err(|source| CliError::Io {
            action: "read the address of the admin listener on",
            path: PathBuf::from(&addr),
            source,
        })?;
        let access = crate::edge::admin::Access::new(admin.get_ref(), admin_addr, &gw.cfg.base_dir)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        println!("portcullis admin on http://{admin_addr} (/metrics, /healthz, /readyz)");
        // Config, policies and pins were loaded (or the start failed before this point).
        let readiness = crate::telemetry::Readiness::new(&["config", "policies", "pins"]);
        readiness.set("config", true);
        readiness.set("policies", true);
        readiness.set("pins", true);
        // Backends as the start-up probe found them, then as sessions see them (a backend
        // being down does not make the gateway unready: its tools are just absent).
        for r in &probes {
            gw.guard
                .metrics
                .set_backend_up(&r.backend, r.outcome.is_ok());
        }
        let ready = readiness.live_fn(gw.guard.metrics.clone());
        tokio::spawn(crate::edge::admin::serve_admin(
            admin_listener,
            access,
            gw.guard.metrics.clone(),
            match gw.cluster.clone() {
                Some(c) => with_cluster(ready, c),
                None => ready,
            },
            shutdown.clone(),
        ));
    }
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        stop.cancel();
    });
    gw.run(listener, tls, shutdown).await;
    // Flush the spans still batched; the exporter blocks, so not on a runtime thread.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    Ok(())
}

/// `/readyz` with the cluster's state: `"cluster": { "replica", "redis": "up" | "down", … }`.
/// A replica whose Redis is down is not ready under `fail_closed` (it would refuse every call
/// under a limit); under `local` it serves, and says so.
fn with_cluster(
    ready: crate::telemetry::ReadyFn,
    cluster: std::sync::Arc<crate::cluster::Cluster>,
) -> crate::telemetry::ReadyFn {
    std::sync::Arc::new(move || {
        let (ok, mut checks) = ready();
        let up = cluster.is_up();
        if let Some(o) = checks.as_object_mut() {
            o.insert(
                "cluster".into(),
                serde_json::json!({
                    "replica": cluster.replica(),
                    "redis": if up { "up" } else { "down" },
                    "on_redis_unavailable": cluster.mode().as_str(),
                    "error": cluster.last_error(),
                }),
            );
        }
        let serving = up || cluster.mode() == crate::config::cluster::OnRedisUnavailable::Local;
        (ok && serving, checks)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
