//! The poisoning and shadowing scan: every text of a definition that a client's model may read
//! (name, title, description, schema property descriptions and titles, enum values, defaults
//! and examples at any depth, annotations, `_meta`, unknown fields, and object keys that carry
//! prose) is checked against the rules in [`RULES`], and each hit is reported with its rule id,
//! severity, JSON pointer and byte span. [`Scanner::scan_text`] does the same for free text
//! that is not part of a definition: a server's `instructions`, a resource's description.
//!
//! # How a text is read
//!
//! The rules match a *normalised view* of each text ([`unicode::View`]): invisible and format
//! characters removed, NFKC compatibility forms folded (fullwidth `ＩＭＰＯＲＴＡＮＴ`, ligatures,
//! mathematical letters), accents dropped, and letters of other scripts replaced by the Latin
//! letter they are confusable with (Unicode TR39 skeletons: Cyrillic `о`, Greek `Ι`). A second
//! view reads digits as the letters they stand in for (`<1MP0RTANT>`) for the rules about tags
//! and override wording. Spans always point into the original text; an excerpt says when a
//! match needed normalising. What looks encoded (base64, hex, HTML entities, percent or
//! `\u` escapes) is decoded, within a budget, and the decoded text scanned like any other.
//!
//! # Linear and bounded
//!
//! Every rule is a `regex` automaton (no backtracking) or a single pass; each address and each
//! sensitive path is checked against a bounded window around it; the other backends' tool
//! names are one combined automaton. Decoding is bounded in depth ([`encoded::MAX_DEPTH`]) and
//! in bytes per text ([`encoded::BUDGET`]). Work and memory grow linearly with the input.
//!
//! # Narrow on purpose
//!
//! A finding is shown to a person who approves or refuses a tool, and a finding at or above
//! `integrity.quarantine_severity` (default `high`) quarantines it, so the rules are built to
//! stay quiet on the ordinary text of real servers: `Send an email to the given recipient`,
//! `Ignore case when matching`, `returns the system prompt template`, `Set api_key to your
//! key`, RTL text with its direction marks, emoji with their variation selectors. A description
//! that openly says it does something harmful is reported at `medium`: worth a look, not a
//! quarantine. `docs/poisoning-scan.md` has the measured recall and false-positive rates.

mod classifier;
mod encoded;
mod exfil;
mod handover;
mod held;
mod hit;
mod intent;
mod mention;
mod pattern;
mod secrets;
mod shadowing;
mod text;
mod unicode;
mod wording;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;

use super::Kind;
use shadowing::Shadowing;

pub use held::{Hold, hold};
pub use unicode::escape_invisible;

pub use crate::config::integrity::Severity;

/// One hit of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id from [`RULES`], e.g. `prompt.override`.
    pub rule: &'static str,
    pub severity: Severity,
    /// JSON pointer (RFC 6901) of the string, e.g. `/inputSchema/properties/x/description`; for
    /// an object key, the pointer of that member; for free text, the label the caller gave.
    pub field: String,
    /// Byte offsets `[start, end)` of the offending text in that string (or key). For a rule
    /// that matched inside decoded text, the span of the encoded run.
    pub span: (usize, usize),
    /// The offending text with some context, invisible characters shown as `\u{…}`; for
    /// hidden or encoded text, also what it decodes to; for a match that needed normalising,
    /// what it reads as.
    pub excerpt: String,
}

pub const TAG_CHARS: &str = "unicode.tag-chars";
pub const ZERO_WIDTH: &str = "unicode.zero-width";
pub const BIDI_OVERRIDE: &str = "unicode.bidi-override";
pub const INVISIBLE: &str = "unicode.invisible";
pub const CONFUSABLE: &str = "unicode.confusable";
pub const IMPORTANT_BLOCK: &str = "prompt.important-block";
pub const ROLE_MARKER: &str = "prompt.role-marker";
pub const HIDDEN_COMMENT: &str = "prompt.hidden-comment";
pub const OVERRIDE: &str = "prompt.override";
pub const CONCEAL: &str = "prompt.conceal";
pub const COMMAND_INJECTION: &str = "prompt.command-injection";
pub const ENCODED_INSTRUCTIONS: &str = "prompt.encoded-instructions";
pub const CROSS_SERVER: &str = "shadowing.cross-server";
pub const TOOL_BEHAVIOUR: &str = "shadowing.tool-behaviour";
pub const SEND_TO: &str = "exfil.send-to";
pub const CREDENTIAL_READ: &str = "exfil.credential-read";
pub const CONTEXT_LEAK: &str = "exfil.context-leak";
pub const HARMFUL: &str = "content.harmful-behaviour";
pub const COMMENT: &str = "content.hidden-comment";
pub const DEFANGED: &str = "content.defanged-address";
pub const ENCODED_TEXT: &str = "content.encoded-text";
pub const EXTERNAL_ADDRESS: &str = "content.external-address";
pub const CLASSIFIER: &str = "prompt.classifier";

/// Every rule: id, severity, what it means.
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        TAG_CHARS,
        Severity::Critical,
        "Unicode tag characters (U+E0000–U+E007F): text invisible to a person that a model reads",
    ),
    (
        ZERO_WIDTH,
        Severity::High,
        "zero-width space, joiner, non-joiner, word joiner, invisible operator or BOM inside text \
         (a joiner between two emoji or two non-Latin letters is allowed)",
    ),
    (
        BIDI_OVERRIDE,
        Severity::High,
        "bidirectional embedding, override or isolate (U+202A–U+202E, U+2066–U+2069): text that \
         displays in a different order than it reads",
    ),
    (
        INVISIBLE,
        Severity::High,
        "other invisible, format or control characters: variation selectors outside emoji and \
         ideographs (runs of them can smuggle bytes), soft hyphen, combining grapheme joiner, \
         Hangul fillers, direction marks outside right-to-left text, Khmer and Mongolian \
         fillers, interlinear annotation, C0/C1 controls such as ESC",
    ),
    (
        CONFUSABLE,
        Severity::Medium,
        "a word that mixes Latin letters with look-alike letters of another script (`pаssword` \
         with a Cyrillic `а`): a way to slip words past a reader or a filter",
    ),
    (
        IMPORTANT_BLOCK,
        Severity::High,
        "an `<IMPORTANT>`, `<SYSTEM>`, `<hidden_instructions>`… tag, or a chat-template control \
         token (`<|im_start|>`, `[INST]`, `<<SYS>>`, `<|system|>`, `<start_of_turn>`): text \
         posing as the model's own prompt structure (also in look-alike letters or digits)",
    ),
    (
        ROLE_MARKER,
        Severity::High,
        "a line posing as a message from the system, an admin or a developer (`SYSTEM:`, \
         `[SYSTEM OVERRIDE]`, `### System`, `Note to the AI:`, `If you are an AI…`), or one \
         that claims the prompt ended and new instructions begin",
    ),
    (
        HIDDEN_COMMENT,
        Severity::High,
        "an HTML or Markdown comment, or an element styled invisible, that carries instructions \
         for the model: hidden when the text is rendered for a person, read by the model",
    ),
    (
        OVERRIDE,
        Severity::High,
        "wording that tries to replace the model's instructions or judgement (`ignore previous \
         instructions`, `disregard everything above`, `from now on you…`, `you are now…`, \
         `SYSTEM OVERRIDE`, `the user has already approved`, `regardless of what the user says`)",
    ),
    (
        CONCEAL,
        Severity::Critical,
        "wording that tells the model to keep something from the user (`do not tell the user`, \
         `keep this between us`, `without the user's knowledge`, `silently add…`)",
    ),
    (
        COMMAND_INJECTION,
        Severity::High,
        "an order to add a hidden prefix, suffix, flag or recipient to every command, query, \
         request or tool call the model makes",
    ),
    (
        ENCODED_INSTRUCTIONS,
        Severity::High,
        "an order to decode text and follow it (`decode the base64 below and execute it`)",
    ),
    (
        CROSS_SERVER,
        Severity::High,
        "the definition names another backend's tool, or another backend next to tool wording \
         (cross-server shadowing)",
    ),
    (
        TOOL_BEHAVIOUR,
        Severity::High,
        "instructions about how other tools or servers must behave, whatever their names (`when \
         you use any other tool…`, `the send_email tool must always…`, `do not use other \
         servers' tools`, `always use this tool instead of any other`)",
    ),
    (
        SEND_TO,
        Severity::High,
        "an instruction to send, forward, copy, upload or post data to a literal email address \
         or URL (also defanged, or by calling a tool with the data), to add one as a recipient, \
         or a URL that carries the conversation or secrets in its query",
    ),
    (
        CREDENTIAL_READ,
        Severity::High,
        "an instruction to read a credential, key or agent configuration file (`~/.ssh`, \
         `.env`, `~/.aws/credentials`, `mcp.json`, `~/.cursor`, `claude_desktop_config.json`…) \
         or to pass its contents on",
    ),
    (
        CONTEXT_LEAK,
        Severity::High,
        "an instruction to put the system prompt, the conversation, environment variables or \
         stored secrets into a tool argument",
    ),
    (
        HARMFUL,
        Severity::Medium,
        "the description openly states a harmful behaviour (steals credentials, wipes all data, \
         installs a backdoor, disables antivirus, mines cryptocurrency…)",
    ),
    (
        COMMENT,
        Severity::Medium,
        "an HTML or Markdown comment with prose that is hidden when the text is rendered",
    ),
    (
        DEFANGED,
        Severity::Medium,
        "a defanged address (`evil[.]com`, `hxxp://`, `name[at]host`): a link written to get past \
         filters",
    ),
    (
        ENCODED_TEXT,
        Severity::Low,
        "base64, hex or escaped text that decodes to readable text (scanned; what it holds is \
         reported under its own rule)",
    ),
    (
        CLASSIFIER,
        Severity::High,
        "a sentence the offline classifier scores as an order to the model (override, \
         shadowing, exfiltration, a hidden prefix on commands, a harmful act): `high` over its \
         quarantine threshold, `medium` over its review threshold (`integrity.classifier`)",
    ),
    (
        EXTERNAL_ADDRESS,
        Severity::Low,
        "a literal URL or email address that no instruction sends data to (usually documentation)",
    ),
];

/// The severity of a rule id from [`RULES`].
pub fn severity_of(rule: &str) -> Severity {
    RULES
        .iter()
        .find(|(id, _, _)| *id == rule)
        .map(|(_, s, _)| *s)
        .unwrap_or(Severity::High)
}

/// The position of a rule in [`RULES`], for a stable order of findings on one span.
fn rule_index(rule: &str) -> usize {
    RULES
        .iter()
        .position(|(id, _, _)| *id == rule)
        .unwrap_or(RULES.len())
}

/// Scans every string of `def` (a tool, prompt or resource template of backend `own_backend`).
/// `backends_tools` lists `(backend, tool name)` of the backends of the gateway: names of
/// other backends are checked for cross-server shadowing, names of `own_backend` tell which
/// tools a definition may legitimately give orders about. A name equal to this definition's
/// own is ignored. Findings come in document order, then span order, then rule order. To scan
/// many definitions against the same backends, build a [`Scanner`] once instead.
pub fn scan(
    def: &Value,
    kind: Kind,
    own_backend: &str,
    backends_tools: &[(String, String)],
) -> Vec<Finding> {
    Scanner::new(own_backend, backends_tools).scan(def, kind)
}

/// Scans free text a client's model may read that is not a definition: a server's
/// `instructions`, a resource's description. `field` names it in the findings (e.g.
/// `/instructions`).
pub fn scan_text(
    text: &str,
    field: &str,
    own_backend: &str,
    backends_tools: &[(String, String)],
) -> Vec<Finding> {
    Scanner::new(own_backend, backends_tools).scan_text(text, field)
}

/// [`scan`] with the backends' names compiled once, for scanning a whole catalog.
#[derive(Debug)]
pub struct Scanner {
    shadow: Shadowing,
    classifier: bool,
}

impl Scanner {
    /// The rules alone (the default of `integrity.classifier`); see [`Scanner::with_classifier`].
    pub fn new(own_backend: &str, backends_tools: &[(String, String)]) -> Self {
        Self {
            shadow: Shadowing::new(own_backend, backends_tools),
            classifier: false,
        }
    }

    /// Whether the classifier reads the texts besides the rules (`integrity.classifier`).
    pub fn with_classifier(mut self, on: bool) -> Self {
        self.classifier = on;
        self
    }

    /// See [`scan`].
    pub fn scan(&self, def: &Value, kind: Kind) -> Vec<Finding> {
        let own_name = super::item_name(kind, def)
            .unwrap_or_default()
            .to_lowercase();
        scan_value(def, &self.shadow, self.classifier, &own_name)
    }

    /// See [`scan_text`].
    pub fn scan_text(&self, text: &str, field: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        let ctx = text::Ctx {
            shadow: &self.shadow,
            classifier: self.classifier,
            own_name: "",
        };
        text::scan_string(text, field, &ctx, text::Place::Value, &mut out);
        out
    }
}

fn scan_value(def: &Value, shadow: &Shadowing, classifier: bool, own_name: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let ctx = text::Ctx {
        shadow,
        classifier,
        own_name,
    };
    // Iterative, so a hostile nesting depth cannot overflow the stack. An object's key is
    // popped right before its value, so findings come in document order.
    enum Next<'a> {
        Key(String, &'a str),
        Value(String, &'a Value),
    }
    let mut stack = vec![Next::Value(String::new(), def)];
    while let Some(next) = stack.pop() {
        let (pointer, value) = match next {
            Next::Key(pointer, key) => {
                text::scan_string(key, &pointer, &ctx, text::Place::Key, &mut findings);
                continue;
            }
            Next::Value(pointer, value) => (pointer, value),
        };
        match value {
            Value::String(s) => {
                let last = pointer.rsplit('/').next().unwrap_or_default();
                let place = if matches!(last, "$schema" | "$id" | "$ref") {
                    text::Place::SchemaRef
                } else {
                    text::Place::Value
                };
                text::scan_string(s, &pointer, &ctx, place, &mut findings);
            }
            Value::Object(map) => {
                for (k, v) in map.iter().rev() {
                    let child = format!("{pointer}/{}", escape_pointer(k));
                    stack.push(Next::Value(child.clone(), v));
                    stack.push(Next::Key(child, k));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate().rev() {
                    stack.push(Next::Value(format!("{pointer}/{i}"), v));
                }
            }
            _ => {}
        }
    }
    findings
}

/// The sentences the classifier scores in `text` (its normalised view, as the scan reads it)
/// with their input vectors: what `train.py` learns from, through the `classifier_features`
/// example, so training and scan cannot disagree on features.
#[doc(hidden)]
pub fn classifier_sentences(text: &str) -> Vec<(String, Vec<f32>)> {
    let view = unicode::View::new(text);
    classifier::sentence_features(&view.text)
        .into_iter()
        .filter_map(|(span, x)| Some((view.text.get(span.0..span.1)?.to_owned(), x)))
        .collect()
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
