//! The backends of a config as the command line sees them, beside (never inside) a running
//! gateway: each probed once ([`crate::upstream::probe`]) and what it lists reviewed against the
//! lockfile with the gateway's own review ([`crate::integrity::review`]), so `check`, `pins` and
//! `catalog` report what `serve` does. Nothing here writes: no lockfile, no seen catalogs, no
//! audit trail.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::config::{Config, ConfigError};
use crate::integrity::ExecutableRefused;
use crate::integrity::exec::{self, ExecError, HashCache};
use crate::integrity::findings::Scanner;
use crate::integrity::lockfile::{BackendPins, ExecutablePin, Lockfile};
use crate::integrity::review::{
    Against, ExecAction, ExecDrift, ItemReview, Rules, State, exec_action, exec_drift, review_list,
};
use crate::integrity::{Kind, item_name};
use crate::upstream::BackendSpec;
use crate::upstream::probe::{ProbeError, ProbeInfo, needs_caller, probe_backend};

/// The order items are shown in: tools first, as operators think of a backend by its tools;
/// the server instructions last.
pub const SHOWN: [Kind; 4] = [
    Kind::Tool,
    Kind::Prompt,
    Kind::ResourceTemplate,
    Kind::Instructions,
];

/// Who is looking, which decides what is started and what is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// As `serve` would: every backend probed whatever its integrity mode, a stdio backend
    /// started only if the gateway would start it (its executable approved, or pinned on first
    /// use, or `warn`).
    AsGateway,
    /// `pins`: backends in `mode = "off"` are left alone; a stdio backend whose executable
    /// changed is not started unless `run_changed`; a backend that only accepts per-caller
    /// tokens is reviewed from what it last listed to the gateway.
    Review { run_changed: bool },
}

/// Why a backend could not be listed, when that is a failure.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error("cannot pin what it runs: {0}")]
    Exec(#[from] ExecError),
    #[error("{kind} `{name}` cannot be pinned: {why}")]
    Unpinnable {
        kind: Kind,
        name: String,
        why: String,
    },
}

/// What became of one backend.
#[derive(Debug)]
pub enum Outcome {
    /// Listed now (or as last listed to the gateway, see [`BackendReview::seen`]) and reviewed:
    /// every item listed now and every approved item no longer listed, sorted by kind (tools
    /// first), then name. No items in `mode = "off"`.
    Listed {
        info: ProbeInfo,
        items: Vec<ItemReview<'static>>,
    },
    /// `mode = "off"`, left alone ([`Purpose::Review`]).
    Off,
    /// Not a failure: it cannot be listed without a caller (per-caller tokens).
    NotProbed(String),
    /// Its executable is not what the lockfile approves, so it was not run.
    NotStarted(ExecutableRefused),
    Failed(Failure),
}

#[derive(Debug)]
pub struct BackendReview {
    pub backend: String,
    pub spec: Arc<BackendSpec>,
    pub rules: Rules,
    pub approved: Option<BackendPins>,
    /// What the stdio backend runs now; `None` for HTTP and `off` backends, or when it cannot
    /// be pinned (then `outcome` says why).
    pub exec: Option<Vec<ExecutablePin>>,
    pub outcome: Outcome,
    /// Set when the items are what the backend last listed to the running gateway (it cannot
    /// be listed here): when that was.
    pub seen: Option<String>,
}

impl BackendReview {
    pub fn items(&self) -> &[ItemReview<'static>] {
        match &self.outcome {
            Outcome::Listed { items, .. } => items,
            _ => &[],
        }
    }

    pub fn approved_exec(&self) -> &[ExecutablePin] {
        self.approved
            .as_ref()
            .map(|p| p.executables.as_slice())
            .unwrap_or_default()
    }

    pub fn exec_drift(&self) -> Option<ExecDrift> {
        self.exec
            .as_deref()
            .map(|current| exec_drift(self.approved_exec(), current))
    }

    /// What the gateway does before starting it (stdio backends).
    pub fn exec_action(&self) -> Option<ExecAction> {
        self.exec_drift().map(|d| exec_action(&self.rules, d))
    }

    /// How to name an item on the command line: the kind prefix only where it is needed.
    pub fn address(&self, kind: Kind, name: &str) -> String {
        let clash = self
            .items()
            .iter()
            .any(|i| i.name == name && i.kind != kind);
        match kind {
            Kind::Tool if !clash => format!("{}/{name}", self.backend),
            Kind::Tool => format!("{}/tool:{name}", self.backend),
            Kind::Prompt => format!("{}/prompt:{name}", self.backend),
            Kind::ResourceTemplate => format!("{}/template:{name}", self.backend),
            Kind::Instructions if !clash => format!("{}/{name}", self.backend),
            Kind::Instructions => format!("{}/server:{name}", self.backend),
        }
    }
}

/// Probe every backend of `cfg` (concurrently) and review what it lists against `lock`.
pub async fn review_backends(
    cfg: &Config,
    lock: &Lockfile,
    purpose: Purpose,
) -> Result<Vec<BackendReview>, ConfigError> {
    // Local to this run: nothing here is long-lived enough for a shared cache to pay.
    let cache = HashCache::default();
    let mut reviews = Vec::new();
    let mut probes = Vec::new();
    let seen_file = crate::integrity::seen_path(&cfg.resolve_path(&cfg.integrity.lockfile));
    let seen = match purpose {
        Purpose::Review { .. } => crate::integrity::load_seen(&seen_file),
        Purpose::AsGateway => BTreeMap::new(),
    };
    let mut listed: BTreeMap<usize, ProbeInfo> = BTreeMap::new();
    let egress = crate::egress::Egress::from_config(&cfg.network);
    for b in &cfg.backends {
        let b = b.get_ref();
        let spec = Arc::new(BackendSpec::from_config(
            b,
            crate::gateway::upstream_setup(cfg, &egress),
        )?);
        let mut review = BackendReview {
            backend: b.name.clone(),
            spec: spec.clone(),
            rules: Rules::of(&cfg.integrity, b),
            approved: lock.backends.get(&b.name).cloned(),
            exec: None,
            outcome: Outcome::Off,
            seen: None,
        };
        let off = review.rules.mode == crate::integrity::config::Mode::Off;
        if off && purpose != Purpose::AsGateway {
            reviews.push(review);
            continue;
        }
        if needs_caller(&spec) {
            // The running gateway keeps what such a backend last listed to a session.
            if let Some(cat) = seen.get(&b.name) {
                review.seen = Some(format!(
                    "as last listed to the gateway at {} ({})",
                    cat.updated,
                    seen_file.display()
                ));
                listed.insert(
                    reviews.len(),
                    ProbeInfo {
                        server_info: cat.server_info.clone(),
                        capabilities: Value::Null,
                        tools: cat.tools.clone(),
                        prompts: cat.prompts.clone(),
                        resource_templates: cat.resource_templates.clone(),
                        instructions: cat
                            .instructions
                            .first()
                            .and_then(|i| i.get("instructions"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        eras: Default::default(),
                    },
                );
                reviews.push(review);
                continue;
            }
            review.outcome = Outcome::NotProbed(
                match purpose {
                    Purpose::Review { .. } => {
                        "it only accepts per-caller tokens, so it cannot be listed here, and the \
                     gateway has not seen its catalog yet; the gateway reviews it when a session \
                     connects"
                    }
                    Purpose::AsGateway => "it only accepts per-caller tokens",
                }
                .into(),
            );
            reviews.push(review);
            continue;
        }
        if let crate::upstream::SpecKind::Stdio { argv, env, cwd } = &spec.kind
            && !off
        {
            match exec::pins(argv, env, cwd.as_deref(), &cache) {
                Ok(current) => {
                    let drift = exec_drift(review.approved_exec(), &current);
                    let start = match purpose {
                        Purpose::Review { run_changed } => {
                            drift != ExecDrift::Changed || run_changed
                        }
                        Purpose::AsGateway => {
                            exec_action(&review.rules, drift) != ExecAction::Refuse
                        }
                    };
                    if !start {
                        review.outcome = Outcome::NotStarted(ExecutableRefused::not_approved(
                            &review.backend,
                            review.approved_exec(),
                            &current,
                        ));
                    }
                    review.exec = Some(current);
                    if !start {
                        reviews.push(review);
                        continue;
                    }
                }
                Err(e) => {
                    review.outcome = Outcome::Failed(e.into());
                    reviews.push(review);
                    continue;
                }
            }
        }
        probes.push((reviews.len(), spec));
        reviews.push(review);
    }
    let reports =
        futures::future::join_all(probes.iter().map(|(_, spec)| probe_backend(spec.clone()))).await;
    for ((i, _), report) in probes.iter().zip(reports) {
        match report.outcome {
            Ok(info) => {
                listed.insert(*i, info);
            }
            Err(e) => {
                if let Some(r) = reviews.get_mut(*i) {
                    r.outcome = Outcome::Failed(e.into());
                }
            }
        }
    }
    // Every backend's tool names, as clients see them, for the cross-server shadowing rule; a
    // backend not listed now contributes the names it has approved.
    let mut names: Vec<(String, String)> = Vec::new();
    for (i, r) in reviews.iter().enumerate() {
        match listed.get(&i) {
            Some(info) => names.extend(
                info.tools
                    .iter()
                    .filter_map(|t| item_name(Kind::Tool, t))
                    .filter(|n| r.rules.filter.admits(n))
                    .map(|n| (r.backend.clone(), n.to_owned())),
            ),
            None => names.extend(
                r.approved
                    .iter()
                    .flat_map(|a| a.tools.keys())
                    .filter(|n| r.rules.filter.admits(n))
                    .map(|n| (r.backend.clone(), n.clone())),
            ),
        }
    }
    let at = cfg.integrity.quarantine_severity;
    for (i, info) in listed {
        let Some(r) = reviews.get_mut(i) else {
            continue;
        };
        let scanner = Scanner::new(&r.backend, &names)
            .with_classifier(cfg.integrity.classifier == crate::integrity::config::Classifier::On);
        let against = Against {
            approved: r.approved.as_ref(),
            rules: &r.rules,
            quarantine_severity: at,
        };
        let mut items = Vec::new();
        let instructions = crate::integrity::instructions_items(info.instructions.as_deref());
        for kind in SHOWN {
            let list = match kind {
                Kind::Tool => &info.tools,
                Kind::Prompt => &info.prompts,
                Kind::ResourceTemplate => &info.resource_templates,
                Kind::Instructions => &instructions,
            };
            let scan = |d: &Value| Arc::new(scanner.scan(d, kind));
            let mut reviewed: Vec<ItemReview<'static>> = review_list(kind, list, against, &scan)
                .items
                .into_iter()
                .map(ItemReview::into_owned)
                .collect();
            reviewed.sort_by(|a, b| a.name.cmp(&b.name));
            items.extend(reviewed);
        }
        let unpinnable = items.iter().find_map(|i| match &i.state {
            State::Unpinnable(why) => Some(Failure::Unpinnable {
                kind: i.kind,
                name: i.name.clone(),
                why: why.clone(),
            }),
            _ => None,
        });
        r.outcome = match unpinnable {
            Some(f) => Outcome::Failed(f),
            None => Outcome::Listed { info, items },
        };
    }
    Ok(reviews)
}
