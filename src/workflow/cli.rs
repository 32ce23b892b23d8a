//! `portcullis workflow plan NAME` and `portcullis workflow list`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum WorkflowCommand {
    /// Show a workflow's DAG and the order its steps will run in.
    Plan {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The workflow's name.
        name: String,
    },
    /// List the workflows a config defines.
    List {
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

pub fn run(cmd: WorkflowCommand) -> Result<(), String> {
    match cmd {
        WorkflowCommand::Plan { config, name } => {
            let cfg = load(config)?;
            let Some(w) = cfg.workflow_set.get(&name) else {
                let known: Vec<String> = cfg
                    .workflow_set
                    .iter()
                    .map(|w| format!("`{}`", w.name))
                    .collect();
                return Err(if known.is_empty() {
                    format!("no workflow `{name}`: this config defines none")
                } else {
                    format!("no workflow `{name}`; defined: {}", known.join(", "))
                });
            };
            print!("{}", super::plan::render(w));
            Ok(())
        }
        WorkflowCommand::List { config } => {
            let cfg = load(config)?;
            for w in cfg.workflow_set.iter() {
                println!(
                    "{}\t{} step(s)\t{}:{}\t{}",
                    w.name,
                    w.steps.len(),
                    w.origin.file,
                    w.origin.line,
                    w.description
                );
            }
            Ok(())
        }
    }
}
