//! `portcullis pins …`: the operator's review of definition integrity, run beside (not inside)
//! the gateway. Every subcommand reads the lockfile and connects to each backend itself, as
//! `portcullis check` does, and reviews what the backend lists now with the gateway's own review
//! ([`crate::integrity::review`]): `status` summarises, `diff` shows each change, `approve` and
//! `reject` record a decision in the lockfile, and `init` pins a new deployment. A running
//! gateway picks up the written lockfile by itself (file watch and SIGHUP), so no decision needs
//! a restart.
//!
//! Here: the commands, gathering the reviews, and naming items on the command line; `render`
//! prints `status` and `diff`; `decide` turns `approve`, `reject` and `init` into lockfile
//! operations ([`crate::integrity::lockfile::Op`]).
//!
//! A stdio backend whose executable differs from its pin is not started here either (the
//! gateway refuses to start it in `enforce`), unless `--dangerous-run-changed-executables`: what
//! it runs is approved first (`approve --backend`), the tools it then lists are reviewed next.
//!
//! Exit codes: 0 nothing needs review; 1 something needs review, or was refused; 2 an error (a
//! backend that cannot be probed, a config or lockfile that does not load, an unknown name).

mod decide;
mod render;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::backends::{BackendReview, Purpose, review_backends};
use crate::config::{Config, ConfigError};
use crate::integrity::lockfile::{self, Lockfile};
use crate::integrity::review::ItemReview;
use crate::integrity::{IntegrityError, Kind};

/// Exit code: something needs review (or an approval was refused).
const NEEDS_REVIEW: u8 = 1;
/// Exit code: something could not be checked or done.
const FAILED: u8 = 2;

#[derive(Subcommand)]
pub enum PinsCommand {
    /// Per backend, what is pinned, changed, new, removed or rejected, what the gateway does
    /// with it, and its findings. Exits 0 when nothing needs review, 1 when something does
    /// (a change, or a finding nobody reviewed), 2 when a backend could not be checked.
    Status {
        #[command(flatten)]
        opts: Opts,
    },
    /// A unified diff of the approved against the current definition of each changed, new,
    /// removed or rejected item (and of changed executables), with its findings. Invisible
    /// characters are shown escaped (`\u{200b}`).
    Diff {
        /// `backend` or `backend/name` (`backend/tool:name`, `backend/prompt:name`,
        /// `backend/template:uri` when a name is ambiguous); default: every backend.
        target: Option<String>,
        /// Colour the diff: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        #[command(flatten)]
        opts: Opts,
    },
    /// Approve the current definitions of items, or of everything of a backend, in the
    /// lockfile. Items with findings at or above `integrity.quarantine_severity` are refused
    /// unless `--accept-findings`.
    #[command(group(
        ArgGroup::new("what")
            .required(true)
            .multiple(true)
            .args(["items", "backend", "all_new", "all"])
    ))]
    Approve {
        /// `backend/name` (or `backend/tool:name`, `backend/prompt:name`,
        /// `backend/template:uri`).
        #[arg(value_name = "BACKEND/NAME")]
        items: Vec<String>,
        /// Everything of this backend that differs from the lockfile, with its executables and
        /// `serverInfo` (repeatable). Rejected definitions are only approved by name.
        #[arg(long, value_name = "NAME")]
        backend: Vec<String>,
        /// Every new item of every backend (never a changed one), and executables of backends
        /// that have none pinned yet.
        #[arg(long)]
        all_new: bool,
        /// Everything of every backend (as `--backend` for each).
        #[arg(long)]
        all: bool,
        /// Approve items even when they have findings at or above `quarantine_severity`.
        #[arg(long)]
        accept_findings: bool,
        #[command(flatten)]
        opts: Opts,
    },
    /// Record the current definition of items as rejected: the gateway keeps it quarantined
    /// (even under `trust_on_first_use`) for as long as the backend serves it. The approved pin
    /// is kept.
    Reject {
        #[arg(value_name = "BACKEND/NAME", required = true)]
        items: Vec<String>,
        #[command(flatten)]
        opts: Opts,
    },
    /// First run of a deployment: pin every backend's current catalog and executables into a
    /// new lockfile. Items with findings at or above `quarantine_severity` are left out (and
    /// listed) unless `--accept-findings`.
    Init {
        /// Replace an existing lockfile (its rejections are kept).
        #[arg(long)]
        force: bool,
        #[arg(long)]
        accept_findings: bool,
        #[command(flatten)]
        opts: Opts,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct Opts {
    /// The gateway's config (default: the built-in quickstart).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Start stdio backends whose executable differs from its pin, to list their tools (the
    /// gateway refuses to start them): this runs a program nobody approved.
    #[arg(long)]
    dangerous_run_changed_executables: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What a `pins` command could not do (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum PinsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    #[error("`{target}` names no backend: write `backend/name`")]
    NoBackend { target: String },
    #[error("`{target}` names no item: write `{backend}/name`, or `{backend}` alone")]
    NoItem { target: String, backend: String },
    #[error("`{target}` names a backend, not an item: write `{target}/NAME`{hint}")]
    NotAnItem { target: String, hint: String },
    #[error("no backend `{name}` in `{config}` (its backends: {known})")]
    UnknownBackend {
        name: String,
        config: String,
        known: String,
    },
    #[error(
        "backend `{backend}` has no tool, prompt or resource template `{name}` (listed now or \
         approved){known}"
    )]
    UnknownItem {
        backend: String,
        name: String,
        known: String,
    },
    #[error("`{backend}/{name}` is ambiguous: {candidates}; name one")]
    Ambiguous {
        backend: String,
        name: String,
        candidates: String,
    },
    /// The backend has no current catalog to decide about; the message says why and what to do.
    #[error("{0}")]
    Unusable(String),
    #[error(
        "{what} is no longer listed, so there is nothing to reject; `portcullis pins approve \
         {address}` approves its removal"
    )]
    NothingToReject { what: String, address: String },
    #[error(
        "lockfile `{path}` exists: review changes with `portcullis pins status` and `pins \
         approve`, or pass --force to pin everything anew (rejections are kept)"
    )]
    LockfileExists { path: String },
    #[error("nothing written: init pins every backend, and these could not be pinned: {0}")]
    InitIncomplete(String),
}

pub async fn run(cmd: PinsCommand) -> ExitCode {
    let result = match cmd {
        PinsCommand::Status { opts } => render::status(&opts).await,
        PinsCommand::Diff {
            target,
            color,
            opts,
        } => render::diff(&opts, target.as_deref(), color).await,
        PinsCommand::Approve {
            items,
            backend,
            all_new,
            all,
            accept_findings,
            opts,
        } => {
            let want = decide::Wanted {
                items,
                backends: backend,
                all_new,
                all,
            };
            decide::approve(&opts, &want, accept_findings).await
        }
        PinsCommand::Reject { items, opts } => decide::reject(&opts, &items).await,
        PinsCommand::Init {
            force,
            accept_findings,
            opts,
        } => decide::init(&opts, force, accept_findings).await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(FAILED)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gathering: the config, the lockfile, and every backend reviewed against it.

struct Ctx {
    cfg: Config,
    lock_path: PathBuf,
    /// `None`: there is no lockfile yet.
    lock: Option<Lockfile>,
    reviews: Vec<BackendReview>,
}

impl Ctx {
    fn review(&self, backend: &str) -> Result<(usize, &BackendReview), PinsError> {
        find_backend(&self.reviews, backend, &self.cfg.source_name)
    }
}

fn find_backend<'a>(
    reviews: &'a [BackendReview],
    name: &str,
    config: &str,
) -> Result<(usize, &'a BackendReview), PinsError> {
    reviews
        .iter()
        .enumerate()
        .find(|(_, r)| r.backend == name)
        .ok_or_else(|| {
            let names: Vec<&str> = reviews.iter().map(|r| r.backend.as_str()).collect();
            PinsError::UnknownBackend {
                name: name.to_owned(),
                config: config.to_owned(),
                known: if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                },
            }
        })
}

impl Opts {
    fn load(&self) -> Result<Config, ConfigError> {
        super::load(self.config.as_deref())
    }

    fn purpose(&self) -> Purpose {
        Purpose::Review {
            run_changed: self.dangerous_run_changed_executables,
        }
    }
}

async fn gather(opts: &Opts) -> Result<Ctx, PinsError> {
    let cfg = opts.load()?;
    let lock_path = cfg.resolve_path(&cfg.integrity.lockfile);
    let lock = lockfile::load_optional(&lock_path)?;
    let empty = Lockfile::default();
    let reviews = review_backends(&cfg, lock.as_ref().unwrap_or(&empty), opts.purpose()).await?;
    Ok(Ctx {
        cfg,
        lock_path,
        lock,
        reviews,
    })
}

fn reload_note(cfg: &Config) -> String {
    match cfg.integrity.reload_secs {
        0 => "a running gateway picks this up on SIGHUP (integrity.reload_secs = 0); no restart \
              needed"
            .to_owned(),
        n => format!(
            "a running gateway picks this up within {n} s (integrity.reload_secs) or at once on \
             SIGHUP; no restart needed"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Naming items on the command line.

/// `backend`, or `backend/name` with an optional kind (`tool:`, `prompt:`, `template:`,
/// `server:` for the server instructions, `backend/instructions`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    backend: String,
    item: Option<ItemTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ItemTarget {
    kind: Option<Kind>,
    name: String,
    /// Everything after `backend/`, for a name that itself looks like `tool:…`.
    raw: String,
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Instructions => "server",
        Kind::Tool => "tool",
        Kind::Prompt => "prompt",
        Kind::ResourceTemplate => "template",
    }
}

fn parse_target(s: &str) -> Result<Target, PinsError> {
    // Backend names are letters, digits, `-` and `_` (config validation), so the first `/`
    // ends the backend; a resource template's URI keeps its own slashes.
    let (backend, rest) = match s.split_once('/') {
        Some((b, r)) => (b, Some(r)),
        None => (s, None),
    };
    if backend.is_empty() {
        return Err(PinsError::NoBackend { target: s.into() });
    }
    let item = match rest {
        None => None,
        Some("") => {
            return Err(PinsError::NoItem {
                target: s.into(),
                backend: backend.into(),
            });
        }
        Some(r) => {
            let prefixes = [
                ("tool:", Kind::Tool),
                ("prompt:", Kind::Prompt),
                ("template:", Kind::ResourceTemplate),
                ("resource_template:", Kind::ResourceTemplate),
                ("server:", Kind::Instructions),
            ];
            let (kind, name) = prefixes
                .iter()
                .find_map(|(p, k)| {
                    r.strip_prefix(p)
                        .filter(|n| !n.is_empty())
                        .map(|n| (Some(*k), n))
                })
                .unwrap_or((None, r));
            Some(ItemTarget {
                kind,
                name: name.to_owned(),
                raw: r.to_owned(),
            })
        }
    };
    Ok(Target {
        backend: backend.to_owned(),
        item,
    })
}

fn resolve<'a>(r: &'a BackendReview, t: &ItemTarget) -> Result<&'a ItemReview<'static>, PinsError> {
    let find = |kind: Option<Kind>, name: &str| -> Vec<&'a ItemReview<'static>> {
        r.items()
            .iter()
            .filter(|i| i.name == name && kind.is_none_or(|k| i.kind == k))
            .collect()
    };
    let mut found = find(t.kind, &t.name);
    if found.is_empty() && t.kind.is_some() {
        // A name that contains `tool:` itself.
        found = find(None, &t.raw);
    }
    match found.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut known: Vec<String> = r
                .items()
                .iter()
                .map(|i| format!("{}:{}", kind_word(i.kind), i.name))
                .collect();
            known.truncate(20);
            Err(PinsError::UnknownItem {
                backend: r.backend.clone(),
                name: t.raw.clone(),
                known: if known.is_empty() {
                    String::new()
                } else {
                    format!("; it has {}", known.join(", "))
                },
            })
        }
        many => Err(PinsError::Ambiguous {
            backend: r.backend.clone(),
            name: t.raw.clone(),
            candidates: many
                .iter()
                .map(|i| format!("`{}/{}:{}`", r.backend, kind_word(i.kind), i.name))
                .collect::<Vec<_>>()
                .join(" or "),
        }),
    }
}
