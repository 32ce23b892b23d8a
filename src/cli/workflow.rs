//! `portcullis workflow plan NAME` and `portcullis workflow list`.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, load};

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

pub(super) fn run(cmd: WorkflowCommand) -> Result<(), CliError> {
    match cmd {
        WorkflowCommand::Plan { config, name } => {
            let cfg = load(config.as_deref())?;
            let workflows = crate::checks::workflows(&cfg)?;
            let Some(w) = workflows.get(&name) else {
                let known: Vec<String> =
                    workflows.iter().map(|w| format!("`{}`", w.name)).collect();
                return Err(CliError::Usage(if known.is_empty() {
                    format!("no workflow `{name}`: this config defines none")
                } else {
                    format!("no workflow `{name}`; defined: {}", known.join(", "))
                }));
            };
            print!("{}", crate::workflow::plan::render(w));
            Ok(())
        }
        WorkflowCommand::List { config } => {
            let cfg = load(config.as_deref())?;
            for w in crate::checks::workflows(&cfg)?.iter() {
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
