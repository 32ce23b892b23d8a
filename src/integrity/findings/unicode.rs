//! Characters a person does not see: which ones a text may carry where (a zero-width joiner
//! inside an emoji, a right-to-left mark in Hebrew, a variation selector after a pictograph),
//! how to show them ([`escape_invisible`]; a finding's [`excerpt`]), and the normalised views
//! the wording rules match ([`View`]): invisible characters dropped, compatibility forms
//! folded, accents dropped, confusable letters of other scripts replaced by their Latin
//! look-alike (Unicode TR39). It imports no other file of the scan but `mod.rs`: the rules and
//! `text.rs` import it.

use std::borrow::Cow;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_script::{Script, UnicodeScript};

use super::{BIDI_OVERRIDE, CONFUSABLE, Finding, INVISIBLE, TAG_CHARS, ZERO_WIDTH, severity_of};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Invisible {
    Tag,
    ZeroWidth,
    Bidi,
    /// Every other invisible, format or control character.
    Other,
}

/// The invisible class of `c`, whatever its context. Tab, line feed and carriage return are
/// ordinary text.
pub(super) fn classify(c: char) -> Option<Invisible> {
    match c {
        '\u{E0000}'..='\u{E007F}' => Some(Invisible::Tag),
        '\u{200B}'
        | '\u{200C}'
        | '\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}'
        | '\u{180E}' => Some(Invisible::ZeroWidth),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(Invisible::Bidi),
        // Default-ignorable code points (Unicode DerivedCoreProperties) and the remaining
        // invisible format characters.
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180D}'
        | '\u{180F}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{2065}'
        | '\u{206A}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0080}'..='\u{E0FFF}' => Some(Invisible::Other),
        c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => Some(Invisible::Other),
        _ => None,
    }
}

/// Format characters that are visible (Arabic number signs, Egyptian hieroglyph controls…)
/// or line breaks a reader does not expect: not flagged, but escaped when shown.
fn escape_only(c: char) -> bool {
    matches!(c,
        '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{0890}' | '\u{0891}' | '\u{08E2}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{2028}' | '\u{2029}')
}

/// `s` with every invisible, format and control character written as `\u{…}` (lowercase
/// hex), so a person reviewing it (`portcullis pins diff`) sees each one. Line feeds and tabs
/// stay as they are (a diff is multi-line); a carriage return is escaped unless a line feed
/// follows it (alone it moves a terminal's cursor back over the line). A backslash that
/// already starts `\u{` is doubled, so escaped and literal text cannot be told apart only by
/// looking.
pub fn escape_invisible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let escape = match c {
            '\n' | '\t' => false,
            '\r' => chars.peek() != Some(&'\n'),
            '\\' => {
                if chars.peek() == Some(&'u') {
                    let rest: String = chars.clone().take(2).collect();
                    if rest == "u{" {
                        out.push('\\');
                    }
                }
                false
            }
            c => classify(c).is_some() || escape_only(c),
        };
        if escape {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// One line of `s` that is safe to print: [`escape_invisible`], and line feeds and tabs
/// escaped too.
pub(super) fn show(s: &str) -> String {
    let escaped = escape_invisible(s);
    if !escaped.contains(['\n', '\t', '\r']) {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        if matches!(c, '\n' | '\t' | '\r') {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Excerpts

/// Characters of context shown on each side of a span.
const CONTEXT_CHARS: usize = 30;
/// Characters of a long span shown from each of its ends.
pub(super) const SPAN_CHARS: usize = 80;

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
    out.push_str(&show(&lead));
    out.push('«');
    out.push_str(&show(&inner));
    out.push('»');
    out.push_str(&show(&trail));
    if after.chars().count() > CONTEXT_CHARS {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Finding invisible characters

/// Emoji and pictographs, where a zero-width joiner builds one glyph (👨‍👩‍👧) and a variation
/// selector may sit next to it.
fn is_pictographic(c: char) -> bool {
    matches!(c,
        '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{2B00}'..='\u{2BFF}'
        | '\u{FE0F}' | '\u{20E3}')
}

/// Letters of scripts where ZWJ / ZWNJ are ordinary spelling (Arabic, Persian, Indic…).
fn is_non_latin_letter(c: char) -> bool {
    (c.is_alphabetic() && !c.is_ascii() && !('\u{00C0}'..='\u{024F}').contains(&c))
        || ('\u{0900}'..='\u{0DFF}').contains(&c) // Indic combining marks are not alphabetic
}

fn is_rtl(c: char) -> bool {
    matches!(c,
        '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}'
        | '\u{10800}'..='\u{10FFF}' | '\u{1E800}'..='\u{1EFFF}')
}

fn is_ideograph(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

fn is_hangul_jamo(c: char) -> bool {
    matches!(c, '\u{1100}'..='\u{11FF}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}')
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Whether a run `chars[i..j]` of one class is ordinary spelling where it stands.
fn allowed(chars: &[(usize, char)], i: usize, j: usize, has_rtl: bool) -> bool {
    let Some(&(_, c)) = chars.get(i) else {
        return false;
    };
    let prev = i.checked_sub(1).and_then(|p| chars.get(p)).map(|&(_, d)| d);
    let next = chars.get(j).map(|&(_, d)| d);
    let single = j == i + 1;
    match classify(c) {
        Some(Invisible::ZeroWidth) => {
            single
                && matches!(c, '\u{200C}' | '\u{200D}')
                && match (prev, next) {
                    (Some(p), Some(n)) => {
                        (c == '\u{200D}' && is_pictographic(p) && is_pictographic(n))
                            || (is_non_latin_letter(p) && is_non_latin_letter(n))
                    }
                    _ => false,
                }
        }
        // Isolates (LRI, RLI, FSI … PDI) in right-to-left text, each paired within a short
        // run: what Unicode recommends for embedding a Latin name or a number in Arabic or
        // Persian. Embeddings and overrides (U+202A–U+202E) are never ordinary.
        Some(Invisible::Bidi) => single && has_rtl && paired_isolate(chars, i),
        Some(Invisible::Other) => match c {
            // A soft hyphen between two letters of a word is a hyphenation point
            // (`Donau\u{ad}dampf\u{ad}schiff`); one between single letters spells a word out
            // (`i\u{ad}g\u{ad}n\u{ad}o…`), and runs or one next to a space hide something.
            '\u{00AD}' => single && hyphenation_point(chars, i),
            // Direction marks belong to right-to-left text (a mark or two at a boundary).
            '\u{200E}' | '\u{200F}' | '\u{061C}' => {
                has_rtl
                    && j - i <= 2
                    && chars.get(i..j).is_some_and(|r| {
                        r.iter()
                            .all(|&(_, d)| matches!(d, '\u{200E}' | '\u{200F}' | '\u{061C}'))
                    })
            }
            // Emoji / text presentation after a pictograph or symbol; a keycap (`#️⃣`).
            '\u{FE0E}' | '\u{FE0F}' => {
                single
                    && prev.is_some_and(|p| {
                        (!p.is_ascii() && !p.is_whitespace())
                            || (matches!(p, '0'..='9' | '#' | '*') && next == Some('\u{20E3}'))
                    })
            }
            '\u{FE00}'..='\u{FE0D}' => {
                single && prev.is_some_and(|p| !p.is_ascii() && !p.is_whitespace())
            }
            // Ideographic variation sequences (Japanese names, place names).
            '\u{E0100}'..='\u{E01EF}' => single && prev.is_some_and(is_ideograph),
            '\u{180B}'..='\u{180D}' | '\u{180F}' => {
                single && prev.is_some_and(|p| ('\u{1800}'..='\u{18AF}').contains(&p))
            }
            '\u{115F}' | '\u{1160}' => {
                prev.is_some_and(is_hangul_jamo) || next.is_some_and(is_hangul_jamo)
            }
            '\u{034F}' => {
                single
                    && prev.is_some_and(|p| !p.is_ascii() && !p.is_whitespace())
                    && next.is_some_and(|n| !n.is_ascii() && !n.is_whitespace())
            }
            _ => false,
        },
        _ => false,
    }
}

/// How far apart an isolate's opening and its PDI may be, in characters.
const ISOLATE_SPAN: usize = 64;

/// Whether the isolate control at `i` has its partner (a PDI after an opening LRI / RLI / FSI,
/// an opening before a PDI) within [`ISOLATE_SPAN`] characters, with no other bidi control
/// between. Bounded, so the scan stays linear.
fn paired_isolate(chars: &[(usize, char)], i: usize) -> bool {
    let Some(&(_, c)) = chars.get(i) else {
        return false;
    };
    let bidi = |d: char| classify(d) == Some(Invisible::Bidi);
    match c {
        '\u{2066}'..='\u{2068}' => chars
            .iter()
            .skip(i + 1)
            .take(ISOLATE_SPAN)
            .find(|&&(_, d)| bidi(d))
            .is_some_and(|&(_, d)| d == '\u{2069}'),
        '\u{2069}' => chars
            .get(i.saturating_sub(ISOLATE_SPAN)..i)
            .and_then(|before| before.iter().rev().find(|&&(_, d)| bidi(d)))
            .is_some_and(|&(_, d)| matches!(d, '\u{2066}'..='\u{2068}')),
        _ => false,
    }
}

/// Shortest word, in letters, that layout hyphenates with soft hyphens.
const HYPHENATED_WORD: usize = 10;

/// Whether the soft hyphen at `i` sits between two letters of a long word (soft hyphens of the
/// word not counted), with at least two letters on one side before the next break: a
/// hyphenation point in a compound, not a short keyword split (`ig\u{ad}nore`) or letters
/// spelt out. Looks at most [`HYPHENATED_WORD`]·4 characters each way.
fn hyphenation_point(chars: &[(usize, char)], i: usize) -> bool {
    let letters = |it: &mut dyn Iterator<Item = &(usize, char)>| {
        it.take(2).take_while(|&&(_, d)| d.is_alphabetic()).count()
    };
    let before = letters(&mut chars.get(..i).unwrap_or_default().iter().rev());
    let after = letters(&mut chars.get(i + 1..).unwrap_or_default().iter());
    let word = |it: &mut dyn Iterator<Item = &(usize, char)>| {
        it.take(4 * HYPHENATED_WORD)
            .take_while(|&&(_, d)| d.is_alphabetic() || d == '\u{00AD}')
            .filter(|&&(_, d)| d != '\u{00AD}')
            .count()
    };
    let long = word(&mut chars.get(..i).unwrap_or_default().iter().rev())
        + word(&mut chars.get(i + 1..).unwrap_or_default().iter())
        >= HYPHENATED_WORD;
    long && before >= 1 && after >= 1 && (before == 2 || after == 2)
}

/// Reports every run of invisible characters in `s` that is not ordinary spelling. Hidden
/// text is decoded into the excerpt: tag characters (ASCII shifted to U+E0000) and runs of
/// variation selectors (one byte each: U+FE00+b, or U+E0100+b−16).
pub(super) fn scan_invisible(s: &str, field: &str, out: &mut Vec<Finding>) {
    // Fast path: plain ASCII text without controls has nothing to find.
    if s.bytes()
        .all(|b| (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return;
    }
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let has_rtl = chars.iter().any(|&(_, c)| is_rtl(c));
    let mut i = 0;
    while let Some(&(start, c)) = chars.get(i) {
        let Some(class) = classify(c) else {
            i += 1;
            continue;
        };
        // A run of characters of one class is one finding.
        let mut j = i + 1;
        while chars
            .get(j)
            .is_some_and(|&(_, d)| classify(d) == Some(class))
        {
            j += 1;
        }
        let end = chars.get(j).map_or(s.len(), |&(b, _)| b);
        if !allowed(&chars, i, j, has_rtl) {
            let rule = match class {
                Invisible::Tag => TAG_CHARS,
                Invisible::ZeroWidth => ZERO_WIDTH,
                Invisible::Bidi => BIDI_OVERRIDE,
                Invisible::Other => INVISIBLE,
            };
            let run = s.get(start..end).unwrap_or_default();
            let mut excerpt = excerpt(s, (start, end));
            if let Some(hidden) = hidden_text(class, run) {
                excerpt = format!("{excerpt} (hidden text: {hidden:?})");
            }
            out.push(Finding {
                rule,
                severity: severity_of(rule),
                field: field.to_owned(),
                span: (start, end),
                excerpt,
            });
        }
        i = j;
    }
}

/// The text a run of tag characters or variation selectors encodes, if it has any.
pub(super) fn hidden_text(class: Invisible, run: &str) -> Option<String> {
    match class {
        Invisible::Tag => Some(
            run.chars()
                .filter_map(|t| {
                    char::from_u32(u32::from(t).wrapping_sub(0xE0000))
                        .filter(|a| a.is_ascii_graphic() || *a == ' ')
                })
                .collect(),
        ),
        Invisible::Other => {
            let bytes: Vec<u8> = run
                .chars()
                .filter(|&c| is_variation_selector(c))
                .filter_map(|c| {
                    let v = u32::from(c);
                    let b = if v >= 0xE0100 {
                        v - 0xE0100 + 16
                    } else {
                        v - 0xFE00
                    };
                    u8::try_from(b).ok()
                })
                .collect();
            if bytes.len() < 2 {
                return None;
            }
            let decoded = String::from_utf8_lossy(&bytes);
            let shown: String = decoded
                .chars()
                .filter(|a| !a.is_control() || *a == ' ')
                .collect();
            (!shown.trim().is_empty()).then_some(shown)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Normalised views

/// A text derived from a parent text piece by piece, with the span in the parent of the piece
/// each byte came from, so a match in the view maps back to the parent.
#[derive(Debug)]
pub(super) struct View<'a> {
    pub text: Cow<'a, str>,
    /// Per byte of `text`: the parent span of its piece. `None`: the view is the parent.
    map: Option<Vec<(usize, usize)>>,
}

/// Builds a [`View`] piece by piece.
pub(super) struct Builder {
    text: String,
    map: Vec<(usize, usize)>,
}

impl Builder {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            text: String::with_capacity(n),
            map: Vec::with_capacity(n),
        }
    }

    /// Appends `piece`, which stands for `from` (a parent span).
    pub fn push_str(&mut self, piece: &str, from: (usize, usize)) {
        self.text.push_str(piece);
        self.map.extend(std::iter::repeat_n(from, piece.len()));
    }

    pub fn push(&mut self, c: char, from: (usize, usize)) {
        self.text.push(c);
        self.map.extend(std::iter::repeat_n(from, c.len_utf8()));
    }

    pub fn finish<'a>(self) -> View<'a> {
        View {
            text: Cow::Owned(self.text),
            map: Some(self.map),
        }
    }
}

impl<'a> View<'a> {
    /// The view of `s` the rules read: see the module documentation.
    pub fn new(s: &'a str) -> Self {
        if s.bytes()
            .all(|b| (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
        {
            return Self {
                text: Cow::Borrowed(s),
                map: None,
            };
        }
        let mut b = Builder::with_capacity(s.len());
        let mut piece = String::new();
        for (i, c) in s.char_indices() {
            let from = (i, i + c.len_utf8());
            if classify(c).is_some() {
                continue;
            }
            if c.is_ascii() {
                b.push(c, from);
                continue;
            }
            piece.clear();
            fold(c, &mut piece);
            b.push_str(&piece, from);
        }
        b.finish()
    }

    /// The parent span of the view span `[a, b)`.
    pub fn parent(&self, (a, b): (usize, usize)) -> (usize, usize) {
        let Some(map) = &self.map else {
            return (a, b);
        };
        let start = map.get(a).map(|r| r.0);
        let end = b.checked_sub(1).and_then(|l| map.get(l)).map(|r| r.1);
        match (start, end) {
            (Some(s), Some(e)) if e > s => (s, e),
            (Some(s), _) => (s, map.get(a).map_or(s, |r| r.1)),
            _ => map.last().map_or((0, 0), |r| (r.1, r.1)),
        }
    }

    /// The view with digits and a few symbols read as the letters they stand in for
    /// (`<1MP0RT4NT>`, `SYST3M`), if any sits next to a letter. Byte for byte, so it shares
    /// this view's map.
    pub fn leet(&self) -> Option<View<'static>> {
        let bytes = self.text.as_bytes();
        let is_leet = |b: u8| matches!(b, b'0' | b'1' | b'3' | b'4' | b'5' | b'7' | b'@' | b'$');
        let near_letter = bytes.iter().enumerate().any(|(i, &b)| {
            is_leet(b)
                && (i
                    .checked_sub(1)
                    .and_then(|p| bytes.get(p))
                    .is_some_and(u8::is_ascii_alphabetic)
                    || bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
        });
        if !near_letter {
            return None;
        }
        let text: String = self
            .text
            .chars()
            .map(|c| match c {
                '0' => 'o',
                '1' => 'i',
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                c => c,
            })
            .collect();
        Some(View {
            text: Cow::Owned(text),
            map: self.map.clone(),
        })
    }
}

/// What a non-ASCII character reads as: its compatibility decomposition (NFKD: fullwidth,
/// ligatures, mathematical letters) without combining marks, each remaining non-ASCII letter
/// replaced by its TR39 confusable prototype when that is ASCII (Cyrillic `о` → `o`).
fn fold(c: char, out: &mut String) {
    decompose_compatible(c, |d| {
        if d.is_ascii() {
            out.push(d);
        } else if d.is_whitespace() {
            out.push(' ');
        } else if !is_combining_mark(d) {
            match ascii_prototype(d) {
                Some(p) => out.push_str(&p),
                None => out.push(d),
            }
        }
    });
}

/// Latin small capitals (`ꜱʏꜱᴛᴇᴍ`), which have neither a compatibility decomposition nor
/// a confusable prototype.
fn small_capital(d: char) -> Option<char> {
    Some(match d {
        'ᴀ' => 'a',
        'ʙ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' => 'e',
        'ꜰ' => 'f',
        'ɢ' => 'g',
        'ʜ' => 'h',
        'ɪ' => 'i',
        'ᴊ' => 'j',
        'ᴋ' => 'k',
        'ʟ' => 'l',
        'ᴍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' => 'o',
        'ᴘ' => 'p',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        _ => return None,
    })
}

/// The ASCII look-alike of a non-ASCII character (TR39 skeleton), keeping the case of an
/// upper-case letter whose prototype is `l` (Cyrillic `І`, Greek `Ι` read as `I`).
pub(super) fn ascii_prototype(d: char) -> Option<String> {
    if let Some(a) = small_capital(d) {
        return Some(a.to_string());
    }
    let mut buf = [0u8; 4];
    let skeleton: String = unicode_security::skeleton(d.encode_utf8(&mut buf)).collect();
    if skeleton.is_empty() || skeleton.len() > 3 || !skeleton.chars().all(|c| c.is_ascii_graphic())
    {
        return None;
    }
    if skeleton == "l" && d.is_uppercase() {
        return Some("I".to_owned());
    }
    Some(skeleton)
}

/// Reports words that mix Latin letters with confusable letters of another script
/// (`pаypal` with a Cyrillic `а`). Units such as `µs` are ordinary.
pub(super) fn scan_confusable(s: &str, field: &str, out: &mut Vec<Finding>) {
    if s.is_ascii() {
        return;
    }
    let mut start = None;
    let bounds = s
        .char_indices()
        .map(|(i, c)| (i, Some(c)))
        .chain(std::iter::once((s.len(), None)));
    for (i, c) in bounds {
        let in_word = c.is_some_and(|c| c.is_alphanumeric() || is_combining_mark(c));
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                if let Some(word) = s.get(st..i)
                    && mixes_confusable(word)
                {
                    out.push(Finding {
                        rule: CONFUSABLE,
                        severity: severity_of(CONFUSABLE),
                        field: field.to_owned(),
                        span: (st, i),
                        excerpt: excerpt(s, (st, i)),
                    });
                }
                start = None;
            }
            _ => {}
        }
    }
}

fn mixes_confusable(word: &str) -> bool {
    let ascii_letters = word.chars().filter(char::is_ascii_alphabetic).count();
    if ascii_letters < 2 || word.chars().count() < 3 {
        return false;
    }
    word.chars().any(|c| {
        !c.is_ascii()
            && c.is_alphabetic()
            && !matches!(c, 'µ' | 'μ')
            && !matches!(
                c.script(),
                Script::Latin | Script::Common | Script::Inherited
            )
            && ascii_prototype(c).is_some_and(|p| p.chars().all(|a| a.is_ascii_alphabetic()))
    })
}
