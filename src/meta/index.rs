//! The `find_tool` search index: BM25F over a tool's name, title, description, argument names,
//! argument descriptions and backend, with query expansion through [`Synonyms`].
//!
//! BM25F (Robertson et al., "Simple BM25 extension to multiple weighted fields") combines the
//! length-normalised term frequencies of all fields with per-field weights before the one
//! saturation step, so a word in a tool's name counts more than the same word in a long
//! description without a rare word in a description being drowned. Every weight is known when
//! the index is built, so each posting stores its finished contribution (`idf × saturated tf`)
//! and a query is a sum over a few posting lists: no allocation per document, no sort of the
//! whole catalog (a partial select picks the top k).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::centroid::{centre, centre_query};
use super::idioms;
use super::semantic::StaticVectors;
use super::synonyms::{SYNONYM_WEIGHT, Synonyms};
use super::text::{Analyzer, words};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;

/// How strongly a document is scaled by the share of typed words it covers.
const COORDINATION: f32 = 1.0;

/// Weight of a neighbour word (cosine `sim` to the typed word) in a [`Mode::Semantic`] query.
/// Linear from 0 at [`NEIGHBOUR_FLOOR`] to [`SYNONYM_WEIGHT`] at 1: a near word counts like a
/// listed synonym, a loose one hardly at all.
fn neighbour_weight(sim: f32) -> f32 {
    if sim <= NEIGHBOUR_FLOOR {
        return 0.0;
    }
    SYNONYM_WEIGHT * (sim - NEIGHBOUR_FLOOR) / (1.0 - NEIGHBOUR_FLOOR)
}

/// Least cosine similarity at which a neighbour word joins a query.
const NEIGHBOUR_FLOOR: f32 = 0.5;

/// Share of a [`Mode::Semantic`] score that comes from the static vectors' cosine.
const SEMANTIC_WEIGHT: f32 = 0.35;

/// Least keyword score that counts as a full match in a [`Mode::Semantic`] blend: keyword
/// scores are divided by the best one, but by no less than this, so a need whose best match is
/// a weak one (a loose neighbour word, a single common word) is not stretched to a full-weight
/// match that drowns the cosine. About one well-matched rare word in a catalog of a hundred
/// tools (a word's idf grows with the catalog, so a large catalog passes it more easily).
const KEYWORD_FLOOR: f32 = 8.0;

/// The fields of a tool that are searched, with their weight and length normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    Title,
    Description,
    ArgNames,
    ArgDescriptions,
    Backend,
}

const FIELDS: [Field; 6] = [
    Field::Name,
    Field::Title,
    Field::Description,
    Field::ArgNames,
    Field::ArgDescriptions,
    Field::Backend,
];

impl Field {
    fn weight(self) -> f32 {
        match self {
            Field::Name => 3.0,
            Field::Title => 2.0,
            Field::Description => 1.0,
            Field::ArgNames => 1.0,
            Field::ArgDescriptions => 0.4,
            Field::Backend => 1.0,
        }
    }
    /// How much a long field is discounted (BM25's `b`).
    fn b(self) -> f32 {
        match self {
            Field::Name | Field::Title | Field::Backend => 0.3,
            Field::Description => 0.75,
            Field::ArgNames | Field::ArgDescriptions => 0.5,
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Shared, read-only text machinery: one per gateway.
pub struct Lexicon {
    pub analyzer: Analyzer,
    pub synonyms: Synonyms,
    /// Word-piece vectors for [`Mode::Semantic`]; `None` leaves that mode to keywords alone.
    pub vectors: Option<&'static StaticVectors>,
}

/// One tool to index: its exposed name, the backend it comes from (if any) and its definition
/// as listed (`name`, `title`, `description`, `inputSchema`, `annotations.title`).
pub struct DocInput<'a> {
    pub name: &'a str,
    pub backend: Option<&'a str>,
    pub definition: &'a Value,
}

/// A search result: the document's position in the order it was indexed, and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub doc: u32,
    pub score: f32,
}

/// How a query is expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The words of the query only (the baseline in the retrieval benchmark).
    Keywords,
    /// The words of the query and their synonyms.
    Expanded,
    /// [`Mode::Expanded`] blended with the cosine similarity of static word vectors, over every
    /// admitted tool: a query that shares no word with any tool still ranks them all.
    Semantic,
}

pub struct Index {
    lexicon: Arc<Lexicon>,
    names: Vec<String>,
    by_name: HashMap<String, u32>,
    terms: HashMap<String, u32>,
    /// Per term: (document, finished score contribution), documents ascending.
    postings: Vec<Vec<(u32, f32)>>,
    /// The catalog's words of [`MIN_TYPO_LEN`] letters or more, with their term, by word: what
    /// a typo is matched against.
    words: Vec<(String, u32)>,
    /// Unit vectors of the documents' text, `dims` signed bytes each (zeros when none is
    /// known), times the document's scale in `scales`; empty without static vectors. A byte
    /// per dimension keeps a 10,000-tool index at 2.5 MB of vectors and the scan of all of
    /// them, most of a search's time, a quarter of the memory traffic of floats.
    vectors: Vec<i8>,
    scales: Vec<f32>,
    dims: usize,
    /// The mean of the tools' vectors, taken out of each of them and of a need's.
    mean: Option<Vec<f32>>,
}

impl Index {
    pub fn build<'a>(lexicon: Arc<Lexicon>, docs: impl IntoIterator<Item = DocInput<'a>>) -> Index {
        let analyzer = &lexicon.analyzer;
        // Per document: per field, term → frequency; and per field, length.
        let mut per_doc: Vec<[HashMap<String, u32>; 6]> = Vec::new();
        let mut lens: Vec<[u32; 6]> = Vec::new();
        let mut names = Vec::new();
        let mut by_name = HashMap::new();
        let mut vectors: Vec<i8> = Vec::new();
        let mut scales: Vec<f32> = Vec::new();
        // Words of the catalog long enough to be matched as a typo, and their terms.
        let mut surface: HashMap<String, String> = HashMap::new();
        let mut fvecs: Vec<Vec<f32>> = Vec::new();
        for d in docs {
            let Ok(doc) = u32::try_from(names.len()) else {
                break;
            };
            if by_name.contains_key(d.name) {
                continue;
            }
            let mut fields: [HashMap<String, u32>; 6] = Default::default();
            let mut len = [0u32; 6];
            for f in FIELDS {
                let terms = field_terms(analyzer, f, &d);
                if let (Some(slot), Some(l)) = (fields.get_mut(f.index()), len.get_mut(f.index())) {
                    *l = u32::try_from(terms.len()).unwrap_or(u32::MAX);
                    for (w, t) in terms {
                        if w.len() >= MIN_TYPO_LEN && !surface.contains_key(&w) {
                            surface.insert(w, t.clone());
                        }
                        *slot.entry(t).or_insert(0) += 1;
                    }
                }
            }
            per_doc.push(fields);
            lens.push(len);
            if let Some(sv) = lexicon.vectors {
                fvecs.push(
                    sv.embed(&embedding_text(d.name, d.definition))
                        .unwrap_or_else(|| vec![0.0; sv.dims()]),
                );
            }
            by_name.insert(d.name.to_owned(), doc);
            names.push(d.name.to_owned());
        }
        // The catalog's common direction out of every tool vector (`centroid.rs`).
        let mean = centre(&mut fvecs);
        for v in &fvecs {
            let (q, scale) = quantise(v, i32::from(i8::MAX));
            vectors.extend(q.into_iter().map(|x| i8::try_from(x).unwrap_or(0)));
            scales.push(scale);
        }
        let n = names.len().max(1) as f32;
        let mut avg = [0f32; 6];
        for l in &lens {
            for (a, x) in avg.iter_mut().zip(l.iter()) {
                *a += *x as f32 / n;
            }
        }
        // Combined, normalised term frequency per (term, doc).
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut raw: Vec<Vec<(u32, f32)>> = Vec::new();
        for (doc, (fields, len)) in per_doc.iter().zip(lens.iter()).enumerate() {
            let doc = u32::try_from(doc).unwrap_or(u32::MAX);
            let mut combined: HashMap<&str, f32> = HashMap::new();
            for f in FIELDS {
                let i = f.index();
                let (Some(tf), Some(l), Some(a)) = (fields.get(i), len.get(i), avg.get(i)) else {
                    continue;
                };
                let norm = 1.0 - f.b() + f.b() * (*l as f32) / a.max(1.0);
                for (t, c) in tf {
                    *combined.entry(t.as_str()).or_insert(0.0) += f.weight() * (*c as f32) / norm;
                }
            }
            for (t, tf) in combined {
                let next = u32::try_from(raw.len()).unwrap_or(u32::MAX);
                let id = *terms.entry(t.to_owned()).or_insert(next);
                if id == next {
                    raw.push(Vec::new());
                }
                if let Some(p) = raw.get_mut(id as usize) {
                    p.push((doc, tf));
                }
            }
        }
        let postings = raw
            .into_iter()
            .map(|list| {
                let df = list.len() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                list.into_iter()
                    .map(|(d, tf)| (d, idf * tf * (K1 + 1.0) / (tf + K1)))
                    .collect()
            })
            .collect();
        let dims = lexicon.vectors.map_or(0, StaticVectors::dims);
        let mut spelled: Vec<(String, u32)> = surface
            .into_iter()
            .filter_map(|(w, t)| terms.get(&t).map(|id| (w, *id)))
            .collect();
        spelled.sort();
        Index {
            mean,
            lexicon,
            names,
            by_name,
            terms,
            postings,
            words: spelled,
            vectors,
            scales,
            dims,
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The exposed name of a document.
    pub fn name(&self, doc: u32) -> Option<&str> {
        self.names.get(doc as usize).map(String::as_str)
    }

    /// The document of an exposed name.
    pub fn doc(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The weighted terms of a query: what the user typed at weight 1, synonyms lower. Each
    /// term carries the bit of every typed word ("concept") it stands for.
    pub fn query(&self, query: &str, mode: Mode) -> Query {
        let lex = &self.lexicon;
        // (term, the word typed)
        let mut typed: Vec<(String, String)> = Vec::new();
        for w in words(query) {
            if let Some(t) = lex.analyzer.term(&w) {
                if !typed.iter().any(|(x, _)| *x == t) {
                    typed.push((t, w));
                }
            }
        }
        let neighbours = match (mode, lex.vectors) {
            (Mode::Semantic, Some(v)) => Some(v),
            _ => None,
        };
        // term → (weight, concepts)
        let mut weights: HashMap<u32, (f32, u64)> = HashMap::new();
        let mut concepts = 0u32;
        let expand = mode != Mode::Keywords;
        // What the shape of its tokens and its idioms say ("file a bug": create, not a file).
        let mut hints: Vec<String> = Vec::new();
        let mut text = query.to_owned();
        // (typo, the catalog's word it is taken for)
        let mut corrected: Vec<(String, String)> = Vec::new();
        if expand {
            let reading = idioms::read(query);
            // The vectors see the need without the words of names and idioms, and with what
            // those say instead.
            let mut kept: Vec<String> = words(query)
                .into_iter()
                .filter(|w| !reading.drop.contains(w))
                .collect();
            kept.extend(reading.hints.iter().cloned());
            text = kept.join(" ");
            typed.retain(|(_, w)| !reading.drop.contains(w));
            for h in &reading.hints {
                if let Some(t) = lex.analyzer.term(h) {
                    if !hints.contains(&t) {
                        hints.push(t);
                    }
                }
            }
        }
        let hinted = hints.iter().map(|h| (h, None));
        for (t, word) in typed.iter().map(|(t, w)| (t, Some(w))).chain(hinted) {
            let hint = word.is_none();
            let mut members: Vec<(u32, f32)> = Vec::new();
            if let Some(id) = self.terms.get(t.as_str()) {
                members.push((*id, if hint { SYNONYM_WEIGHT } else { 1.0 }));
            }
            if expand && !hint {
                for s in lex.synonyms.of(t) {
                    if let Some(id) = self.terms.get(s) {
                        members.push((*id, SYNONYM_WEIGHT));
                    }
                }
            }
            // Words the model places near the typed one, weighted by how near.
            if let (Some(v), Some(word)) = (neighbours, word) {
                for (n, sim) in v.neighbours(word) {
                    let Some(nt) = lex.analyzer.term(n) else {
                        continue;
                    };
                    if let Some(id) = self.terms.get(nt.as_str()) {
                        members.push((*id, neighbour_weight(sim)));
                    }
                }
            }
            // A word neither the catalog nor the vectors know may be a typo of one the catalog
            // uses ("direcotry"): the catalog's terms one edit away, as a synonym.
            let typo = word.filter(|w| {
                expand
                    && members.is_empty()
                    && w.len() >= MIN_TYPO_LEN
                    && neighbours.is_none_or(|v| v.neighbours(w).next().is_none())
            });
            if let Some(w) = typo {
                let near = self.words.iter().filter(|(c, _)| one_edit(w, c));
                for (c, id) in near.take(MAX_TYPO_MATCHES) {
                    if members.is_empty() {
                        corrected.push((w.clone(), c.clone()));
                    }
                    members.push((*id, SYNONYM_WEIGHT));
                }
            }
            // A word nothing in the catalog says (a name, a number) is no concept to cover.
            if members.is_empty() || concepts >= 64 {
                continue;
            }
            let bit = 1u64 << concepts;
            concepts += 1;
            for (id, w) in members {
                if w <= 0.0 {
                    continue;
                }
                let e = weights.entry(id).or_insert((0.0, 0));
                e.0 = e.0.max(w);
                e.1 |= bit;
            }
        }
        // The vectors see the word the typo stands for.
        if !corrected.is_empty() {
            text = text
                .split(' ')
                .map(|w| {
                    corrected
                        .iter()
                        .find(|(typo, _)| typo == w)
                        .map_or(w, |(_, c)| c.as_str())
                })
                .collect::<Vec<_>>()
                .join(" ");
        }
        let mut terms: Vec<(u32, f32, u64)> =
            weights.into_iter().map(|(id, (w, c))| (id, w, c)).collect();
        terms.sort_by_key(|(id, _, _)| *id);
        Query {
            terms,
            concepts,
            coordinate: expand,
            text,
        }
    }

    /// Every document with a non-zero score for `query`, unsorted. `scratch` must hold
    /// [`Index::len`] zeros and is left zeroed.
    pub fn score_all(&self, query: &Query, scratch: &mut [(f32, u64)]) -> Vec<Hit> {
        let mut touched: Vec<u32> = Vec::new();
        for (term, w, concepts) in &query.terms {
            let Some(list) = self.postings.get(*term as usize) else {
                continue;
            };
            for (doc, s) in list {
                if let Some(slot) = scratch.get_mut(*doc as usize) {
                    if slot.1 == 0 {
                        touched.push(*doc);
                    }
                    slot.0 += w * s;
                    slot.1 |= concepts;
                }
            }
        }
        let all = query.concepts.max(1) as f32;
        touched
            .into_iter()
            .map(|doc| {
                let (score, covered) = scratch
                    .get_mut(doc as usize)
                    .map(std::mem::take)
                    .unwrap_or_default();
                // Coordination: a tool that answers more of what was asked ranks above one
                // that matches a single word very well.
                let score = if query.coordinate {
                    let c = covered.count_ones() as f32 / all;
                    score * c.powf(COORDINATION)
                } else {
                    score
                };
                Hit { doc, score }
            })
            .collect()
    }

    /// The best `k` documents for `query` among those `allowed` admits, best first; ties go to
    /// the document indexed first, so the same catalog and query always give the same answer.
    pub fn search(
        &self,
        query: &str,
        k: usize,
        mode: Mode,
        allowed: impl Fn(u32) -> bool,
    ) -> Vec<Hit> {
        let q = self.query(query, mode);
        let mut scratch = vec![(0f32, 0u64); self.names.len()];
        let hits: Vec<Hit> = self
            .score_all(&q, &mut scratch)
            .into_iter()
            .filter(|h| allowed(h.doc))
            .collect();
        if mode == Mode::Semantic {
            return self.blend(&q.text, hits, k, allowed);
        }
        top_k(hits, k)
    }

    /// The quantised unit vector of a document and its scale (empty without static vectors).
    fn vector(&self, doc: u32) -> (&[i8], f32) {
        let start = doc as usize * self.dims;
        let v = self.vectors.get(start..start + self.dims).unwrap_or(&[]);
        (v, self.scales.get(doc as usize).copied().unwrap_or(0.0))
    }

    /// Keyword scores (of admitted documents) blended with the cosine similarity of every
    /// admitted document, both vectors less the catalog's mean (`centroid.rs`):
    /// `(1 - w) · bm25 / max(max bm25, KEYWORD_FLOOR) + w · max(cos, 0)`. Every
    /// admitted document gets a score, so the answer is empty only when nothing is admitted.
    fn blend(
        &self,
        query: &str,
        keyword: Vec<Hit>,
        k: usize,
        allowed: impl Fn(u32) -> bool,
    ) -> Vec<Hit> {
        let max = keyword
            .iter()
            .map(|h| h.score)
            .fold(0.0f32, f32::max)
            .max(KEYWORD_FLOOR);
        let mut kw = vec![0f32; self.names.len()];
        for h in &keyword {
            if let Some(s) = kw.get_mut(h.doc as usize) {
                *s = h.score / max;
            }
        }
        // The query in 16 bits against the documents' 8: the cosine within about 0.001 of
        // the float one (`tests.rs` checks), as integer arithmetic the compiler vectorises.
        let qv = self.lexicon.vectors.and_then(|v| v.embed(query)).map(|q| {
            let q = centre_query(q, self.mean.as_deref());
            let (q, scale) = quantise(&q, query_max(self.dims));
            let q: Vec<i16> = q
                .into_iter()
                .map(|x| i16::try_from(x).unwrap_or(0))
                .collect();
            (q, scale)
        });
        let w = if qv.is_some() { SEMANTIC_WEIGHT } else { 0.0 };
        let hits = (0..self.names.len())
            .filter_map(|d| u32::try_from(d).ok())
            .filter(|d| allowed(*d))
            .map(|doc| {
                let cos = qv.as_ref().map_or(0.0, |(q, qs)| {
                    let (v, vs) = self.vector(doc);
                    (dot_q(q, v) as f32 * qs * vs).max(0.0)
                });
                let k = kw.get(doc as usize).copied().unwrap_or(0.0);
                Hit {
                    doc,
                    score: (1.0 - w) * k + w * cos,
                }
            })
            .collect();
        top_k(hits, k)
    }
}

/// An analysed query.
pub struct Query {
    /// (term, weight, bits of the typed words it stands for), by term id.
    terms: Vec<(u32, f32, u64)>,
    /// Typed words that the catalog's vocabulary can match.
    concepts: u32,
    /// Whether scores are scaled by the share of typed words a document covers.
    coordinate: bool,
    /// What the static vectors embed.
    text: String,
}

/// `v` scaled so its largest magnitude is `max`, rounded, and the scale that undoes it.
pub(super) fn quantise(v: &[f32], max: i32) -> (Vec<i32>, f32) {
    let max = max as f32;
    let top = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if top <= f32::EPSILON {
        return (vec![0; v.len()], 0.0);
    }
    let k = max / top;
    // INVARIANT: |x · k| ≤ max, so each value fits the type `max` came from.
    (
        v.iter().map(|x| (x * k).round() as i32).collect(),
        top / max,
    )
}

/// The largest magnitude of a quantised query over `dims` dimensions: 16 bits, or less when
/// `dims` products of it and a document's byte could leave `i32`.
pub(super) fn query_max(dims: usize) -> i32 {
    let per = i32::from(i8::MAX).saturating_mul(i32::try_from(dims.max(1)).unwrap_or(i32::MAX));
    (i32::MAX / per).min(i32::from(i16::MAX))
}

/// Dot product of a 16-bit and an 8-bit vector: 16 independent lanes of exact integer sums,
/// which the compiler turns into multiply-add instructions. Within `i32` when the query was
/// quantised to [`query_max`].
pub(super) fn dot_q(q: &[i16], v: &[i8]) -> i32 {
    let mut lanes = [0i32; 16];
    let mut cq = q.chunks_exact(16);
    let mut cv = v.chunks_exact(16);
    for (x, y) in (&mut cq).zip(&mut cv) {
        for ((l, a), b) in lanes.iter_mut().zip(x).zip(y) {
            *l += i32::from(*a) * i32::from(*b);
        }
    }
    let tail: i32 = cq
        .remainder()
        .iter()
        .zip(cv.remainder())
        .map(|(a, b)| i32::from(*a) * i32::from(*b))
        .sum();
    lanes.iter().sum::<i32>() + tail
}

/// Shortest word that is matched as a typo: shorter words are one edit away from too
/// many others.
const MIN_TYPO_LEN: usize = 5;

/// Most catalog terms a typo stands for.
const MAX_TYPO_MATCHES: usize = 3;

/// Whether `a` becomes `b` by one edit (a letter changed, added, removed, or two neighbours
/// swapped) after the same first letter: a typo, rarely made in a word's first letter.
pub(super) fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b || a.first() != b.first() || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (
        a.get(prefix..).unwrap_or(&[]),
        b.get(prefix..).unwrap_or(&[]),
    );
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            // Changed, or swapped with the next.
            ra.get(1..) == rb.get(1..)
                || (ra.len() >= 2
                    && ra.first() == rb.get(1)
                    && ra.get(1) == rb.first()
                    && ra.get(2..) == rb.get(2..))
        }
        std::cmp::Ordering::Less => ra == rb.get(1..).unwrap_or(&[]),
        std::cmp::Ordering::Greater => ra.get(1..).unwrap_or(&[]) == rb,
    }
}

/// The `k` best hits, best first, ties by document order.
pub fn top_k(mut hits: Vec<Hit>, k: usize) -> Vec<Hit> {
    let order = |a: &Hit, b: &Hit| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc));
    if k == 0 {
        return Vec::new();
    }
    if hits.len() > k {
        hits.select_nth_unstable_by(k - 1, order);
        hits.truncate(k);
    }
    hits.sort_by(order);
    hits
}

/// The words of one field of a tool, each with its term.
fn field_terms(analyzer: &Analyzer, field: Field, d: &DocInput<'_>) -> Vec<(String, String)> {
    let def = d.definition;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let props = def
        .get("inputSchema")
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object);
    match field {
        Field::Name => pairs(analyzer, d.name),
        Field::Title => {
            let mut t = text(def.get("title"));
            if t.is_empty() {
                t = text(def.get("annotations").and_then(|a| a.get("title")));
            }
            pairs(analyzer, &t)
        }
        Field::Description => pairs(analyzer, &text(def.get("description"))),
        Field::ArgNames => props
            .map(|p| p.keys().flat_map(|k| pairs(analyzer, k)).collect())
            .unwrap_or_default(),
        Field::ArgDescriptions => props
            .map(|p| {
                p.values()
                    .flat_map(|v| pairs(analyzer, &text(v.get("description"))))
                    .collect()
            })
            .unwrap_or_default(),
        Field::Backend => d.backend.map(|b| pairs(analyzer, b)).unwrap_or_default(),
    }
}

/// The (word, term) pairs of `text`, stop words left out.
fn pairs(analyzer: &Analyzer, text: &str) -> Vec<(String, String)> {
    words(text)
        .into_iter()
        .filter_map(|w| analyzer.term(&w).map(|t| (w, t)))
        .collect()
}

/// The text of a tool that an embedding model and the static vectors see: name, title,
/// description, argument names (the arguments say what a tool acts on: `latitude`, `channel`).
pub fn embedding_text(name: &str, definition: &Value) -> String {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let args: Vec<String> = definition
        .get("inputSchema")
        .and_then(|x| x.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut t = words(name).join(" ");
    let title = s(definition.get("title"));
    if !title.is_empty() {
        t.push_str(". ");
        t.push_str(&title);
    }
    let desc = s(definition.get("description"));
    if !desc.is_empty() {
        t.push_str(". ");
        t.push_str(&desc);
    }
    if !args.is_empty() {
        t.push_str(". Arguments: ");
        t.push_str(&args.join(", "));
    }
    t
}
