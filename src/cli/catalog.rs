//! `portcullis catalog tokens` (what the full tool list costs a model, against the meta-tool
//! list) and `portcullis catalog export` (the merged catalog as JSON), both from the backends
//! themselves: like `portcullis check`, they connect to every backend once, and write nothing.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use serde_json::{Value, json};

use super::backends::{Outcome, Purpose, review_backends};
use super::{CliError, load};
use crate::config::Config;

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Token count (o200k) of the full tool list vs the meta-tool list for the current catalog.
    Tokens {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Print the merged tool list (exposed names, as `tools/list` shows it) as JSON.
    Export {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

/// The merged catalog of a config's backends.
struct Catalog {
    /// The merged tools (exposed names), then each workflow's tool.
    tools: Vec<Value>,
    /// Each listed backend's own tools.
    per_backend: Vec<(String, Vec<Value>)>,
    /// Backends that could not be listed, and why.
    down: Vec<String>,
}

async fn catalog(cfg: &Config) -> Result<Catalog, CliError> {
    let lock_path = cfg.resolve_path(&cfg.integrity.lockfile);
    let lock = crate::integrity::lockfile::load_optional(&lock_path)?.unwrap_or_default();
    let reviews = review_backends(cfg, &lock, Purpose::AsGateway).await?;
    let mut lists = Vec::new();
    let mut down = Vec::new();
    let mut per_backend = Vec::new();
    for r in reviews {
        match r.outcome {
            Outcome::Listed { info, .. } => {
                per_backend.push((r.backend.clone(), info.tools.clone()));
                lists.push((r.backend, Arc::new(info.tools)));
            }
            Outcome::NotProbed(why) => down.push(format!("{} (not probed: {why})", r.backend)),
            Outcome::NotStarted(e) => down.push(format!("{} ({e})", r.backend)),
            Outcome::Failed(e) => down.push(format!("{} ({e})", r.backend)),
            Outcome::Off => {}
        }
    }
    let namer = crate::catalog::Namer::new(cfg.naming.clone(), &cfg.backend_names());
    let (merged, _) = namer.merge(&lists);
    let mut tools = merged.items.clone();
    for w in crate::checks::workflows(cfg)?.iter() {
        tools.push(w.tool_definition());
    }
    Ok(Catalog {
        tools,
        per_backend,
        down,
    })
}

fn count(tools: &[Value]) -> Result<usize, CliError> {
    crate::meta::tokens::count_tool_list(tools).map_err(|e| CliError::Runtime {
        what: "token counter",
        message: e.to_string(),
    })
}

pub(super) async fn run(cmd: CatalogCommand) -> Result<(), CliError> {
    match cmd {
        CatalogCommand::Export { config } => {
            let cat = catalog(&load(config.as_deref())?).await?;
            for d in &cat.down {
                eprintln!("warning: backend not in the export: {d}");
            }
            let out =
                serde_json::to_string_pretty(&json!({ "tools": cat.tools })).map_err(|e| {
                    CliError::Runtime {
                        what: "JSON encoder",
                        message: e.to_string(),
                    }
                })?;
            println!("{out}");
            Ok(())
        }
        CatalogCommand::Tokens { config } => {
            let cfg = load(config.as_deref())?;
            let cat = catalog(&cfg).await?;
            let (tools, per_backend, down) = (&cat.tools, &cat.per_backend, &cat.down);
            let meta = crate::meta::Runtime::new(
                cfg.meta.as_ref().map(|m| m.get_ref()),
                &cfg.base_dir,
                &crate::egress::Egress::from_config(&cfg.network),
            )
            .map_err(|e| CliError::Runtime {
                what: "meta-tools (`meta.embedding`)",
                message: e.to_string(),
            })?;
            let mut listed = meta.meta_tools();
            for name in meta.always_visible() {
                if let Some(t) = tools
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
                {
                    listed.push(t.clone());
                }
            }
            let cmp = crate::meta::tokens::Comparison::new(tools, &listed).map_err(|e| {
                CliError::Runtime {
                    what: "token counter",
                    message: e.to_string(),
                }
            })?;
            println!("tokens counted with o200k (tiktoken), compact JSON of the tools/list result");
            println!();
            println!("{:<28} {:>6} {:>10}", "list", "tools", "tokens");
            println!(
                "{:<28} {:>6} {:>10}",
                "full catalog", cmp.full_tools, cmp.full_tokens
            );
            println!(
                "{:<28} {:>6} {:>10}",
                "meta-tools (+ always_visible)", cmp.meta_tools, cmp.meta_tokens
            );
            println!(
                "saving: {:.1}% ({} tokens fewer)",
                cmp.saving_percent(),
                cmp.full_tokens.saturating_sub(cmp.meta_tokens)
            );
            println!();
            println!("{:<28} {:>6} {:>10}", "backend", "tools", "tokens");
            for (b, t) in per_backend {
                println!("{:<28} {:>6} {:>10}", b, t.len(), count(t)?);
            }
            let workflows = crate::checks::workflows(&cfg)?;
            if !workflows.is_empty() {
                let w: Vec<Value> = workflows.iter().map(|w| w.tool_definition()).collect();
                println!("{:<28} {:>6} {:>10}", "(workflows)", w.len(), count(&w)?);
            }
            for d in down {
                println!("warning: not counted, backend unreachable: {d}");
            }
            Ok(())
        }
    }
}
