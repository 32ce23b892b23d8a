//! `portcullis policy …`: check, test, explain and schema generation, over the library in
//! [`crate::policy`].

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;

use super::CliError;
use crate::config::Config;
use crate::policy::testing;
use crate::policy::{PolicyEngine, PolicySources, schema_fragment};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate the schema and policies (strict mode); errors name file and line.
    Check {
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Run policy test files (`*.toml` / `*.json` with `[[case]]`s) like unit tests. A directory
    /// is searched recursively (its `tests/` subdirectory when it has one).
    Test {
        /// A test file or a directory of them.
        path: PathBuf,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Show which policies permit or forbid a request, and why.
    Explain {
        /// A request file (a case without `expect`, TOML or JSON).
        #[arg(long, conflicts_with = "case")]
        request: Option<PathBuf>,
        /// The name of a test case…
        #[arg(long, requires = "tests")]
        case: Option<String>,
        /// …found in this test file or directory.
        #[arg(long)]
        tests: Option<PathBuf>,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Print Cedar schema declaring a typed `call_tool:<tool>` action per tool.
    Schema {
        /// JSON list of MCP tool definitions with exposed names (or a `tools/list` result).
        #[arg(long)]
        tools: PathBuf,
    },
}

#[derive(Args)]
pub struct SourceArgs {
    /// Take `[policy]` from this config.
    #[arg(long, short, conflicts_with_all = ["schema", "policies"])]
    config: Option<PathBuf>,
    /// Main schema file (default: `<policies>/portcullis.cedarschema`).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Policy directory (default: `policies`).
    #[arg(long)]
    policies: Option<PathBuf>,
}

impl SourceArgs {
    fn resolve(&self) -> Result<PolicySources, CliError> {
        if let Some(c) = &self.config {
            let cfg = Config::load(c)?;
            return PolicySources::from_config(
                cfg.policy.as_ref().map(|p| p.get_ref()),
                &cfg.base_dir,
            )
            .map(|(s, _)| s)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "`{}` has no [policy] section: the policy stage is off",
                    c.display()
                ))
            });
        }
        let policies = self
            .policies
            .clone()
            .unwrap_or_else(|| PathBuf::from("policies"));
        let schema = self
            .schema
            .clone()
            .unwrap_or_else(|| policies.join("portcullis.cedarschema"));
        Ok(PolicySources { schema, policies })
    }

    fn engine(&self) -> Result<PolicyEngine, CliError> {
        let sources = self.resolve()?;
        Ok(PolicyEngine::load(&sources)?)
    }
}

pub(super) fn run(cmd: PolicyCommand) -> Result<(), CliError> {
    match cmd {
        PolicyCommand::Check { sources } => {
            let src = sources.resolve()?;
            let engine = PolicyEngine::load(&src)?;
            for w in engine.warnings() {
                println!("warning: {w}");
            }
            let typed: Vec<&str> = engine.typed_tools().collect();
            println!(
                "policies OK: {} polic{} in `{}`, schema `{}`, {} typed tool action(s)",
                engine.len(),
                if engine.len() == 1 { "y" } else { "ies" },
                src.policies.display(),
                src.schema.display(),
                typed.len()
            );
            if engine.is_empty() {
                println!("warning: no policies: every call is denied");
            }
            Ok(())
        }
        PolicyCommand::Test { path, sources } => {
            let engine = sources.engine()?;
            let files = testing::find_test_files(&test_root(&path))?;
            if files.is_empty() {
                return Err(CliError::Usage(format!(
                    "no test files under `{}`",
                    path.display()
                )));
            }
            let results = testing::run(&engine, &files)?;
            let failed = results.iter().filter(|r| !r.passed).count();
            for r in &results {
                println!(
                    "{:<6} {}: {}: {}",
                    if r.passed { "ok" } else { "FAILED" },
                    r.file,
                    r.name,
                    r.detail
                );
            }
            println!("{} passed, {} failed", results.len() - failed, failed);
            if failed > 0 {
                return Err(CliError::Found(format!("{failed} policy test(s) failed")));
            }
            Ok(())
        }
        PolicyCommand::Explain {
            request,
            case,
            tests,
            sources,
        } => {
            let engine = sources.engine()?;
            let c = match (request, case, tests) {
                (Some(r), _, _) => testing::load_request(&r)?,
                (None, Some(name), Some(t)) => {
                    let files = testing::find_test_files(&test_root(&t))?;
                    testing::find_case(&files, &name)?.ok_or_else(|| {
                        CliError::Usage(format!("no case named `{name}` under `{}`", t.display()))
                    })?
                }
                _ => {
                    return Err(CliError::Usage(
                        "give `--request FILE` or `--case NAME --tests PATH`".into(),
                    ));
                }
            };
            let ex = c
                .explain(&engine)
                .map_err(|e| CliError::Found(e.to_string()))?;
            print!("{}", testing::render_explanation(&ex));
            if let Some(expect) = c.expect {
                let ok = (expect == testing::Expect::Allow) == ex.decision.allowed;
                println!("expected: {}", if ok { "yes" } else { "NO" });
            }
            Ok(())
        }
        PolicyCommand::Schema { tools } => {
            let text = std::fs::read_to_string(&tools).map_err(|source| CliError::Io {
                action: "read",
                path: tools.clone(),
                source,
            })?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| CliError::Usage(format!("`{}` is not JSON: {e}", tools.display())))?;
            let list = tool_list(&v).ok_or_else(|| {
                CliError::Usage(format!(
                    "`{}` must be a JSON list of tool definitions or a tools/list result",
                    tools.display()
                ))
            })?;
            let mut named = Vec::new();
            for t in list {
                let Some(name) = t.get("name").and_then(Value::as_str) else {
                    return Err(CliError::Usage("every tool needs a `name`".into()));
                };
                named.push((name.to_owned(), t.clone()));
            }
            print!("{}", schema_fragment(&named));
            Ok(())
        }
    }
}

/// `policies/` holds the policies and, in `tests/`, their tests.
fn test_root(path: &Path) -> PathBuf {
    let t = path.join("tests");
    if path.is_dir() && t.is_dir() {
        t
    } else {
        path.to_path_buf()
    }
}

fn tool_list(v: &Value) -> Option<&Vec<Value>> {
    v.as_array()
        .or_else(|| v.get("tools").and_then(Value::as_array))
        .or_else(|| {
            v.get("result")
                .and_then(|r| r.get("tools"))
                .and_then(Value::as_array)
        })
}
