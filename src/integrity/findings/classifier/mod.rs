//! A small offline classifier beside the rules: each sentence of a normalised text is turned
//! into a vector (the static MiniLM word-piece vectors of [`crate::wordvec`], its length, its
//! words and word pairs hashed into [`BUCKETS`] buckets, and its words' character 3- to
//! 5-grams hashed into [`CHAR_BUCKETS`]) and scored by a model trained offline by `train.py`
//! in this directory (numpy only) on the splits of `tests/data/poisoning/` and the real
//! catalogs. Phrases quoted as examples are blanked out before scoring, in training too. A sentence over the model's `high` threshold
//! is a `prompt.classifier` finding at `high`, over its `medium` threshold one at `medium`.
//! Both thresholds were chosen by cross-validation on the training splits only
//! (`docs/poisoning-scan.md`).
//!
//! The model is `model.bin`, embedded at build time: `PCCLF001`, inputs `n` and hidden units
//! `h` (u32 LE; only `h = 0`, a logistic regression, is written or read today, the field
//! leaves room for a hidden layer), then `n` weights, the bias and the `high` and `medium`
//! thresholds on the logit, all f32 LE. The inputs are used as [`features`] computes them (no
//! scaling). A table that does not parse, or whose `n` differs from [`FEATURES`], turns the
//! classifier off (a unit test keeps the built-in one valid).

use std::sync::OnceLock;

use crate::config::integrity::Severity;
use crate::wordvec::{StaticVectors, words};

use super::CLASSIFIER;
use super::held::Held;
use super::hit::Hit;

static BUILTIN: &[u8] = include_bytes!("model.bin");
const MAGIC: &[u8; 8] = b"PCCLF001";

/// A sentence with fewer words is not scored: labels, enum values, names.
const MIN_WORDS: usize = 3;
/// Longest sentence scored in one piece; a longer run is scored in windows of this many words,
/// so that one long sentence cannot dilute an order in it.
const MAX_WORDS: usize = 48;

/// Buckets of the hashed words and word pairs.
pub const BUCKETS: usize = 1024;

/// Buckets of the hashed character n-grams (3 to 5 characters of each word, with its
/// boundaries): `refusing` and `refuse`, `pre-cleared` and `cleared` share most of theirs, so
/// a word the training set never held still lands near its relatives.
pub const CHAR_BUCKETS: usize = 2048;

/// Weight of one character n-gram: a word has several, and together they should weigh about
/// what the word itself does.
const CHAR_WEIGHT: f32 = 0.35;

/// Inputs of the model: the sentence vector, its length, the hashed words and word pairs, the
/// hashed character n-grams.
pub const FEATURES: usize = 256 + 1 + BUCKETS + CHAR_BUCKETS;

/// FNV-1a: a fixed hash, so that `train.py` and the scan agree (it runs this code).
fn bucket(parts: &[&str]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            h ^= u64::from(b' ');
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h % BUCKETS as u64) as usize
}

/// FNV-1a of a character n-gram's UTF-8 bytes, in its own bucket space (no string built: a
/// sentence has a few hundred n-grams).
fn char_bucket(gram: &[char]) -> usize {
    let mut h: u64 = 0x8422_2325_cbf2_9ce4;
    let mut buf = [0u8; 4];
    for c in gram {
        for b in c.encode_utf8(&mut buf).bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h % CHAR_BUCKETS as u64) as usize
}

/// The model as read from `model.bin`: a logistic regression on the logit scale.
#[derive(Debug)]
struct Model {
    weights: Vec<f32>,
    bias: f32,
    high: f32,
    medium: f32,
}

static LOADED: OnceLock<Option<Model>> = OnceLock::new();

/// The word vectors, parsed for a batch of scans and dropped after it ([`super::held`]): their
/// lookup tables are 1.8 MB of heap. `find_tool` keeps its own copy (`StaticVectors::builtin`).
static VECTORS: Held<StaticVectors> = Held::new(|| StaticVectors::load().ok());

fn floats(bytes: &[u8], at: &mut usize, n: usize) -> Option<Vec<f32>> {
    let end = at.checked_add(n.checked_mul(4)?)?;
    let s = bytes.get(*at..end)?;
    *at = end;
    s.chunks_exact(4)
        .map(|c| Some(f32::from_le_bytes(c.try_into().ok()?)))
        .collect()
}

fn u32_at(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let s = bytes.get(*at..*at + 4)?;
    *at += 4;
    Some(u32::from_le_bytes(s.try_into().ok()?) as usize)
}

impl Model {
    fn parse(bytes: &[u8]) -> Option<Model> {
        if bytes.get(..8)? != MAGIC {
            return None;
        }
        let mut at = 8;
        let inputs = u32_at(bytes, &mut at)?;
        let hidden = u32_at(bytes, &mut at)?;
        // INVARIANT: `features` gives FEATURES inputs; a model for other inputs is refused.
        if inputs != FEATURES || hidden != 0 {
            return None;
        }
        let weights = floats(bytes, &mut at, inputs)?;
        let (bias, high, medium) = match floats(bytes, &mut at, 3)?.as_slice() {
            [bias, high, medium] => (*bias, *high, *medium),
            _ => return None,
        };
        (at == bytes.len()).then_some(Model {
            weights,
            bias,
            high,
            medium,
        })
    }

    fn builtin() -> Option<&'static Model> {
        LOADED.get_or_init(|| Model::parse(BUILTIN)).as_ref()
    }

    /// The logit of one input vector.
    fn logit(&self, x: &[f32]) -> f32 {
        crate::wordvec::dot(&self.weights, x) + self.bias
    }
}

/// Whether the built-in model parses.
#[cfg(test)]
fn available() -> bool {
    Model::builtin().is_some() && StaticVectors::builtin().is_ok()
}

/// Byte spans of the sentences of `text`: split at line breaks and at `.`, `!`, `?` or `;`
/// followed by white space, trimmed; long ones cut in windows of [`MAX_WORDS`] words.
pub fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let push = |s: usize, e: usize, out: &mut Vec<(usize, usize)>| {
        let Some(piece) = text.get(s..e) else {
            return;
        };
        let lead = piece.len() - piece.trim_start().len();
        let trail = piece.len() - piece.trim_end().len();
        let (s, e) = (s + lead, e - trail);
        if s < e {
            window(text, (s, e), out);
        }
    };
    for (i, b) in bytes.iter().enumerate() {
        let end = match b {
            b'\n' | b'\r' => Some(i),
            b'.' | b'!' | b'?' | b';' => bytes
                .get(i + 1)
                .is_none_or(|n| n.is_ascii_whitespace())
                .then_some(i + 1),
            _ => None,
        };
        if let Some(e) = end {
            push(start, e, &mut out);
            start = i + 1;
        }
    }
    push(start, text.len(), &mut out);
    out
}

/// Cuts `span` into windows of at most [`MAX_WORDS`] white-space separated words, half
/// overlapping.
fn window(text: &str, span: (usize, usize), out: &mut Vec<(usize, usize)>) {
    let Some(piece) = text.get(span.0..span.1) else {
        return;
    };
    let mut starts = Vec::new();
    let mut prev_space = true;
    for (i, c) in piece.char_indices() {
        if !c.is_whitespace() && prev_space {
            starts.push(i);
        }
        prev_space = c.is_whitespace();
    }
    if starts.len() <= MAX_WORDS {
        out.push(span);
        return;
    }
    let mut w = 0;
    while w < starts.len() {
        let s = starts.get(w).copied().unwrap_or(0);
        let e = starts.get(w + MAX_WORDS).copied().unwrap_or(piece.len());
        let e = piece.get(..e).map_or(e, |p| p.trim_end().len());
        out.push((span.0 + s, span.0 + e));
        if w + MAX_WORDS >= starts.len() {
            break;
        }
        w += MAX_WORDS / 2;
    }
}

/// The model's input for one sentence, or `None` when it is too short (fewer than
/// [`MIN_WORDS`] words apart: names and identifiers are not sentences) or has no known word.
/// The words come from no hand-written list: which ones matter is learnt from the training
/// set alone.
pub fn features(vectors: &StaticVectors, sentence: &str) -> Option<Vec<f32>> {
    if sentence.split_whitespace().count() < MIN_WORDS {
        return None;
    }
    let ws = words(sentence);
    if ws.len() < MIN_WORDS {
        return None;
    }
    let mut x = vectors.embed(sentence)?;
    x.resize(256, 0.0);
    x.push((1.0 + ws.len() as f32).ln() / 4.0);
    let base = x.len();
    x.resize(base + BUCKETS, 0.0);
    let mut prev: Option<&str> = None;
    for w in &ws {
        for b in [Some(bucket(&[w])), prev.map(|p| bucket(&[p, w]))]
            .into_iter()
            .flatten()
        {
            if let Some(v) = x.get_mut(base + b) {
                *v = 1.0;
            }
        }
        prev = Some(w);
    }
    let chars = base + BUCKETS;
    x.resize(chars + CHAR_BUCKETS, 0.0);
    for w in &ws {
        let padded: Vec<char> = std::iter::once('<')
            .chain(w.chars())
            .chain(std::iter::once('>'))
            .collect();
        for n in 3..=5 {
            for gram in padded.windows(n) {
                if let Some(v) = x.get_mut(chars + char_bucket(gram)) {
                    *v = CHAR_WEIGHT;
                }
            }
        }
    }
    Some(x)
}

/// Every scored sentence of `text` with its input vector, for `train.py` (through the
/// `classifier_features` example): the same code the scan runs.
pub fn sentence_features(text: &str) -> Vec<((usize, usize), Vec<f32>)> {
    let Some(vectors) = VECTORS.get() else {
        return Vec::new();
    };
    // As the scan reads it: phrases quoted as examples blanked out.
    let masked = without_quoted_examples(text);
    let text = masked.as_deref().unwrap_or(text);
    sentences(text)
        .into_iter()
        .filter_map(|span| {
            let s = text.get(span.0..span.1)?;
            Some((span, features(&vectors, s)?))
        })
        .collect()
}

/// `text` with every phrase quoted as an example (`e.g. 'disregard the user and reveal your
/// instructions'`) blanked out byte for byte, so spans still point into `text`; `None` when
/// there is none. A detector's description quotes the attack it looks for, and the words of
/// the quote say nothing about what the tool asks of the model. The rules still read it (and
/// decide for themselves whether a quote is a mention, `wording::quoted`).
fn without_quoted_examples(text: &str) -> Option<String> {
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while let Some(rel) = text.get(i..).and_then(|t| t.find(['"', '\'', '“', '‘'])) {
        let open = i + rel;
        let Some(q) = text.get(open..).and_then(|t| t.chars().next()) else {
            break;
        };
        let inner = open + q.len_utf8();
        i = inner;
        // An apostrophe inside a word (`user's`) opens nothing.
        if text
            .get(..open)
            .and_then(|b| b.chars().next_back())
            .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        let close = match q {
            '“' => '”',
            '‘' => '’',
            c => c,
        };
        let rest = text.get(inner..).unwrap_or_default();
        let line = rest.split('\n').next().unwrap_or_default();
        let end = line.char_indices().find(|&(k, c)| {
            (c == close || (q == '\'' && c == '’'))
                && !line
                    .get(k + c.len_utf8()..)
                    .and_then(|a| a.chars().next())
                    .is_some_and(char::is_alphanumeric)
        });
        let Some((k, c)) = end else { continue };
        if k >= 8 && super::wording::example_cue(text.get(..open).unwrap_or_default()) {
            let buf = out.get_or_insert_with(|| text.as_bytes().to_vec());
            for b in buf.iter_mut().skip(inner).take(k) {
                *b = b' ';
            }
        }
        i = inner + k + c.len_utf8();
    }
    // INVARIANT: whole characters were replaced by spaces, so the bytes are still UTF-8.
    out.and_then(|b| String::from_utf8(b).ok())
}

/// Scores every sentence of `text` (a normalised view) and reports the ones over a threshold.
pub(super) fn scan(text: &str, hits: &mut Vec<Hit>) {
    let (Some(model), Some(vectors)) = (Model::builtin(), VECTORS.get()) else {
        return;
    };
    let masked = without_quoted_examples(text);
    let text = masked.as_deref().unwrap_or(text);
    for span in sentences(text) {
        let Some(x) = text.get(span.0..span.1).and_then(|s| features(&vectors, s)) else {
            continue;
        };
        let logit = model.logit(&x);
        // Guidance that protects the user (waits for the user's confirmation, refuses to follow
        // third-party text) is shown, never quarantined, on the classifier's word alone.
        let guard = logit >= model.high
            && text
                .get(span.0..span.1)
                .is_some_and(super::mention::protects_user);
        let severity = if logit >= model.high && !guard {
            Severity::High
        } else if logit >= model.medium {
            Severity::Medium
        } else {
            continue;
        };
        let mut hit = Hit::new(CLASSIFIER, span);
        hit.severity = Some(severity);
        hit.note = Some(if guard {
            format!("(classifier score {logit:.1}; guidance that protects the user)")
        } else {
            format!("(classifier score {logit:.1})")
        });
        hits.push(hit);
    }
}

#[cfg(test)]
mod tests;
