//! The `portcullis` command line: `serve`, `check`, `audit verify`, `demo-server`, `dev-cert`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::gateway::Gateway;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "A security gateway for the Model Context Protocol"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway. Without --config, runs the built-in quickstart (demo backend, loopback).
    Serve {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Override `listen.address` (e.g. `127.0.0.1:0` for a free port).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Validate a config, connect to every backend once, and report problems and weak settings.
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Cedar policies: `check`, `test`, `explain`, `schema`.
    Policy {
        #[command(subcommand)]
        command: crate::policy::cli::PolicyCommand,
    },
    /// Audit trail tools: `audit verify`.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The merged tool catalog: `catalog tokens` (full list vs meta-tools), `catalog export`.
    Catalog {
        #[command(subcommand)]
        command: crate::meta::cli::CatalogCommand,
    },
    /// Tool integrity review: `pins status`, `diff`, `approve`, `reject`, `init`.
    Pins {
        #[command(subcommand)]
        command: crate::integrity::cli::PinsCommand,
    },
    /// Workflows (composite tools): `workflow plan NAME`, `workflow list`.
    Workflow {
        #[command(subcommand)]
        command: crate::workflow::cli::WorkflowCommand,
    },
    /// Run the built-in demo MCP server on stdio (the quickstart's backend).
    DemoServer,
    /// Tokens (DEV ONLY): `token mint` signs a short-lived token with the quickstart's dev key.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a self-signed development certificate and key (never for production).
    DevCert {
        #[arg(long, default_value = "certs")]
        out: PathBuf,
        /// DNS names / IPs for the certificate.
        #[arg(long, default_values_t = vec!["localhost".to_string(), "127.0.0.1".to_string()])]
        name: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of an audit trail; exits non-zero at the first break. The FILEs are
    /// one trail, oldest first. A single live file (`audit.jsonl`) is checked together with its
    /// rotated files, oldest first (`audit.jsonl.1`, `audit.jsonl.2`, …, `audit.jsonl`).
    Verify {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Sign a token with the dev key of the first issuer that has `dev_key_file` (DEV ONLY).
    Mint {
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long)]
        sub: String,
        /// Group names (repeat, or comma-separated).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// Scopes (repeat, or comma-separated).
        #[arg(long, value_delimiter = ',')]
        scope: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // `serve` installs its subscriber once the config (and its `[telemetry]`) is loaded.
    if !matches!(cli.command, Command::Serve { .. }) {
        init_tracing();
    }
    // rustls needs exactly one process-wide crypto provider; ours is aws-lc-rs.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `pins` has its own exit codes (1: something needs review, 2: an error).
    let command = match cli.command {
        Command::Pins { command } => return rt.block_on(crate::integrity::cli::run(command)),
        other => other,
    };
    let result = rt.block_on(async move {
        match command {
            Command::Serve { config, listen } => serve(config, listen).await,
            Command::Check { config } => check(config).await,
            Command::Policy { command } => crate::policy::cli::run(command),
            Command::Audit {
                command: AuditCommand::Verify { files },
            } => audit_verify(files),
            Command::Catalog { command } => crate::meta::cli::run(command).await,
            Command::Workflow { command } => crate::workflow::cli::run(command),
            Command::Pins { .. } => Err("internal: `pins` is run before this match".into()),
            Command::DemoServer => crate::demo::run_stdio().await.map_err(|e| e.to_string()),
            Command::DevCert { out, name } => dev_cert(&out, &name),
            Command::Token {
                command:
                    TokenCommand::Mint {
                        config,
                        sub,
                        groups,
                        scope,
                        ttl,
                    },
            } => mint(config, &sub, &groups, &scope, ttl),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let _ = crate::telemetry::trace::init(None);
}

fn load(config: Option<PathBuf>) -> Result<Config, String> {
    match config {
        Some(p) => Config::load(&p).map_err(|e| e.to_string()),
        None => Config::quickstart().map_err(|e| e.to_string()),
    }
}

async fn serve(config: Option<PathBuf>, listen: Option<String>) -> Result<(), String> {
    let quickstart = config.is_none();
    let mut cfg = load(config)?;
    let telemetry = crate::telemetry::trace::init(cfg.telemetry.as_ref())?;
    if let Some(addr) = listen {
        let mut l = cfg.listen.get_ref().clone();
        l.address = toml::Spanned::new(0..0, addr);
        cfg.listen = toml::Spanned::new(cfg.listen.span(), l);
    }
    for w in cfg.warnings() {
        tracing::warn!("{w}");
    }
    let gw = Gateway::new(cfg).map_err(|e| e.to_string())?;
    let probes = gw.probe().await.map_err(|e| e.to_string())?;
    let (listener, tls) = gw.bind().await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("portcullis listening on {scheme}://{addr}{}", gw.mcp_path());
    if quickstart {
        println!(
            "quickstart: connect any MCP client (Streamable HTTP) to that URL; DEV ONLY, no authentication"
        );
    }
    let shutdown = CancellationToken::new();
    // The admin listener (metrics, health, readiness): never on the public port.
    if let Some(admin) = gw.cfg.admin.as_ref() {
        let addr = admin.get_ref().address.get_ref().clone();
        let admin_listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| format!("cannot listen on admin address `{addr}`: {e}"))?;
        let admin_addr = admin_listener.local_addr().map_err(|e| e.to_string())?;
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
        tokio::spawn(crate::edge::admin::serve_admin(
            admin_listener,
            gw.guard.metrics.clone(),
            readiness.live_fn(gw.guard.metrics.clone()),
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

async fn check(config: Option<PathBuf>) -> Result<(), String> {
    let cfg = load(config)?;
    // `serve` loads these before listening; a config it would refuse is not OK.
    if let Some(files) = &cfg.listen.get_ref().tls {
        crate::edge::tls::load_certified_key(
            &cfg.resolve_path(&files.cert),
            &cfg.resolve_path(&files.key),
        )
        .map_err(|e| e.to_string())?;
    }
    println!("config OK: {}", cfg.source_name);
    for w in cfg.warnings() {
        println!("warning: {w}");
    }
    match crate::policy::PolicySources::from_config(&cfg) {
        Some((sources, _)) => {
            let engine = crate::policy::PolicyEngine::load(&sources).map_err(|e| e.to_string())?;
            println!(
                "policy OK: {} policies from `{}`",
                engine.len(),
                sources.policies.display()
            );
        }
        None => {
            println!("policy: off (no [policy]): every authenticated caller may call every tool")
        }
    }
    let gw = Gateway::new(cfg).map_err(|e| e.to_string())?;
    let reports = gw.probe().await.map_err(|e| e.to_string())?;
    let mut failed = 0;
    for r in reports {
        match r.outcome {
            Ok(info) => println!(
                "backend `{}`: up ({}), {} tools, {} prompts",
                r.backend,
                info.server_info
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?"),
                info.tools.len(),
                info.prompts.len()
            ),
            Err(e) => {
                failed += 1;
                println!("backend `{}`: DOWN: {e}", r.backend);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} backend(s) could not be reached"));
    }
    Ok(())
}

fn audit_verify(mut files: Vec<PathBuf>) -> Result<(), String> {
    if let [live] = files.as_slice() {
        let trail = crate::audit::trail_files(live)
            .map_err(|e| format!("cannot list the rotated files of `{}`: {e}", live.display()))?;
        if trail.len() > 1 {
            let names: Vec<String> = trail.iter().map(|p| p.display().to_string()).collect();
            println!("verifying {} files: {}", trail.len(), names.join(", "));
            files = trail;
        }
    }
    match crate::audit::verify(&files) {
        Ok(r) => {
            println!(
                "ok: {} records, chain intact (last seq {}, head {})",
                r.records, r.head.seq, r.head.hash
            );
            Ok(())
        }
        Err(crate::audit::VerifyError::Broken(b)) => {
            println!("broken: {b}");
            Err("the audit trail does not verify".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn dev_cert(out: &std::path::Path, names: &[String]) -> Result<(), String> {
    let (cert, key) = crate::edge::tls::dev_certificate(names).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let cert_path = out.join("dev.crt");
    let key_path = out.join("dev.key");
    std::fs::write(&cert_path, cert).map_err(|e| e.to_string())?;
    std::fs::write(&key_path, key).map_err(|e| e.to_string())?;
    println!(
        "wrote {} and {} (self-signed, DEV ONLY)",
        cert_path.display(),
        key_path.display()
    );
    Ok(())
}

fn mint(
    config: Option<PathBuf>,
    sub: &str,
    groups: &[String],
    scopes: &[String],
    ttl: u64,
) -> Result<(), String> {
    let cfg = load(config)?;
    let auth = cfg
        .auth
        .as_ref()
        .map(|a| a.get_ref().clone())
        .ok_or("the config has no [auth]")?;
    let issuer = auth
        .issuers
        .iter()
        .find(|i| i.dev_key_file.is_some())
        .ok_or("no `[[auth.issuers]]` with `dev_key_file` in this config: minting is for dev setups only")?;
    let key_path = issuer
        .dev_key_file
        .as_ref()
        .map(|p| cfg.resolve_path(p))
        .ok_or("no dev key")?;
    let key = crate::identity::dev::DevKey::load_or_create(&key_path)?;
    let audience = issuer
        .audiences
        .as_ref()
        .and_then(|a| a.first().cloned())
        .or_else(|| cfg.listen.get_ref().public_url.clone())
        .ok_or("no audience: set listen.public_url")?;
    let claims = crate::identity::dev::claims(&issuer.issuer, &audience, sub, groups, scopes, ttl);
    println!("{}", key.sign(&claims)?);
    eprintln!("DEV ONLY token for `{sub}` (audience {audience}, valid {ttl} s)");
    Ok(())
}
