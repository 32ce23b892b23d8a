//! [`Hit`]: what a rule found in a view of a text, before `text.rs` maps it back to the
//! original and turns it into a [`Finding`](super::Finding).
//!
//! A leaf: the rule files (`wording.rs`, `shadowing.rs`, `exfil.rs`) report their hits through
//! it and `text.rs`, which runs them, reads them, so no import runs from a rule back to
//! `text.rs`.

use crate::config::integrity::Severity;

/// A rule's hit in a view of the text, before it is mapped back.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub rule: &'static str,
    pub span: (usize, usize),
    /// Appended to the excerpt, e.g. `(a tool of `github`)`.
    pub note: Option<String>,
    /// For a rule whose severity depends on the hit (the classifier's score); else the rule's.
    pub severity: Option<Severity>,
}

impl Hit {
    pub fn new(rule: &'static str, span: (usize, usize)) -> Self {
        Self {
            rule,
            span,
            note: None,
            severity: None,
        }
    }
}

/// How far a rule looks around one match for the clause it stands in. Every look around a
/// match goes through [`lo`] and [`hi`], so a text of many matches and no punctuation (a
/// hostile backend's megabyte of one phrase) costs a bounded window per match, not a walk back
/// to the start of the text: the scan stays linear in the text's length.
pub(super) const WINDOW: usize = 400;

/// The start of the window before `at`: `WINDOW` bytes back, on a char boundary.
pub(super) fn lo(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len()).saturating_sub(WINDOW);
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The end of the window after `at`: `WINDOW` bytes on, on a char boundary.
pub(super) fn hi(s: &str, at: usize) -> usize {
    let mut i = at.saturating_add(WINDOW).min(s.len());
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The up to `WINDOW` bytes of `s` before `at`.
pub(super) fn before(s: &str, at: usize) -> &str {
    s.get(lo(s, at)..at).unwrap_or_default()
}

/// The up to `WINDOW` bytes of `s` from `at` on.
pub(super) fn after(s: &str, at: usize) -> &str {
    s.get(at..hi(s, at)).unwrap_or_default()
}
