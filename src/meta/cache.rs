//! The `find_tool` index cache: one [`ToolIndex`] per catalog version and policy slice (the set
//! of tools a principal may see), built on first use and shared by every session and request
//! that sees the same slice, with bounded memory.
//!
//! The key of a slice is a SHA-256 over its sorted tool names, so two different visible sets
//! can never share an index: an index only ever holds tools its slice may see, and a search
//! needs no visibility mask. Entries are evicted least recently used first when either the
//! number of indexes or the number of indexed tools exceeds its bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::index::{DocInput, Hit, Index, Lexicon, Mode};

/// Which index: the catalog version it was built from and the slice of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IndexKey {
    /// Changes whenever the merged tool list changes (a generation counter, or
    /// [`catalog_version`] of the definitions).
    pub catalog: u64,
    /// SHA-256 of the slice's sorted, length-prefixed tool names.
    pub slice: [u8; 32],
}

impl IndexKey {
    /// The key of the slice of catalog version `catalog` holding exactly `visible`.
    pub fn new<'a>(catalog: u64, visible: impl IntoIterator<Item = &'a str>) -> IndexKey {
        let mut names: Vec<&str> = visible.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let mut h = Sha256::new();
        for n in names {
            h.update((n.len() as u64).to_le_bytes());
            h.update(n.as_bytes());
        }
        IndexKey {
            catalog,
            slice: h.finalize().into(),
        }
    }
}

/// A version number for a list of tool definitions: the first 8 bytes of a SHA-256 over their
/// JSON, in order. For a router that has no generation counter of its own; computed once per
/// merge, not per request.
pub fn catalog_version(definitions: &[Value]) -> u64 {
    let mut h = Sha256::new();
    for d in definitions {
        let s = d.to_string();
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(b)
}

/// One tool to index: exposed name, backend (if any) and definition as listed.
pub struct ToolDoc {
    pub name: String,
    pub backend: Option<String>,
    pub definition: Value,
}

/// The searchable tools of one slice: the index and the definitions in index order.
pub struct ToolIndex {
    index: Index,
    definitions: Vec<Value>,
}

/// One `find_tool` result.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<'a> {
    pub name: &'a str,
    pub score: f32,
    pub definition: &'a Value,
}

impl ToolIndex {
    /// Index `tools` (a name seen twice keeps its first definition).
    pub fn build(lexicon: Arc<Lexicon>, tools: Vec<ToolDoc>) -> ToolIndex {
        let index = Index::build(
            lexicon,
            tools.iter().map(|t| DocInput {
                name: &t.name,
                backend: t.backend.as_deref(),
                definition: &t.definition,
            }),
        );
        // INVARIANT: `Index::build` numbers documents in input order, skipping repeated names;
        // keep the definitions of exactly those documents.
        let mut definitions = Vec::with_capacity(index.len());
        for t in tools {
            if index.doc(&t.name) == u32::try_from(definitions.len()).ok() {
                definitions.push(t.definition);
            }
        }
        ToolIndex { index, definitions }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Definitions in index order (document `d` is `definitions()[d]`).
    pub fn definitions(&self) -> &[Value] {
        &self.definitions
    }

    /// The best `k` tools for `query`, best first, with their scores; empty only when the
    /// slice is.
    pub fn search(&self, query: &str, k: usize) -> Vec<Found<'_>> {
        self.found(&self.index.search(query, k, Mode::Semantic, |_| true))
    }

    /// Hits (from [`Index::search`] or `Runtime::rank`) as results.
    pub fn found(&self, hits: &[Hit]) -> Vec<Found<'_>> {
        hits.iter()
            .filter_map(|h| {
                Some(Found {
                    name: self.index.name(h.doc)?,
                    score: h.score,
                    definition: self.definitions.get(h.doc as usize)?,
                })
            })
            .collect()
    }
}

/// The `find_tool` result for `found`: the definitions as text and `structuredContent`
/// (`tools`), and each tool's name and score (`matches`, best first, scores rounded to 3
/// places), so a caller can see how sure the ranking is.
pub fn find_tool_result(found: &[Found<'_>]) -> Value {
    let tools: Vec<Value> = found.iter().map(|f| f.definition.clone()).collect();
    let matches: Vec<Value> = found
        .iter()
        .map(|f| json!({ "name": f.name, "score": (f64::from(f.score) * 1000.0).round() / 1000.0 }))
        .collect();
    let structured = json!({ "tools": tools, "matches": matches });
    json!({
        "content": [{ "type": "text", "text": structured.to_string() }],
        "structuredContent": structured,
    })
}

/// Bounds of an [`IndexCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheLimits {
    /// Indexes kept at most.
    pub max_indexes: usize,
    /// Tools kept at most, summed over the indexes. Each costs 260 bytes of vector (256
    /// signed bytes and a scale) plus its postings and definition; the default bounded the
    /// cache near 100 MB when the vectors were 1 KB of floats, and now bounds it below that.
    pub max_tools: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            max_indexes: 64,
            max_tools: 50_000,
        }
    }
}

/// Counters of an [`IndexCache`], for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub builds: u64,
    pub evictions: u64,
    pub indexes: usize,
    pub tools: usize,
}

struct Entry {
    index: Arc<ToolIndex>,
    last_used: u64,
}

struct Inner {
    entries: HashMap<IndexKey, Entry>,
    tick: u64,
    stats: CacheStats,
}

/// The lexicon indexes are built with, made on the first build: a gateway whose clients never
/// use `find_tool` never parses the static vectors (1.8 MB of lookup tables) or the synonyms.
#[derive(Clone)]
pub struct LexiconSource {
    make: Arc<dyn Fn() -> Arc<Lexicon> + Send + Sync>,
    made: Arc<OnceLock<Arc<Lexicon>>>,
}

impl LexiconSource {
    pub fn new(make: impl Fn() -> Arc<Lexicon> + Send + Sync + 'static) -> LexiconSource {
        LexiconSource {
            make: Arc::new(make),
            made: Arc::new(OnceLock::new()),
        }
    }

    pub fn get(&self) -> Arc<Lexicon> {
        self.made.get_or_init(|| (self.make)()).clone()
    }
}

impl From<Arc<Lexicon>> for LexiconSource {
    fn from(lexicon: Arc<Lexicon>) -> LexiconSource {
        LexiconSource::new(move || lexicon.clone())
    }
}

/// Indexes by [`IndexKey`], shared by every session; see the module docs.
pub struct IndexCache {
    lexicon: LexiconSource,
    limits: CacheLimits,
    inner: Mutex<Inner>,
}

impl IndexCache {
    pub fn new(lexicon: impl Into<LexiconSource>, limits: CacheLimits) -> IndexCache {
        IndexCache {
            lexicon: lexicon.into(),
            limits,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                tick: 0,
                stats: CacheStats::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only counters and a map of finished
        // indexes: still consistent, so keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The index of `key`, built from `tools()` on a miss (outside the lock: a slow build
    /// never blocks searches of other slices). `tools` must return exactly the slice `key`
    /// names.
    pub fn get_or_build(
        &self,
        key: IndexKey,
        tools: impl FnOnce() -> Vec<ToolDoc>,
    ) -> Arc<ToolIndex> {
        {
            let mut inner = self.lock();
            inner.tick += 1;
            let tick = inner.tick;
            if let Some(e) = inner.entries.get_mut(&key) {
                e.last_used = tick;
                let index = e.index.clone();
                inner.stats.hits += 1;
                return index;
            }
        }
        let built = Arc::new(ToolIndex::build(self.lexicon.get(), tools()));
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        inner.stats.builds += 1;
        // Another request may have built the same slice meanwhile: keep the first.
        if let Some(e) = inner.entries.get_mut(&key) {
            e.last_used = tick;
            return e.index.clone();
        }
        inner.entries.insert(
            key,
            Entry {
                index: built.clone(),
                last_used: tick,
            },
        );
        self.evict(&mut inner, key);
        built
    }

    /// Drop least recently used entries (never `keep`, the one just added) until within the
    /// limits.
    fn evict(&self, inner: &mut Inner, keep: IndexKey) {
        loop {
            let tools: usize = inner.entries.values().map(|e| e.index.len()).sum();
            let over = inner.entries.len() > self.limits.max_indexes.max(1)
                || tools > self.limits.max_tools;
            if !over {
                break;
            }
            let victim = inner
                .entries
                .iter()
                .filter(|(k, _)| **k != keep)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k);
            match victim {
                Some(k) => {
                    inner.entries.remove(&k);
                    inner.stats.evictions += 1;
                }
                None => break,
            }
        }
    }

    /// Forget every index of catalog versions other than `current` (call when the catalog
    /// changes; old entries would otherwise wait for eviction).
    pub fn retain_catalog(&self, current: u64) {
        self.lock().entries.retain(|k, _| k.catalog == current);
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            indexes: inner.entries.len(),
            tools: inner.entries.values().map(|e| e.index.len()).sum(),
            ..inner.stats
        }
    }
}
