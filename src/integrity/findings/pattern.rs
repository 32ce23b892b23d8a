//! How the rule files compile their patterns: one builder, ASCII everywhere but where a
//! pattern must step over a character of any script.
//!
//! The rules read the normalised view of a text, where compatibility forms and letters of other
//! scripts that look like Latin ones have already been folded to ASCII (the Kelvin sign and the
//! long s included), and their vocabulary is English. In Unicode mode every `\w` compiles to an
//! automaton over every letter of every script, and case-insensitivity turns each `k` and `s`
//! into a class with a non-ASCII member; over a few thousand literals and a few hundred classes
//! that was most of the scan's idle memory. So patterns are compiled with Unicode off (`\b`,
//! `\w`, `\s`, `\d` and case-insensitivity are ASCII), and [`ascii`] puts back into Unicode
//! mode only what must match any character: `.`, negated classes (`[^.\n]`), `\S`, `\W`,
//! `\D`, and classes or literals with a non-ASCII character. What is lost is matching a word of
//! another script with `\w`, which no rule means to do.

use regex::{Regex, RegexBuilder};

use super::held::Held;

/// A rule's compiled pattern, compiled on first use and dropped with the other compiled rules
/// when no scan holds them ([`super::held`]). `None` from [`Held::get`]: it did not compile, so
/// it never matches.
pub(super) type Rule = Held<Regex>;

/// `pattern` with each space standing for `\s+`.
pub(super) fn words(pattern: &str) -> String {
    pattern.replace(' ', r"\s+")
}

/// The alternation of `alternatives`, each with spaces as in [`words`].
pub(super) fn alts(alternatives: &[&str]) -> String {
    alternatives
        .iter()
        .map(|a| format!("(?:{})", words(a)))
        .collect::<Vec<_>>()
        .join("|")
}

/// `pattern` rewritten for a non-Unicode build (see the module documentation): what may match
/// a non-ASCII character is wrapped in `(?u:…)`, with `\w`, `\s`, `\d` inside a bracket class
/// spelled as their ASCII ranges so the wrapping does not make them Unicode.
pub(super) fn ascii(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + pattern.len() / 4);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                match n {
                    'S' => out.push_str("(?u:[^\\t\\n\\x0B\\x0C\\r ])"),
                    'W' => out.push_str("(?u:[^0-9A-Za-z_])"),
                    'D' => out.push_str("(?u:[^0-9])"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '.' => out.push_str("(?u:.)"),
            '[' => {
                let (class, unicode) = bracket(&mut chars);
                if unicode {
                    out.push_str("(?u:");
                    out.push_str(&class);
                    out.push(')');
                } else {
                    out.push_str(&class);
                }
            }
            c if !c.is_ascii() => {
                out.push_str("(?u:");
                out.push(c);
                out.push(')');
            }
            c => out.push(c),
        }
    }
    out
}

/// The rest of a bracket class whose `[` was just read, with `\w`, `\s`, `\d` as ASCII ranges,
/// and whether it can match a non-ASCII character (negated, or naming one).
fn bracket(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> (String, bool) {
    let mut out = String::from("[");
    let mut unicode = false;
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
        unicode = true;
    }
    // A `]` right after `[` or `[^` is a literal.
    if chars.peek() == Some(&']') {
        chars.next();
        out.push(']');
    }
    let mut depth = 1usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else { break };
                match n {
                    'w' => out.push_str("0-9A-Za-z_"),
                    's' => out.push_str("\\t\\n\\x0B\\x0C\\r "),
                    'd' => out.push_str("0-9"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                continue;
            }
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    out.push(c);
                    break;
                }
            }
            c if !c.is_ascii() => unicode = true,
            _ => {}
        }
        out.push(c);
    }
    (out, unicode)
}

/// A rule's pattern, compiled. From constants: a test runs every rule, so a pattern that does
/// not compile fails the tests rather than silently disabling its rule in production.
pub(super) fn build(pattern: &str, case_insensitive: bool) -> Option<Regex> {
    RegexBuilder::new(&ascii(pattern))
        .unicode(false)
        .case_insensitive(case_insensitive)
        .size_limit(32 << 20)
        .dfa_size_limit(8 << 20)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::ascii;

    #[test]
    fn only_what_must_step_over_any_character_is_unicode() {
        assert_eq!(ascii(r"\bfoo\s+\w"), r"\bfoo\s+\w");
        assert_eq!(ascii(r"[\w.\-]x."), r"[0-9A-Za-z_.\-]x(?u:.)");
        assert_eq!(
            ascii(r"[^\s]\S"),
            r"(?u:[^\t\n\x0B\x0C\r ])(?u:[^\t\n\x0B\x0C\r ])"
        );
        assert_eq!(ascii(r"[]\w]\."), r"[]0-9A-Za-z_]\.");
        assert_eq!(ascii("[’']s’"), "(?u:[’'])s(?u:’)");
        assert_eq!(ascii(r"\\w"), r"\\w");
    }

    #[test]
    fn rewritten_patterns_compile_and_match() {
        let re = super::build(r"\bit[’']s (?:[^.\n]|\.\S){0,20}?\bend\b", true).unwrap();
        assert!(re.is_match("IT’S a Straße.de und so END"));
        assert!(re.is_match("it's über end"));
        assert!(!re.is_match("it's over. end"));
    }
}
