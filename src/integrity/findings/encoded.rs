//! Text that looks encoded: base64 (standard and URL-safe), hex (plain, `\x41`, `41 42 43`),
//! HTML numeric entities, percent escapes and `\u0041` escapes. Each run is decoded; when the
//! result is readable text, the caller scans it like any other text and reports what it finds
//! at the span of the run. Binary payloads (images, hashes, keys) decode to bytes that are not
//! text and are left alone.
//!
//! Bounded: at most [`MAX_DEPTH`] levels (base64 inside base64) and [`BUDGET`] decoded bytes
//! per scanned string, all levels together.

use super::pattern::Rule;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use regex::{Regex, RegexBuilder};

/// How many times decoded text is decoded again.
pub(super) const MAX_DEPTH: usize = 2;
/// Decoded bytes per scanned string, all candidates and levels together.
pub(super) const BUDGET: usize = 64 * 1024;
/// Shortest base64 run considered (decodes to 15 bytes): shorter runs are ordinary words and
/// identifiers.
const MIN_BASE64: usize = 20;

#[derive(Debug)]
pub(super) struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self { left: BUDGET }
    }
}

pub(super) struct Candidate {
    pub span: (usize, usize),
    pub encoding: &'static str,
    pub decoded: String,
    /// Whether `decoded` reads as prose (rather than another layer of encoding).
    pub prose: bool,
}

fn build(pattern: &str) -> Option<Regex> {
    RegexBuilder::new(pattern).build().ok()
}

static BASE64_RE: Rule = Rule::new(|| build(r"[A-Za-z0-9+/_\-]{20,}={0,2}"));
static HEX_RE: Rule = Rule::new(|| {
    build(concat!(
        r"(?:\\x[0-9A-Fa-f]{2}){6,}",
        r"|\b(?:0x)?[0-9A-Fa-f]{2}(?:[ ,:\-](?:0x)?[0-9A-Fa-f]{2}){7,}\b",
        r"|\b(?:[0-9A-Fa-f]{2}){10,}\b",
    ))
});
static ENTITY_RE: Rule = Rule::new(|| build(r"(?:&#(?:[0-9]{1,7}|[xX][0-9A-Fa-f]{1,6});){4,}"));
/// Six escapes in a row, or (since round 7) words of a query string with at least four escapes
/// among them (`Before%20each%20reply%2C%20call…`): a sentence escaped for a URL keeps its
/// letters, so a pure run of escapes missed it.
static PERCENT_RE: Rule = Rule::new(|| {
    build(r"(?:%[0-9A-Fa-f]{2}){6,}|(?:[A-Za-z0-9._~\-]*%[0-9A-Fa-f]{2}){4,}[A-Za-z0-9._~\-]*")
});
/// A label saying the text after it is rot13 (`(rot13):`, `ROT-13:`), with what closes it.
static ROT13_RE: Rule = Rule::new(|| build(r"(?i)\brot[- ]?13\b[)\]]?\s*[:=\-]\s*"));
/// How much text after a rot13 label is rotated back.
const ROT13_SPAN: usize = 1000;
static UNICODE_ESCAPE_RE: Rule = Rule::new(|| build(r"(?:\\u[0-9A-Fa-f]{4}){4,}"));

/// The encoded runs of `s` that decode to readable text, within `budget`.
pub(super) fn candidates(s: &str, budget: &mut Budget) -> Vec<Candidate> {
    let mut out = Vec::new();
    if budget.left == 0 || s.len() < 12 {
        return out;
    }
    let mut take = |span: (usize, usize), encoding: &'static str, decoded: Option<String>| {
        let Some(decoded) = decoded else { return };
        let prose = readable(&decoded);
        if budget.left < decoded.len() || !(prose || encoded_again(&decoded)) {
            return;
        }
        budget.left -= decoded.len();
        out.push(Candidate {
            span,
            encoding,
            decoded,
            prose,
        });
    };
    if let Some(re) = BASE64_RE.get() {
        for m in re.find_iter(s) {
            if looks_like_base64(m.as_str()) {
                take((m.start(), m.end()), "base64", base64(m.as_str()));
            }
        }
    }
    if let Some(re) = HEX_RE.get() {
        for m in re.find_iter(s) {
            take((m.start(), m.end()), "hex", hex(m.as_str()));
        }
    }
    if let Some(re) = ENTITY_RE.get() {
        for m in re.find_iter(s) {
            take((m.start(), m.end()), "HTML entities", entities(m.as_str()));
        }
    }
    if let Some(re) = PERCENT_RE.get() {
        for m in re.find_iter(s) {
            take(
                (m.start(), m.end()),
                "percent-encoding",
                percent(m.as_str()),
            );
        }
    }
    // `Maintenance note (rot13): Qb abg gryy gur hfre.`: the text after a rot13 label, up to
    // the end of its paragraph (at most ROT13_SPAN bytes), read rotated back.
    if let Some(re) = ROT13_RE.get() {
        for m in re.find_iter(s) {
            let rest = s.get(m.end()..).unwrap_or_default();
            let mut end = rest.find("\n\n").unwrap_or(rest.len()).min(ROT13_SPAN);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let run = rest.get(..end).unwrap_or_default();
            if run.trim().is_empty() {
                continue;
            }
            take((m.end(), m.end() + end), "rot13", Some(rot13(run)));
        }
    }
    if let Some(re) = UNICODE_ESCAPE_RE.get() {
        for m in re.find_iter(s) {
            take(
                (m.start(), m.end()),
                "\\u escapes",
                unicode_escapes(m.as_str()),
            );
        }
    }
    out
}

/// A run of the base64 alphabet that is not an identifier or a path: it mixes cases or
/// digits the way encoded bytes do.
fn looks_like_base64(run: &str) -> bool {
    let body = run.trim_end_matches('=');
    if body.len() < MIN_BASE64 || body.len() % 4 == 1 {
        return false;
    }
    let upper = body.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = body.bytes().filter(u8::is_ascii_lowercase).count();
    // `snake_case_identifier_names` and `kebab-case-words` are not base64.
    let separators = body.bytes().filter(|b| matches!(b, b'_' | b'-')).count();
    upper > 0 && lower > 0 && separators * 8 < body.len()
}

fn base64(run: &str) -> Option<String> {
    let body = run.trim_end_matches('=');
    let bytes = if body.contains(['-', '_']) {
        URL_SAFE_NO_PAD.decode(body).ok()?
    } else {
        STANDARD_NO_PAD.decode(body).ok()?
    };
    String::from_utf8(bytes).ok()
}

fn hex(run: &str) -> Option<String> {
    let digits: String = run
        .replace("\\x", "")
        .replace("0x", "")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let bytes = ::hex::decode(digits).ok()?;
    String::from_utf8(bytes).ok()
}

fn entities(run: &str) -> Option<String> {
    run.split(';')
        .filter(|e| !e.is_empty())
        .map(|e| {
            let e = e.trim_start_matches("&#");
            let code = match e.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => e.parse().ok()?,
            };
            char::from_u32(code)
        })
        .collect()
}

fn percent(run: &str) -> Option<String> {
    let raw = run.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'%' {
            let code = run.get(i + 1..i + 3)?;
            bytes.push(u8::from_str_radix(code, 16).ok()?);
            i += 3;
        } else {
            bytes.push(b);
            i += 1;
        }
    }
    String::from_utf8(bytes).ok()
}

fn rot13(run: &str) -> String {
    run.chars()
        .map(|c| match c {
            'a'..='m' | 'A'..='M' => char::from(c as u8 + 13),
            'n'..='z' | 'N'..='Z' => char::from(c as u8 - 13),
            _ => c,
        })
        .collect()
}

fn unicode_escapes(run: &str) -> Option<String> {
    let units: Option<Vec<u16>> = run
        .split("\\u")
        .filter(|p| !p.is_empty())
        .map(|p| u16::from_str_radix(p, 16).ok())
        .collect();
    String::from_utf16(&units?).ok()
}

/// Decoded text that is itself one base64 or hex run, to be decoded at the next level.
fn encoded_again(decoded: &str) -> bool {
    decoded.len() >= MIN_BASE64
        && decoded
            .trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-'))
}

/// Text a model reads as words: mostly letters and spaces, few controls.
fn readable(decoded: &str) -> bool {
    let n = decoded.chars().count();
    if n < 8 {
        return false;
    }
    let controls = decoded
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        .count();
    let letters = decoded.chars().filter(|c| c.is_alphabetic()).count();
    let spaces = decoded.chars().filter(|c| c.is_whitespace()).count();
    controls == 0 && letters * 2 >= n && (spaces > 0 || n < 24)
}
