//! The `portcullis` command line: every front-end, one file per command family. Capability
//! modules expose library functions; this module parses arguments, calls them, prints, and maps
//! errors to exit codes. Nothing below imports it.
//!
//! `serve` is the only command that starts the gateway; `check`, `catalog` and `pins` probe
//! backends beside it ([`backends`]) and never write its state — only `serve` (first-use pins,
//! the audit trail, the seen catalogs) and `pins approve/reject/init` (the lockfile) write.

mod audit;
mod backends;
mod catalog;
mod check;
mod dev_cert;
mod pins;
mod policy;
mod serve;
mod token;
mod workflow;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};

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
        /// Override `cluster.advertise_url`: where the other replicas reach this one (one
        /// config for every replica; e.g. `--advertise-url https://$(POD_NAME).peers:8443`).
        #[arg(long)]
        advertise_url: Option<String>,
    },
    /// Validate a config, connect to every backend once, and report problems and weak settings.
    /// Writes nothing (no lockfile, no audit trail).
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Cedar policies: `check`, `test`, `explain`, `schema`.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
    /// Audit trail tools: `audit verify`.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// The merged tool catalog: `catalog tokens` (full list vs meta-tools), `catalog export`.
    Catalog {
        #[command(subcommand)]
        command: catalog::CatalogCommand,
    },
    /// Tool integrity review: `pins status`, `diff`, `approve`, `reject`, `init`.
    Pins {
        #[command(subcommand)]
        command: pins::PinsCommand,
    },
    /// Workflows (composite tools): `workflow plan NAME`, `workflow list`.
    Workflow {
        #[command(subcommand)]
        command: workflow::WorkflowCommand,
    },
    /// Run the built-in demo MCP server on stdio (the quickstart's backend).
    DemoServer,
    /// Tokens (DEV ONLY): `token mint` signs a short-lived token with the quickstart's dev key.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
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

/// What a command could not do. Each variant names what failed; the message is printed after
/// `error: ` and the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] crate::edge::tls::TlsError),
    #[error(transparent)]
    Start(#[from] crate::gateway::StartError),
    #[error(transparent)]
    Integrity(#[from] crate::integrity::IntegrityError),
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    PolicyTests(#[from] crate::policy::testing::TestFileError),
    #[error("cannot start the {what}: {message}")]
    Runtime { what: &'static str, message: String },
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The command ran and found something wrong (a failed policy test, a broken audit chain, a
    /// backend that is down); what it found was printed above.
    #[error("{0}")]
    Found(String),
    /// The arguments or config do not allow what was asked; the message says what would.
    #[error("{0}")]
    Usage(String),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // `serve` installs its subscriber once the config (and its `[telemetry]`) is loaded.
    if !matches!(cli.command, Command::Serve { .. }) {
        let _ = crate::telemetry::trace::init(None);
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
        Command::Pins { command } => return rt.block_on(pins::run(command)),
        other => other,
    };
    let result = rt.block_on(async move {
        match command {
            Command::Serve {
                config,
                listen,
                advertise_url,
            } => serve::run(config, listen, advertise_url).await,
            Command::Check { config } => check::run(config).await,
            Command::Policy { command } => policy::run(command),
            Command::Audit { command } => audit::run(command),
            Command::Catalog { command } => catalog::run(command).await,
            Command::Workflow { command } => workflow::run(command),
            Command::Pins { .. } => Err(CliError::Usage(
                "internal: `pins` is run before this match".into(),
            )),
            Command::DemoServer => crate::demo::run_stdio()
                .await
                .map_err(|e| CliError::Runtime {
                    what: "demo server",
                    message: e.to_string(),
                }),
            Command::DevCert { out, name } => dev_cert::run(&out, &name),
            Command::Token { command } => token::run(command),
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

/// The config a command names, or the built-in quickstart.
fn load(config: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    match config {
        Some(p) => Config::load(p),
        None => Config::quickstart(),
    }
}
