//! `portcullis catalog tokens` (what the full tool list costs a model, against the meta-tool
//! list) and `portcullis catalog export` (the merged catalog as JSON), both from the backends
//! themselves: like `portcullis check`, they connect to every backend once.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use serde_json::{Value, json};

use crate::config::Config;
use crate::gateway::Gateway;

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

fn load(config: Option<PathBuf>) -> Result<Config, String> {
    match config {
        Some(p) => Config::load(&p).map_err(|e| e.to_string()),
        None => Config::quickstart().map_err(|e| e.to_string()),
    }
}

/// The merged catalog of a config's backends: (tools as listed, per backend (name, tools),
/// backends that could not be probed).
async fn catalog(
    cfg: Config,
) -> Result<
    (
        Arc<Gateway>,
        Vec<Value>,
        Vec<(String, Vec<Value>)>,
        Vec<String>,
    ),
    String,
> {
    let gw = Gateway::new(cfg).map_err(|e| e.to_string())?;
    let reports = gw.probe().await.map_err(|e| e.to_string())?;
    let mut lists = Vec::new();
    let mut down = Vec::new();
    let mut per_backend = Vec::new();
    for r in reports {
        match r.outcome {
            Ok(info) => {
                per_backend.push((r.backend.clone(), info.tools.clone()));
                lists.push((r.backend, Arc::new(info.tools)));
            }
            Err(e) => down.push(format!("{} ({e})", r.backend)),
        }
    }
    let (merged, _) = gw.router.namer.merge(&lists);
    let mut tools = merged.items.clone();
    for w in gw.router.workflows.iter() {
        tools.push(w.tool_definition());
    }
    Ok((gw, tools, per_backend, down))
}

pub async fn run(cmd: CatalogCommand) -> Result<(), String> {
    match cmd {
        CatalogCommand::Export { config } => {
            let (_, tools, _, down) = catalog(load(config)?).await?;
            for d in &down {
                eprintln!("warning: backend not in the export: {d}");
            }
            let out = serde_json::to_string_pretty(&json!({ "tools": tools }))
                .map_err(|e| e.to_string())?;
            println!("{out}");
            Ok(())
        }
        CatalogCommand::Tokens { config } => {
            let (gw, tools, per_backend, down) = catalog(load(config)?).await?;
            let meta = &gw.router.meta;
            let mut listed = meta.meta_tools();
            for name in meta.always_visible() {
                if let Some(t) = tools
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
                {
                    listed.push(t.clone());
                }
            }
            let cmp = super::tokens::Comparison::new(&tools, &listed)?;
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
            for (b, t) in &per_backend {
                println!(
                    "{:<28} {:>6} {:>10}",
                    b,
                    t.len(),
                    super::tokens::count_tool_list(t)?
                );
            }
            if !gw.router.workflows.is_empty() {
                let w: Vec<Value> = gw
                    .router
                    .workflows
                    .iter()
                    .map(|w| w.tool_definition())
                    .collect();
                println!(
                    "{:<28} {:>6} {:>10}",
                    "(workflows)",
                    w.len(),
                    super::tokens::count_tool_list(&w)?
                );
            }
            for d in &down {
                println!("warning: not counted, backend unreachable: {d}");
            }
            Ok(())
        }
    }
}
