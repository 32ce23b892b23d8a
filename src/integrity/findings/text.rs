//! One string, every rule: invisible characters on the original text; the wording, shadowing
//! and address rules on its normalised views (then mapped back to the original); what looks
//! encoded decoded and scanned again. Findings of one string come out in span order, one per
//! rule and overlapping span.

use super::shadowing::Shadowing;
use super::unicode::{self, View};
use super::{ENCODED_TEXT, Finding, encoded, exfil, rule_index, severity_of, wording};

pub(super) struct Ctx<'a> {
    pub shadow: &'a Shadowing,
    /// The scanned definition's own name, lower-cased ("" for free text).
    pub own_name: &'a str,
}

/// Where a string sits in a definition.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Value,
    /// An object key: scanned for invisible characters, and for wording only when it reads as
    /// prose (a key with spaces), since identifiers carry no sentences.
    Key,
    /// `$schema`, `$id`, `$ref`: their URL is no external address.
    SchemaRef,
}

/// A rule's hit in a view of the text, before it is mapped back.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub rule: &'static str,
    pub span: (usize, usize),
    /// Appended to the excerpt, e.g. `(a tool of `github`)`.
    pub note: Option<String>,
}

impl Hit {
    pub fn new(rule: &'static str, span: (usize, usize)) -> Self {
        Self {
            rule,
            span,
            note: None,
        }
    }
}

pub(super) fn scan_string(
    s: &str,
    field: &str,
    ctx: &Ctx<'_>,
    place: Place,
    out: &mut Vec<Finding>,
) {
    let mut budget = encoded::Budget::default();
    let mut found = Vec::new();
    analyse(s, field, ctx, place, 0, &mut budget, &mut found);
    // Span order, then rule order; one finding per rule and overlapping span (a view and its
    // digits-as-letters twin often see the same thing).
    found.sort_by_key(|f| (f.span.0, rule_index(f.rule), f.span.1));
    let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        let dup = kept
            .iter()
            .any(|k| k.rule == f.rule && k.span.0 < f.span.1 && f.span.0 < k.span.1);
        if !dup {
            kept.push(f);
        }
    }
    out.extend(kept);
}

fn is_prose(key: &str) -> bool {
    key.split_whitespace().count() >= 3
}

fn analyse(
    s: &str,
    field: &str,
    ctx: &Ctx<'_>,
    place: Place,
    depth: usize,
    budget: &mut encoded::Budget,
    found: &mut Vec<Finding>,
) {
    unicode::scan_invisible(s, field, found);
    if place == Place::Key && !is_prose(s) {
        return;
    }
    let view = View::new(s);
    let mut hits = Vec::new();
    wording::scan(&view.text, &mut hits);
    ctx.shadow.scan(&view.text, ctx.own_name, &mut hits);
    exfil::scan(&view.text, place == Place::SchemaRef, &mut hits);
    report(s, field, &view, &hits, found);
    if let Some(leet) = view.leet() {
        let mut hits = Vec::new();
        wording::scan_leet(&leet.text, &mut hits);
        report(s, field, &leet, &hits, found);
    }
    unicode::scan_confusable(s, field, found);
    for candidate in encoded::candidates(s, budget) {
        let mut inner = Vec::new();
        if depth < encoded::MAX_DEPTH {
            analyse(
                &candidate.decoded,
                field,
                ctx,
                Place::Value,
                depth + 1,
                budget,
                &mut inner,
            );
        }
        let shown: String = candidate.decoded.chars().take(120).collect();
        let base = excerpt(s, candidate.span);
        let decodes = format!(
            "({} decodes to «{}»{})",
            candidate.encoding,
            unicode::show(&shown),
            if shown.len() < candidate.decoded.len() {
                "…"
            } else {
                ""
            }
        );
        if inner.is_empty() && candidate.prose {
            found.push(Finding {
                rule: ENCODED_TEXT,
                severity: severity_of(ENCODED_TEXT),
                field: field.to_owned(),
                span: candidate.span,
                excerpt: format!("{base} {decodes}"),
            });
        }
        for f in inner {
            found.push(Finding {
                rule: f.rule,
                severity: f.severity,
                field: field.to_owned(),
                span: candidate.span,
                excerpt: format!("{base} {decodes}"),
            });
        }
    }
}

/// Maps hits in `view` back to `s` and records them; the excerpt says what the text reads as
/// when that took normalising.
fn report(s: &str, field: &str, view: &View<'_>, hits: &[Hit], found: &mut Vec<Finding>) {
    for hit in hits {
        let span = view.parent(hit.span);
        if span.0 >= span.1 {
            continue;
        }
        let mut excerpt = excerpt(s, span);
        let original = s.get(span.0..span.1).unwrap_or_default();
        let seen = view.text.get(hit.span.0..hit.span.1).unwrap_or_default();
        if original != seen {
            let seen: String = seen.chars().take(2 * SPAN_CHARS).collect();
            excerpt = format!("{excerpt} (reads as «{}»)", unicode::show(&seen));
        }
        if let Some(note) = &hit.note {
            excerpt = format!("{excerpt} {note}");
        }
        found.push(Finding {
            rule: hit.rule,
            severity: severity_of(hit.rule),
            field: field.to_owned(),
            span,
            excerpt,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Excerpts

/// Characters of context shown on each side of a span.
const CONTEXT_CHARS: usize = 30;
/// Characters of a long span shown from each of its ends.
const SPAN_CHARS: usize = 80;

/// The span of `s` between `«` `»` with some context, safe to print on one line.
pub(super) fn excerpt(s: &str, (start, end): (usize, usize)) -> String {
    let before = s.get(..start).unwrap_or_default();
    let inner = s.get(start..end).unwrap_or_default();
    let after = s.get(end..).unwrap_or_default();
    let before_n = before.chars().count();
    let lead: String = before
        .chars()
        .skip(before_n.saturating_sub(CONTEXT_CHARS))
        .collect();
    let trail: String = after.chars().take(CONTEXT_CHARS).collect();
    let inner_n = inner.chars().count();
    let inner = if inner_n > 2 * SPAN_CHARS {
        let head: String = inner.chars().take(SPAN_CHARS).collect();
        let tail: String = inner.chars().skip(inner_n - SPAN_CHARS).collect();
        format!("{head}…{tail}")
    } else {
        inner.to_owned()
    };
    let mut out = String::new();
    if before_n > CONTEXT_CHARS {
        out.push('…');
    }
    out.push_str(&unicode::show(&lead));
    out.push('«');
    out.push_str(&unicode::show(&inner));
    out.push('»');
    out.push_str(&unicode::show(&trail));
    if after.chars().count() > CONTEXT_CHARS {
        out.push('…');
    }
    out
}
