//! What `pins status` and `pins diff` print. Every text a backend gave (names, definitions,
//! finding excerpts, `serverInfo`) goes through [`escape`] first, so an invisible or
//! direction-changing character is shown as `\u{…}` and never reaches the terminal raw.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::IsTerminal;

use serde_json::Value;
use similar::TextDiff;

use super::super::backends::{BackendReview, Outcome};
use super::{
    ColorChoice, Ctx, FAILED, NEEDS_REVIEW, Opts, PinsError, Target, gather, kind_word,
    parse_target, resolve,
};
use crate::integrity::config::NewItems;
use crate::integrity::findings::Finding;
use crate::integrity::lockfile::{self, ExecutablePin};
use crate::integrity::review::{ExecAction, ExecDrift, ItemReview, State};
use crate::integrity::{Quarantine, sorted_keys};

// ---------------------------------------------------------------------------------------------
// Escaping what a backend wrote.

/// Whether `c` shows nothing (or changes how its neighbours show) on a terminal: controls but
/// the line feed, Unicode format characters (zero-width, bidi, tags, soft hyphen, …), line and
/// paragraph separators, spaces other than U+0020, variation selectors, the combining grapheme
/// joiner and the Hangul and Braille blanks. A table of ranges rather than a Unicode-properties
/// crate: the set is small, fixed and is what a reviewer must see, not a general category.
fn invisible(c: char) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),   // soft hyphen
        (0x034F, 0x034F),   // combining grapheme joiner
        (0x0600, 0x0605),   // Arabic number signs
        (0x061C, 0x061C),   // Arabic letter mark
        (0x06DD, 0x06DD),   // Arabic end of ayah
        (0x070F, 0x070F),   // Syriac abbreviation mark
        (0x0890, 0x0891),   // Arabic pound and piastre marks above
        (0x08E2, 0x08E2),   // Arabic disputed end of ayah
        (0x115F, 0x1160),   // Hangul choseong and jungseong fillers
        (0x17B4, 0x17B5),   // Khmer inherent vowels
        (0x180B, 0x180F),   // Mongolian variation selectors and vowel separator
        (0x200B, 0x200F),   // zero-width space, (non-)joiner, LRM, RLM
        (0x2028, 0x202E),   // line/paragraph separators, bidi embeddings and overrides
        (0x2060, 0x206F),   // word joiner, invisible operators, bidi isolates, deprecated
        (0x2800, 0x2800),   // Braille blank
        (0x3164, 0x3164),   // Hangul filler
        (0xFE00, 0xFE0F),   // variation selectors
        (0xFEFF, 0xFEFF),   // byte order mark / zero-width no-break space
        (0xFFA0, 0xFFA0),   // halfwidth Hangul filler
        (0xFFF9, 0xFFFB),   // interlinear annotation
        (0x110BD, 0x110BD), // Kaithi number sign
        (0x110CD, 0x110CD), // Kaithi number sign above
        (0x13430, 0x1343F), // Egyptian hieroglyph format controls
        (0x1BCA0, 0x1BCA3), // shorthand format controls
        (0x1D173, 0x1D17A), // musical symbol format controls
        (0xE0000, 0xE007F), // tags
        (0xE0100, 0xE01EF), // variation selectors supplement
    ];
    if c == '\n' {
        return false;
    }
    if c.is_control() || (c.is_whitespace() && c != ' ') {
        return true;
    }
    let u = c as u32;
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

/// `s` with every invisible character (see [`invisible`]) written as `\u{hex}`.
pub(super) fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(invisible) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if invisible(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------------------------------------
// Wording shared by the subcommands.

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(super) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

pub(super) fn server_label(info: &Value) -> String {
    let field = |k: &str| info.get(k).and_then(Value::as_str);
    let label = match (field("name"), field("version")) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.to_owned(),
        _ if info.is_null() => "(none)".to_owned(),
        _ => info.to_string(),
    };
    escape(&label).into_owned()
}

pub(super) fn finding_line(f: &Finding) -> String {
    let field = if f.field.is_empty() { "/" } else { &f.field };
    format!("{} {} {}", f.rule, f.severity, escape(field))
}

fn mode_label(r: &BackendReview) -> String {
    let new_items = match r.rules.new_items {
        NewItems::Approve => "approve",
        NewItems::TrustOnFirstUse => "trust_on_first_use",
    };
    format!("mode {}, new items {new_items}", r.rules.mode.as_str())
}

/// What the gateway does with an item: read from the review's verdict, the gateway's own.
pub(super) fn verdict(item: &ItemReview<'_>) -> String {
    match &item.state {
        State::Pinned => "offered".into(),
        State::Rejected => "quarantined (rejected)".into(),
        State::Removed => "not offered (gone from its list)".into(),
        State::New | State::Changed(_) | State::Unpinnable(_) => {
            if item.first_use {
                return "offered, pinned on first use".into();
            }
            match &item.verdict.quarantine {
                None => "offered unpinned (mode warn)".into(),
                Some(Quarantine::Findings { rules }) => {
                    format!("quarantined (findings: {})", rules.join(", "))
                }
                Some(_) => "quarantined".into(),
            }
        }
    }
}

pub(super) fn exec_verdict(r: &BackendReview) -> &'static str {
    match r.exec_action() {
        None | Some(ExecAction::Start) => "",
        Some(ExecAction::StartWithAlert) => "; started anyway (mode warn)",
        Some(ExecAction::PinFirstUse) => "; pinned on first use",
        Some(ExecAction::Refuse) => "; the gateway refuses to start it",
    }
}

// ---------------------------------------------------------------------------------------------
// `pins status`

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub pinned: usize,
    pub changed: usize,
    pub new: usize,
    pub removed: usize,
    pub rejected: usize,
    /// Pinned items with findings their approval did not cover.
    pub unreviewed: usize,
    pub executables: usize,
    pub not_started: usize,
    pub failed: usize,
}

impl Counts {
    pub fn exit_code(&self) -> u8 {
        if self.failed > 0 {
            FAILED
        } else if self.changed
            + self.new
            + self.removed
            + self.unreviewed
            + self.executables
            + self.not_started
            > 0
        {
            NEEDS_REVIEW
        } else {
            0
        }
    }
}

pub(super) async fn status(opts: &Opts) -> Result<u8, PinsError> {
    let ctx = gather(opts).await?;
    let (text, counts) = render_status(&ctx);
    print!("{text}");
    Ok(counts.exit_code())
}

pub(super) fn render_status(ctx: &Ctx) -> (String, Counts) {
    let mut out = String::new();
    let mut c = Counts::default();
    let _ = writeln!(
        out,
        "lockfile {}{}",
        ctx.lock_path.display(),
        if ctx.lock.is_none() {
            " (does not exist yet: `portcullis pins init` pins the current catalogs)"
        } else {
            ""
        }
    );
    for r in &ctx.reviews {
        let _ = writeln!(out);
        let _ = writeln!(out, "backend {} ({})", r.backend, mode_label(r));
        match &r.outcome {
            Outcome::Off => {
                let _ = writeln!(out, "  not pinned or checked (mode off)");
                continue;
            }
            Outcome::NotProbed(why) => {
                let _ = writeln!(out, "  not checked: {why}");
                continue;
            }
            Outcome::Failed(e) => {
                c.failed += 1;
                let _ = writeln!(out, "  ERROR: cannot be checked: {e}");
                continue;
            }
            Outcome::NotStarted(_) | Outcome::Listed { .. } => {}
        }
        if let Outcome::Listed { info, .. } = &r.outcome {
            let approved = r.approved.as_ref().map(|a| &a.server_info);
            let was = match approved {
                Some(a) if !a.is_null() && a != &sorted_keys(info.server_info.clone()) => {
                    format!(" (approved: {})", server_label(a))
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  server      {}{was}",
                server_label(&info.server_info)
            );
            if let Some(when) = &r.seen {
                let _ = writeln!(out, "  listed      {when}");
            }
        }
        status_exec(&mut out, &mut c, r);
        if matches!(r.outcome, Outcome::NotStarted(_)) {
            c.not_started += 1;
            let _ = writeln!(
                out,
                "  not started: what it runs differs from its pin, so its tools were not listed; \
                 approve the executable (`portcullis pins approve --backend {}`) and run `pins \
                 status` again, or pass --dangerous-run-changed-executables",
                r.backend
            );
            continue;
        }
        status_items(&mut out, &mut c, r);
    }
    if let Some(lock) = &ctx.lock {
        for name in lock.backends.keys() {
            if !ctx.reviews.iter().any(|r| &r.backend == name) {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "backend {name}: in the lockfile but not in the config (its pins are unused)"
                );
            }
        }
    }
    let _ = writeln!(out);
    let mut summary = format!(
        "summary: {} pinned, {} changed, {} new, {} removed, {} rejected",
        c.pinned, c.changed, c.new, c.removed, c.rejected
    );
    for (n, what) in [
        (c.unreviewed, "item(s) with unreviewed findings"),
        (c.executables, "executable change(s)"),
        (c.not_started, "backend(s) not started"),
        (c.failed, "backend(s) could not be checked"),
    ] {
        if n > 0 {
            let _ = write!(summary, "; {n} {what}");
        }
    }
    let _ = writeln!(out, "{summary}");
    let _ = writeln!(
        out,
        "{}",
        match c.exit_code() {
            0 => "nothing to review".to_owned(),
            NEEDS_REVIEW => "needs review: `portcullis pins diff` shows each change, `portcullis \
                             pins approve BACKEND/NAME` approves one (`pins reject` refuses it)"
                .to_owned(),
            _ => "some backends could not be checked (see ERROR above)".to_owned(),
        }
    );
    (out, c)
}

fn status_exec(out: &mut String, c: &mut Counts, r: &BackendReview) {
    let (Some(current), Some(drift)) = (&r.exec, r.exec_drift()) else {
        return;
    };
    let word = match drift {
        ExecDrift::Same => "pinned",
        ExecDrift::NothingToPin => "nothing to pin (the gateway's own executable is not pinned)",
        ExecDrift::New => "new (not pinned)",
        ExecDrift::Changed => "changed",
    };
    if matches!(drift, ExecDrift::New | ExecDrift::Changed) {
        c.executables += 1;
    }
    let _ = writeln!(out, "  executable  {word}{}", exec_verdict(r));
    if drift == ExecDrift::Changed {
        for p in r.approved_exec() {
            let _ = writeln!(out, "    approved  {}", p.label());
        }
        for p in current {
            let _ = writeln!(out, "    current   {}", p.label());
        }
    } else {
        for p in current {
            let _ = writeln!(out, "              {}", p.label());
        }
    }
}

fn status_items(out: &mut String, c: &mut Counts, r: &BackendReview) {
    let items = r.items();
    if items.is_empty() {
        let _ = writeln!(out, "  (lists nothing)");
    }
    let names: Vec<Cow<'_, str>> = items.iter().map(|i| escape(&i.name)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let states: Vec<String> = items.iter().map(|i| i.state.label()).collect();
    let state_width = states.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    for ((item, label), name) in items.iter().zip(&states).zip(&names) {
        match item.state {
            State::Pinned => c.pinned += 1,
            State::Changed(_) => c.changed += 1,
            State::New | State::Unpinnable(_) => c.new += 1,
            State::Removed => c.removed += 1,
            State::Rejected => c.rejected += 1,
        }
        let _ = writeln!(
            out,
            "  {:<10}  {name:<width$}  {label:<state_width$}  {}",
            kind_word(item.kind),
            verdict(item)
        );
        for f in item.findings.iter() {
            let reviewed = !item.unreviewed.contains(f);
            let _ = writeln!(
                out,
                "      {}finding {}",
                if reviewed { "" } else { "unreviewed " },
                finding_line(f)
            );
        }
        if !item.unreviewed.is_empty() {
            c.unreviewed += 1;
            let address = escape(&r.address(item.kind, &item.name)).into_owned();
            let _ = writeln!(
                out,
                "      its approval did not cover these findings (the scan rules changed since \
                 it was approved): review them with `portcullis pins diff {address}`; `portcullis \
                 pins reject {address}` quarantines it"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `pins diff`

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// ANSI colour for diffs. Four fixed SGR codes do not need a terminal-styling crate; whether to
/// colour at all (`--color`, a TTY, `NO_COLOR`) is decided once, in [`Paint::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Paint {
    pub on: bool,
}

impl Paint {
    pub fn new(choice: ColorChoice) -> Paint {
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Paint { on }
    }

    pub fn bold(self, s: &str) -> String {
        if self.on {
            format!("{BOLD}{s}{RESET}")
        } else {
            s.to_owned()
        }
    }

    /// A unified diff with `---`/`+++` bold, `@@` cyan, `-` red and `+` green lines.
    pub fn diff(self, text: &str) -> String {
        if !self.on {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 64);
        for line in text.split_inclusive('\n') {
            let (body, end) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let style = if body.starts_with("---") || body.starts_with("+++") {
                Some(BOLD)
            } else if body.starts_with("@@") {
                Some(CYAN)
            } else if body.starts_with('-') {
                Some(RED)
            } else if body.starts_with('+') {
                Some(GREEN)
            } else {
                None
            };
            match style {
                Some(s) => {
                    out.push_str(s);
                    out.push_str(body);
                    out.push_str(RESET);
                }
                None => out.push_str(body),
            }
            out.push_str(end);
        }
        out
    }
}

fn pretty(v: &Value) -> String {
    // `{:#}` is serde_json's pretty printer through `Display`, the same text
    // `lockfile::unified_diff` compares.
    format!("{:#}\n", sorted_keys(v.clone()))
}

fn text_diff(old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("approved", "current")
        .to_string()
}

/// The diff of one item, or `None` when it is pinned, not rejected and has no unreviewed
/// findings.
pub(super) fn item_diff(r: &BackendReview, item: &ItemReview<'_>, paint: Paint) -> Option<String> {
    let unreviewed_only = item.state == State::Pinned && !item.unreviewed.is_empty();
    let body = match (&item.approved, &item.current, &item.state) {
        (_, _, State::Pinned) if !unreviewed_only => return None,
        (_, _, State::Pinned) => String::new(),
        (Some(a), Some(c), _) => lockfile::unified_diff(&a.definition, &c.definition),
        (None, Some(c), _) => text_diff("", &pretty(&c.definition)),
        (Some(a), None, _) => text_diff(&pretty(&a.definition), ""),
        (None, None, _) => return None,
    };
    let sha = match (&item.approved, &item.current) {
        (Some(a), Some(c)) if a.sha256 != c.sha256 => {
            format!("sha256 {} -> {}", short(&a.sha256), short(&c.sha256))
        }
        (_, Some(c)) => format!("sha256 {}", short(&c.sha256)),
        (Some(a), None) => format!("sha256 {}", short(&a.sha256)),
        (None, None) => String::new(),
    };
    let label = if unreviewed_only {
        "pinned, with findings its approval did not cover".to_owned()
    } else {
        item.state.label()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "{} {}: {label} ({sha})",
            kind_word(item.kind),
            escape(&r.address(item.kind, &item.name))
        ))
    );
    if unreviewed_only {
        let _ = writeln!(
            out,
            "(the pinned definition is unchanged; the findings below were not found when it \
             was approved)"
        );
    } else if body.is_empty() {
        // Rejected while equal to the approved pin: nothing differs.
        let _ = writeln!(out, "(the approved definition, rejected since)");
    }
    out.push_str(&paint.diff(&escape(&body)));
    if !item.findings.is_empty() {
        let _ = writeln!(out, "findings:");
        for f in item.findings.iter() {
            let _ = writeln!(out, "  {}: {}", finding_line(f), escape(&f.excerpt));
        }
    }
    Some(out)
}

fn exec_diff(r: &BackendReview, paint: Paint) -> Option<String> {
    let current = r.exec.as_deref()?;
    let drift = r.exec_drift()?;
    if !matches!(drift, ExecDrift::New | ExecDrift::Changed) {
        return None;
    }
    let lines = |pins: &[ExecutablePin]| {
        pins.iter()
            .map(|p| {
                let package = match (&p.package, &p.version) {
                    (Some(n), Some(v)) => format!(" package {n}@{v}"),
                    (Some(n), None) => format!(" package {n}"),
                    _ => String::new(),
                };
                format!("{} sha256:{}{package}\n", p.path, p.sha256)
            })
            .collect::<String>()
    };
    let body = text_diff(&lines(r.approved_exec()), &lines(current));
    Some(format!(
        "{}\n{}",
        paint.bold(&format!(
            "executables of {}: {}{}",
            r.backend,
            if drift == ExecDrift::New {
                "new (not pinned)"
            } else {
                "changed"
            },
            exec_verdict(r)
        )),
        paint.diff(&escape(&body))
    ))
}

pub(super) async fn diff(
    opts: &Opts,
    target: Option<&str>,
    color: ColorChoice,
) -> Result<u8, PinsError> {
    let target = target.map(parse_target).transpose()?;
    let ctx = gather(opts).await?;
    let (text, code) = render_diff(&ctx, target.as_ref(), Paint::new(color))?;
    print!("{text}");
    Ok(code)
}

fn render_diff(
    ctx: &Ctx,
    target: Option<&Target>,
    paint: Paint,
) -> Result<(String, u8), PinsError> {
    let mut blocks: Vec<String> = Vec::new();
    let mut code = 0;
    let reviews: Vec<&BackendReview> = match target {
        Some(t) => vec![ctx.review(&t.backend)?.1],
        None => ctx.reviews.iter().collect(),
    };
    for r in reviews {
        match &r.outcome {
            Outcome::Failed(e) => {
                if target.is_some_and(|t| t.item.is_some()) {
                    return Err(PinsError::Unusable(format!(
                        "backend `{}` cannot be checked: {e}",
                        r.backend
                    )));
                }
                code = FAILED;
                blocks.push(format!(
                    "backend {}: ERROR: cannot be checked: {e}\n",
                    r.backend
                ));
                continue;
            }
            Outcome::NotProbed(why) => {
                blocks.push(format!("backend {}: not checked: {why}\n", r.backend));
                continue;
            }
            Outcome::Off => continue,
            Outcome::NotStarted(_) | Outcome::Listed { .. } => {}
        }
        if let Some(t) = target
            && let Some(item_target) = &t.item
        {
            let item = resolve(r, item_target)?;
            blocks.push(item_diff(r, item, paint).unwrap_or_else(|| {
                let sha = item
                    .current
                    .as_ref()
                    .map(|c| short(&c.sha256))
                    .unwrap_or("");
                format!(
                    "{} {}: pinned, no difference (sha256 {sha})\n",
                    kind_word(item.kind),
                    escape(&r.address(item.kind, &item.name))
                )
            }));
            continue;
        }
        blocks.extend(exec_diff(r, paint));
        if matches!(r.outcome, Outcome::NotStarted(_)) {
            blocks.push(format!(
                "backend {}: not started (its executable changed), so its tools were not \
                 listed\n",
                r.backend
            ));
        }
        blocks.extend(r.items().iter().filter_map(|i| item_diff(r, i, paint)));
    }
    if blocks.is_empty() {
        blocks.push("no differences: every definition matches the lockfile\n".into());
    }
    Ok((blocks.join("\n"), code))
}
