//! `pins approve`, `pins reject` and `pins init`: an operator's decisions, turned into lockfile
//! operations ([`Op`]) and applied to the lockfile as it is when written
//! ([`lockfile::update`]), so a first-use pin the gateway wrote meanwhile is kept.

use std::collections::{BTreeMap, BTreeSet};

use super::super::backends::{BackendReview, Outcome};
use super::render::{finding_line, plural, server_label, short};
use super::{
    FAILED, NEEDS_REVIEW, Opts, PinsError, find_backend, gather, kind_word, parse_target,
    reload_note, resolve,
};
use crate::integrity::findings::Severity;
use crate::integrity::lockfile::{self, BackendPins, Lockfile, Op, Rejected};
use crate::integrity::review::{ExecDrift, State};
use crate::integrity::{Kind, sorted_keys};

/// What the operator asked to approve.
#[derive(Debug, Clone, Default)]
pub(super) struct Wanted {
    pub items: Vec<String>,
    pub backends: Vec<String>,
    pub all_new: bool,
    pub all: bool,
}

/// The approvals a request selects, before findings are checked.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Selection {
    /// (review index, item index) → named explicitly (only then is a rejection lifted).
    pub items: BTreeMap<(usize, usize), bool>,
    /// Backends whose executables and `serverInfo` are approved too.
    pub whole: BTreeSet<usize>,
    /// Backends whose executables are approved because none are pinned yet.
    pub new_exec: BTreeSet<usize>,
    /// Said to the operator, no effect on the exit code.
    pub notes: Vec<String>,
    /// Backends that could not be checked (under `--all`): reported, exit code 2.
    pub failed: Vec<String>,
}

pub(super) fn select(
    reviews: &[BackendReview],
    want: &Wanted,
    config: &str,
) -> Result<Selection, PinsError> {
    let mut sel = Selection::default();
    let by_name = |name: &str| find_backend(reviews, name, config);
    let unusable = |r: &BackendReview| -> Option<PinsError> {
        match &r.outcome {
            Outcome::Listed { .. } => None,
            Outcome::NotStarted(_) => Some(format!(
                "backend `{}` was not started because its executable changed; approve what it \
                 runs first (`portcullis pins approve --backend {}`)",
                r.backend, r.backend
            )),
            Outcome::Off => Some(format!(
                "backend `{}` has integrity mode \"off\": nothing of it is pinned",
                r.backend
            )),
            Outcome::NotProbed(why) => Some(format!("backend `{}`: {why}", r.backend)),
            Outcome::Failed(e) => Some(format!("backend `{}` cannot be checked: {e}", r.backend)),
        }
        .map(PinsError::Unusable)
    };
    for raw in &want.items {
        let t = parse_target(raw)?;
        let Some(it) = &t.item else {
            return Err(PinsError::NotAnItem {
                target: raw.clone(),
                hint: format!(", or `--backend {raw}` for everything of it"),
            });
        };
        let (bi, r) = by_name(&t.backend)?;
        if let Some(why) = unusable(r) {
            return Err(why);
        }
        let item = resolve(r, it)?;
        let ii = r
            .items()
            .iter()
            .position(|i| std::ptr::eq(i, item))
            .unwrap_or_default();
        if item.state == State::Pinned {
            sel.notes.push(format!(
                "{} {} is already approved (sha256 {}){}",
                kind_word(item.kind),
                r.address(item.kind, &item.name),
                item.current
                    .as_ref()
                    .map(|c| short(&c.sha256))
                    .unwrap_or(""),
                if item.unreviewed.is_empty() {
                    ""
                } else {
                    "; its unreviewed findings come from scan rules newer than its approval, \
                     which approving again cannot change: `portcullis pins reject` quarantines it"
                }
            ));
            continue;
        }
        sel.items.insert((bi, ii), true);
    }
    let mut whole: Vec<usize> = Vec::new();
    for name in &want.backends {
        let (bi, r) = by_name(name)?;
        match &r.outcome {
            Outcome::Listed { .. } | Outcome::NotStarted(_) => whole.push(bi),
            _ => {
                if let Some(why) = unusable(r) {
                    return Err(why);
                }
            }
        }
    }
    if want.all {
        for (bi, r) in reviews.iter().enumerate() {
            match &r.outcome {
                Outcome::Listed { .. } | Outcome::NotStarted(_) => whole.push(bi),
                Outcome::Failed(e) => sel.failed.push(format!("backend `{}`: {e}", r.backend)),
                Outcome::Off | Outcome::NotProbed(_) => {}
            }
        }
    }
    for bi in whole {
        let Some(r) = reviews.get(bi) else { continue };
        sel.whole.insert(bi);
        if matches!(r.outcome, Outcome::NotStarted(_)) {
            sel.notes.push(format!(
                "backend `{}` was not started (its executable changed): only what it runs is \
                 approved; run `portcullis pins status` again to review its tools",
                r.backend
            ));
        }
        for (ii, item) in r.items().iter().enumerate() {
            match item.state {
                State::Changed(_) | State::New | State::Removed | State::Unpinnable(_) => {
                    sel.items.entry((bi, ii)).or_insert(false);
                }
                State::Rejected if !sel.items.contains_key(&(bi, ii)) => {
                    sel.notes.push(format!(
                        "left {} {} rejected: approve it by name to lift the rejection",
                        kind_word(item.kind),
                        r.address(item.kind, &item.name)
                    ));
                }
                State::Rejected | State::Pinned => {}
            }
        }
    }
    if want.all_new {
        for (bi, r) in reviews.iter().enumerate() {
            for (ii, item) in r.items().iter().enumerate() {
                if item.state == State::New {
                    sel.items.entry((bi, ii)).or_insert(false);
                }
            }
            if r.exec_drift() == Some(ExecDrift::New) && !sel.whole.contains(&bi) {
                sel.new_exec.insert(bi);
            }
            if let Outcome::Failed(e) = &r.outcome {
                let line = format!("backend `{}`: {e}", r.backend);
                if !sel.failed.contains(&line) {
                    sel.failed.push(line);
                }
            }
        }
    }
    Ok(sel)
}

/// The lockfile changes of a selection, what to print for each, and what was refused.
pub(super) fn plan(
    reviews: &[BackendReview],
    sel: &Selection,
    at: Severity,
    accept_findings: bool,
) -> (Vec<Op>, Vec<String>, Vec<String>) {
    let mut ops = Vec::new();
    let mut done = Vec::new();
    let mut refused = Vec::new();
    for (&(bi, ii), &explicit) in &sel.items {
        let Some(r) = reviews.get(bi) else { continue };
        let Some(item) = r.items().get(ii) else {
            continue;
        };
        let what = format!(
            "{} {}",
            kind_word(item.kind),
            r.address(item.kind, &item.name)
        );
        let Some(current) = &item.current else {
            ops.push(Op::RemovePin {
                backend: r.backend.clone(),
                kind: item.kind,
                name: item.name.clone(),
            });
            let was = item
                .approved
                .as_ref()
                .map(|a| short(&a.sha256))
                .unwrap_or("");
            done.push(format!(
                "approved the removal of {what}: its pin (sha256 {was}) is deleted"
            ));
            continue;
        };
        let same = item
            .approved
            .as_ref()
            .is_some_and(|a| a.sha256 == current.sha256);
        let severe = item.severe_findings(at);
        if !same && !severe.is_empty() && !accept_findings {
            refused.push(format!(
                "refused {what}: it has findings at or above `{at}` (integrity.quarantine_severity): \
                 {}; review them with `portcullis pins diff {}` and approve with --accept-findings \
                 if they are expected",
                severe
                    .iter()
                    .map(|f| finding_line(f))
                    .collect::<Vec<_>>()
                    .join("; "),
                r.address(item.kind, &item.name)
            ));
            continue;
        }
        if !same {
            ops.push(Op::SetPin {
                backend: r.backend.clone(),
                kind: item.kind,
                name: item.name.clone(),
                pin: current.clone(),
            });
            let was = match &item.approved {
                Some(a) => format!("was {}", short(&a.sha256)),
                None => "new".to_owned(),
            };
            let accepted = if severe.is_empty() {
                String::new()
            } else {
                let mut rules: Vec<&str> = severe.iter().map(|f| f.rule).collect();
                rules.dedup();
                format!(", findings accepted: {}", rules.join(", "))
            };
            done.push(format!(
                "approved {what} sha256 {} ({was}{accepted})",
                short(&current.sha256)
            ));
        }
        if item.rejected && explicit {
            ops.push(Op::Unreject {
                backend: r.backend.clone(),
                rejected: Rejected {
                    kind: item.kind,
                    name: item.name.clone(),
                    sha256: current.sha256.clone(),
                },
            });
            done.push(format!(
                "lifted the rejection of {what} sha256 {}",
                short(&current.sha256)
            ));
        }
        if let Outcome::Listed { info, .. } = &r.outcome {
            ops.push(Op::SetServerInfo {
                backend: r.backend.clone(),
                info: info.server_info.clone(),
                only_if_missing: true,
            });
        }
    }
    for &bi in sel.whole.iter().chain(&sel.new_exec) {
        let Some(r) = reviews.get(bi) else { continue };
        if let Some(current) = &r.exec
            && current.as_slice() != r.approved_exec()
        {
            ops.push(Op::SetExecutables {
                backend: r.backend.clone(),
                pins: current.clone(),
            });
            if current.is_empty() {
                done.push(format!(
                    "approved that backend {} runs nothing to pin (its executable pins are \
                     removed)",
                    r.backend
                ));
            }
            for p in current {
                done.push(format!(
                    "approved executable of backend {}: {}",
                    r.backend,
                    p.label()
                ));
            }
        }
        if sel.whole.contains(&bi)
            && let Outcome::Listed { info, .. } = &r.outcome
        {
            let server_info = &info.server_info;
            let approved = r.approved.as_ref().map(|a| &a.server_info);
            if approved != Some(&sorted_keys(server_info.clone())) {
                ops.push(Op::SetServerInfo {
                    backend: r.backend.clone(),
                    info: server_info.clone(),
                    only_if_missing: false,
                });
                done.push(format!(
                    "approved server of backend {}: {}",
                    r.backend,
                    server_label(server_info)
                ));
            }
        }
    }
    (ops, done, refused)
}

pub(super) async fn approve(
    opts: &Opts,
    want: &Wanted,
    accept_findings: bool,
) -> Result<u8, PinsError> {
    let ctx = gather(opts).await?;
    let sel = select(&ctx.reviews, want, &ctx.cfg.source_name)?;
    let at = ctx.cfg.integrity.quarantine_severity;
    let (ops, done, refused) = plan(&ctx.reviews, &sel, at, accept_findings);
    for n in &sel.notes {
        println!("note: {n}");
    }
    for r in &refused {
        println!("{r}");
    }
    for f in &sel.failed {
        println!("ERROR: not approved, cannot be checked: {f}");
    }
    if done.is_empty() {
        println!("nothing approved; the lockfile is unchanged");
    } else {
        lockfile::update(&ctx.lock_path, &ops)?;
        for d in &done {
            println!("{d}");
        }
        println!("wrote {}", ctx.lock_path.display());
        println!("{}", reload_note(&ctx.cfg));
    }
    Ok(if !sel.failed.is_empty() {
        FAILED
    } else if !refused.is_empty() {
        NEEDS_REVIEW
    } else {
        0
    })
}

pub(super) async fn reject(opts: &Opts, items: &[String]) -> Result<u8, PinsError> {
    let ctx = gather(opts).await?;
    let mut ops = Vec::new();
    let mut done = Vec::new();
    for raw in items {
        let t = parse_target(raw)?;
        let Some(it) = &t.item else {
            return Err(PinsError::NotAnItem {
                target: raw.clone(),
                hint: String::new(),
            });
        };
        let (_, r) = ctx.review(&t.backend)?;
        if !matches!(r.outcome, Outcome::Listed { .. }) {
            return Err(PinsError::Unusable(format!(
                "backend `{}` was not listed now, so there is no current definition to reject",
                r.backend
            )));
        }
        let item = resolve(r, it)?;
        let what = format!(
            "{} {}",
            kind_word(item.kind),
            r.address(item.kind, &item.name)
        );
        let Some(current) = &item.current else {
            return Err(PinsError::NothingToReject {
                what,
                address: r.address(item.kind, &item.name),
            });
        };
        if item.rejected {
            done.push(format!(
                "{what} sha256 {} was already rejected",
                short(&current.sha256)
            ));
            continue;
        }
        ops.push(Op::Reject {
            backend: r.backend.clone(),
            rejected: Rejected {
                kind: item.kind,
                name: item.name.clone(),
                sha256: current.sha256.clone(),
            },
        });
        let kept = match &item.approved {
            Some(a) if a.sha256 != current.sha256 => format!(
                "; its approved pin (sha256 {}) is kept and is offered again if the backend \
                 goes back to it",
                short(&a.sha256)
            ),
            Some(_) => "; this was its approved definition".to_owned(),
            None => String::new(),
        };
        done.push(format!(
            "rejected {what} sha256 {}: quarantined while the backend serves this definition, \
             in every mode but off{kept}",
            short(&current.sha256)
        ));
    }
    if !ops.is_empty() {
        lockfile::update(&ctx.lock_path, &ops)?;
    }
    for d in &done {
        println!("{d}");
    }
    if !ops.is_empty() {
        println!("wrote {}", ctx.lock_path.display());
        println!("{}", reload_note(&ctx.cfg));
    }
    Ok(0)
}

pub(super) async fn init(opts: &Opts, force: bool, accept_findings: bool) -> Result<u8, PinsError> {
    let cfg = opts.load()?;
    let path = cfg.resolve_path(&cfg.integrity.lockfile);
    let old = match lockfile::load_optional(&path) {
        Ok(Some(_)) if !force => {
            return Err(PinsError::LockfileExists {
                path: path.display().to_string(),
            });
        }
        Ok(old) => old,
        Err(e) if force => {
            eprintln!(
                "warning: replacing a lockfile that does not load ({e}); no rejections are kept"
            );
            None
        }
        Err(e) => return Err(e.into()),
    };
    // Reviewed against the old lockfile (if any), so its rejections and executable pins count.
    let empty = Lockfile::default();
    let reviews = super::super::backends::review_backends(
        &cfg,
        old.as_ref().unwrap_or(&empty),
        opts.purpose(),
    )
    .await?;
    let at = cfg.integrity.quarantine_severity;
    let mut lock = Lockfile::default();
    let mut lines = Vec::new();
    let mut held = Vec::new();
    let mut failed = Vec::new();
    for r in &reviews {
        let (server_info, items) = match &r.outcome {
            Outcome::Listed { info, items } => (&info.server_info, items),
            Outcome::Off => {
                lines.push(format!("backend {}: mode off, not pinned", r.backend));
                continue;
            }
            Outcome::NotProbed(why) => {
                lines.push(format!("backend {}: not pinned: {why}", r.backend));
                continue;
            }
            Outcome::NotStarted(_) => {
                failed.push(format!(
                    "backend `{}`: its executable differs from the old lockfile's pin (pass \
                     --dangerous-run-changed-executables to pin what it runs now)",
                    r.backend
                ));
                continue;
            }
            Outcome::Failed(e) => {
                failed.push(format!("backend `{}`: {e}", r.backend));
                continue;
            }
        };
        let mut pins = BackendPins {
            server_info: sorted_keys(server_info.clone()),
            executables: r.exec.clone().unwrap_or_default(),
            rejected: r
                .approved
                .as_ref()
                .map(|a| a.rejected.clone())
                .unwrap_or_default(),
            ..Default::default()
        };
        let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
        for item in items {
            let Some(current) = &item.current else {
                continue;
            };
            let what = format!(
                "{} {}",
                kind_word(item.kind),
                r.address(item.kind, &item.name)
            );
            if item.rejected {
                held.push(format!(
                    "not pinned {what}: an operator rejected this definition"
                ));
                continue;
            }
            let severe = item.severe_findings(at);
            if !severe.is_empty() && !accept_findings {
                held.push(format!(
                    "not pinned {what}: findings at or above `{at}`: {}",
                    severe
                        .iter()
                        .map(|f| finding_line(f))
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
                continue;
            }
            pins.items_mut(item.kind)
                .insert(item.name.clone(), current.clone());
            *counts.entry(item.kind).or_default() += 1;
        }
        pins.catalog_sha256 = pins.compute_catalog_hash();
        let n = |k| counts.get(&k).copied().unwrap_or(0);
        lines.push(format!(
            "pinned backend {}: {}, {}, {}{} ({}){}",
            r.backend,
            plural(n(Kind::Tool), "tool"),
            plural(n(Kind::Prompt), "prompt"),
            plural(n(Kind::ResourceTemplate), "resource template"),
            if n(Kind::Instructions) > 0 {
                ", server instructions"
            } else {
                ""
            },
            server_label(server_info),
            if pins.executables.is_empty() {
                String::new()
            } else {
                format!(
                    "; runs {}",
                    pins.executables
                        .iter()
                        .map(|p| p.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
        lock.backends.insert(r.backend.clone(), pins);
    }
    if !failed.is_empty() {
        return Err(PinsError::InitIncomplete(failed.join("; ")));
    }
    lockfile::save(&lock, &path)?;
    for l in &lines {
        println!("{l}");
    }
    for h in &held {
        println!("{h}");
    }
    if !held.is_empty() {
        println!(
            "{} item(s) left out: they stay quarantined until reviewed (`portcullis pins diff`, \
             then `pins approve --accept-findings`)",
            held.len()
        );
    }
    println!("wrote {}", path.display());
    Ok(if held.is_empty() { 0 } else { NEEDS_REVIEW })
}
