//! `portcullis check`: everything `serve` would refuse, refused here first — the config, its
//! TLS files, policies, credentials, identity, limits, the lockfile, naming and workflows — then
//! every backend probed once and reviewed as the gateway would review it.
//!
//! It validates and reports; it writes nothing. What `serve` would pin on first use is said,
//! not pinned; the audit trail is checked for being writable, not opened. A backend that only
//! accepts per-caller tokens cannot be listed without a caller: that is reported as such (not
//! a failure), and its token endpoint is checked instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::backends::{BackendReview, Outcome, Purpose, review_backends};
use super::{CliError, load};
use crate::config::Config;
use crate::integrity::review::{ExecAction, ItemReview, State, offered};
use crate::integrity::{Kind, Quarantine};

pub(super) async fn run(config: Option<PathBuf>) -> Result<(), CliError> {
    let cfg = load(config.as_deref())?;
    // `serve` loads these before listening; a config it would refuse is not OK.
    if let Some(files) = &cfg.listen.get_ref().tls {
        crate::edge::tls::load_certified_key(
            &cfg.resolve_path(&files.cert),
            &cfg.resolve_path(&files.key),
        )?;
    }
    println!("config OK: {}", cfg.source_name);
    for w in cfg.warnings() {
        println!("warning: {w}");
    }
    match crate::policy::PolicySources::from_config(
        cfg.policy.as_ref().map(|p| p.get_ref()),
        &cfg.base_dir,
    ) {
        Some((sources, _)) => {
            let engine = crate::policy::PolicyEngine::load(&sources)?;
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
    validate_parts(&cfg)?;
    let lock_path = cfg.resolve_path(&cfg.integrity.lockfile);
    let lock = crate::integrity::lockfile::load_optional(&lock_path)?.unwrap_or_default();
    let reviews = review_backends(&cfg, &lock, Purpose::AsGateway).await?;
    let mut failed = 0;
    for r in &reviews {
        if !report(r).await {
            failed += 1;
        }
    }
    check_catalog(&cfg, &reviews)?;
    if failed > 0 {
        return Err(CliError::Found(format!(
            "{failed} backend(s) could not be reached"
        )));
    }
    Ok(())
}

/// What `Gateway::new` builds from the config, built here without starting anything: whatever
/// it would refuse, `check` refuses.
fn validate_parts(cfg: &Config) -> Result<(), CliError> {
    crate::gateway::authenticator(cfg, crate::egress::Egress::from_config(&cfg.network))?;
    crate::gateway::limits(cfg)?;
    crate::meta::Runtime::new(
        cfg.meta.as_ref().map(|m| m.get_ref()),
        &cfg.base_dir,
        &crate::egress::Egress::from_config(&cfg.network),
    )
    .map_err(|e| CliError::Runtime {
        what: "meta-tools (`meta.embedding`)",
        message: e.to_string(),
    })?;
    if let Some(w) = &cfg.integrity.webhook {
        crate::egress::Egress::from_config(&cfg.network)
            .check_url(&w.url)
            .map_err(|e| crate::integrity::IntegrityError::Webhook {
                message: e.to_string(),
            })?;
    }
    if let Some(file) = cfg.audit.as_ref().and_then(|a| a.get_ref().file.clone()) {
        audit_writable(&cfg.resolve_path(&file))?;
    }
    Ok(())
}

/// The audit trail `serve` would append to can be appended to; checked without creating,
/// changing or recovering it.
fn audit_writable(path: &Path) -> Result<(), CliError> {
    let io = |action, source| CliError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| io("open the audit trail for appending", e))?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() && !m.permissions().readonly() => Ok(()),
        Ok(_) => Err(io(
            "create the audit trail (its directory is not a writable directory)",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        )),
        Err(e) => Err(io("create the audit trail (no such directory)", e)),
    }
}

/// Prints what became of one backend; `false` when it is down.
async fn report(r: &BackendReview) -> bool {
    let name = &r.backend;
    match &r.outcome {
        Outcome::Listed { info, items } => {
            println!(
                "backend `{name}`: up ({}), {} tools, {} prompts",
                info.server_info
                    .get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?"),
                info.tools.len(),
                info.prompts.len()
            );
            let pins = pins_summary(r, items);
            if !pins.is_empty() {
                println!(
                    "backend `{name}`: pins: {}; see `portcullis pins status`",
                    pins.join("; ")
                );
            }
            true
        }
        Outcome::NotProbed(why) => per_caller(r, why).await,
        Outcome::NotStarted(refused) => {
            println!("backend `{name}`: DOWN: {refused}");
            false
        }
        Outcome::Failed(e) => {
            println!("backend `{name}`: DOWN: {e}");
            false
        }
        // `AsGateway` probes backends in every mode.
        Outcome::Off => true,
    }
}

/// A backend that only accepts per-caller tokens: not probed, and not a failure; its token
/// endpoint (token exchange) must answer.
async fn per_caller(r: &BackendReview, why: &str) -> bool {
    let name = &r.backend;
    match &*r.spec.credentials {
        crate::credentials::Source::Exchange(client) => match client.check_endpoint().await {
            Ok(answer) => {
                println!(
                    "backend `{name}`: not probed without a caller ({why}); token endpoint `{}` \
                     answers (HTTP {} {})",
                    client.endpoint(),
                    answer.status,
                    answer.error
                );
                true
            }
            Err(e) => {
                println!("backend `{name}`: DOWN: {e}");
                false
            }
        },
        _ => {
            println!(
                "backend `{name}`: not probed without a caller ({why}: it is given each \
                 caller's own token)"
            );
            true
        }
    }
}

/// What `serve` would do about this backend's definitions, when it does more than offer them.
fn pins_summary(r: &BackendReview, items: &[ItemReview<'_>]) -> Vec<String> {
    let mut first_use = 0;
    let mut quarantined: Vec<&str> = Vec::new();
    let mut unpinned = 0;
    let mut removed = 0;
    let mut unreviewed = 0;
    for i in items {
        match (&i.state, &i.verdict.quarantine) {
            (State::Removed, _) => removed += 1,
            (_, Some(q)) => quarantined.push(match q {
                Quarantine::Changed { .. } => "changed",
                Quarantine::New => "new",
                Quarantine::Findings { .. } => "findings",
                Quarantine::Rejected => "rejected",
            }),
            (State::New, None) if i.first_use => first_use += 1,
            (State::New | State::Changed(_), None) => unpinned += 1,
            (State::Pinned, None) if !i.unreviewed.is_empty() => unreviewed += 1,
            _ => {}
        }
    }
    let mut out = Vec::new();
    match r.exec_action() {
        Some(ExecAction::PinFirstUse) => {
            out.push("what it runs is pinned on first use by `serve`".to_owned())
        }
        Some(ExecAction::StartWithAlert) => out.push(
            "what it runs is not the approved executable (mode warn: started anyway)".to_owned(),
        ),
        _ => {}
    }
    if first_use > 0 {
        out.push(format!(
            "{first_use} new item(s) pinned on first use by `serve`"
        ));
    }
    if !quarantined.is_empty() {
        quarantined.sort_unstable();
        let mut why = quarantined.clone();
        why.dedup();
        out.push(format!(
            "{} item(s) quarantined until reviewed ({})",
            quarantined.len(),
            why.join(", ")
        ));
    }
    if unpinned > 0 {
        out.push(format!("{unpinned} item(s) offered unpinned (mode warn)"));
    }
    if unreviewed > 0 {
        out.push(format!(
            "{unreviewed} pinned item(s) with unreviewed findings"
        ));
    }
    if removed > 0 {
        out.push(format!("{removed} approved item(s) no longer listed"));
    }
    out
}

/// Names and workflows against the catalog, as `serve` checks them at start: unresolved
/// collisions under `manual` naming and workflow steps that call unknown tools are errors.
fn check_catalog(cfg: &Config, reviews: &[BackendReview]) -> Result<(), CliError> {
    let namer = crate::catalog::Namer::new(cfg.naming.clone(), &cfg.backend_names());
    let mut tools = Vec::new();
    let mut prompts = Vec::new();
    for r in reviews {
        if let Outcome::Listed { info, .. } = &r.outcome {
            // What clients would be offered: hidden tools left out, overrides applied.
            let t = offered(Kind::Tool, &info.tools, &r.rules);
            let p = offered(Kind::Prompt, &info.prompts, &r.rules);
            tools.push((r.backend.clone(), Arc::new(t)));
            prompts.push((r.backend.clone(), Arc::new(p)));
        }
    }
    crate::gateway::check_names(&namer, &tools, &prompts)?;
    // Every tool the backends list, quarantined ones included, as the gateway checks at start.
    let listed = reviews.iter().map(|r| {
        let tools = match &r.outcome {
            Outcome::Listed { info, .. } => Some(info.tools.as_slice()),
            _ => None,
        };
        (r.backend.as_str(), tools)
    });
    for w in crate::checks::workflows(cfg)?.check_listed(&namer, listed)? {
        tracing::warn!("{w}");
    }
    Ok(())
}
