//! One string, every rule: invisible characters on the original text; the wording, shadowing
//! and address rules on its normalised views (then mapped back to the original); what looks
//! encoded decoded and scanned again. Findings of one string come out in span order, one per
//! rule and overlapping span.
//!
//! This file runs the rules, so it imports the rule files; they report through [`Hit`]
//! (`hit.rs`) and excerpts come from `unicode.rs`, so nothing imports this file but `mod.rs`.

use super::hit::Hit;
use super::shadowing::Shadowing;
use super::unicode::{self, SPAN_CHARS, View, excerpt};
use super::{
    ENCODED_INSTRUCTIONS, ENCODED_TEXT, Finding, classifier, encoded, exfil, handover, intent,
    rule_index, secrets, severity_of, wording,
};

pub(super) struct Ctx<'a> {
    pub shadow: &'a Shadowing,
    /// Whether the classifier reads the text besides the rules (`integrity.classifier`).
    pub classifier: bool,
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
    intent::scan(&view.text, &mut hits);
    handover::scan(&view.text, &mut hits);
    secrets::scan_credential_reads(&view.text, &mut hits);
    secrets::scan_context_leaks(&view.text, &mut hits);
    secrets::scan_field_leaks(&view.text, &mut hits);
    ctx.shadow.scan(&view.text, ctx.own_name, &mut hits);
    exfil::scan(&view.text, place == Place::SchemaRef, &mut hits);
    if ctx.classifier {
        classifier::scan(&view.text, &mut hits);
    }
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
        let inner_high = inner
            .iter()
            .any(|f| f.severity >= severity_of(ENCODED_INSTRUCTIONS));
        // `e.g. <base64>` in a codec's description is an example, whatever it says.
        let example = wording::example_cue(s.get(..candidate.span.0).unwrap_or_default());
        if !inner_high && !example && candidate.prose && wording::imperative(&candidate.decoded) {
            found.push(Finding {
                rule: ENCODED_INSTRUCTIONS,
                severity: severity_of(ENCODED_INSTRUCTIONS),
                field: field.to_owned(),
                span: candidate.span,
                excerpt: format!("{base} {decodes} (an order, encoded)"),
            });
        } else if inner.is_empty() && candidate.prose {
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

/// Findings of one rule reported per string and view, at most.
const MAX_HITS_PER_RULE: usize = 8;

/// Maps hits in `view` back to `s` and records them; the excerpt says what the text reads as
/// when that took normalising.
fn report(s: &str, field: &str, view: &View<'_>, hits: &[Hit], found: &mut Vec<Finding>) {
    let mut per_rule: Vec<(&'static str, usize)> = Vec::new();
    for hit in hits {
        // One hit is enough to decide; a few show the reviewer the pattern. A string of
        // thousands of the same order (a hostile backend) costs no more to report.
        match per_rule.iter_mut().find(|(r, _)| *r == hit.rule) {
            Some((_, n)) if *n >= MAX_HITS_PER_RULE => continue,
            Some((_, n)) => *n += 1,
            None => per_rule.push((hit.rule, 1)),
        }
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
            severity: hit.severity.unwrap_or_else(|| severity_of(hit.rule)),
            field: field.to_owned(),
            span,
            excerpt,
        });
    }
}
