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
