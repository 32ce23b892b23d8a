//! Meta-tools: instead of the full catalog, a session in meta mode lists `find_tool` and
//! `call_tool` (plus tools configured as always visible). `find_tool` searches the tools this
//! principal may call (the same policy and integrity decisions as `tools/list`) and returns the
//! best few with their full definitions; `call_tool` runs one by its exposed name through the
//! full guard chain. A model then pays for two tool schemas instead of hundreds.
//!
//! This module owns the config (`[meta]`), the search (`index`: BM25F with stemming (`text`),
//! synonym expansion (`synonyms`) and field weights; optional embedding re-rank (`embed`)),
//! the meta-tools' definitions, and token accounting (`tokens`, `cli`). The session glue that
//! reads the principal's visible tools and dispatches calls is `router::meta`.

pub mod cache;
pub mod centroid;
pub mod embed;
pub mod idioms;
pub mod index;
pub mod semantic;
pub mod synonyms;
pub mod text;
pub mod tokens;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::identity::Principal;
use index::{Hit, Index, Lexicon, Mode};

pub const FIND_TOOL: &str = "find_tool";
pub const CALL_TOOL: &str = "call_tool";

const DEFAULT_FIND_DESCRIPTION: &str = "Search the tools available to you. Only `find_tool` and \
`call_tool` are listed, to keep your context small; many more tools exist. Describe what you want \
to do in plain words (e.g. \"list the files in a folder\", \"post a message to a channel\"). \
Returns the best matching tools with their full definitions: name, description and input \
schema. Then run one with `call_tool`.";

const DEFAULT_CALL_DESCRIPTION: &str = "Run a tool found with `find_tool`: give its exact `name` \
and its `arguments` as described by its input schema. The result is the tool's own result.";

pub use crate::config::meta::MetaConfig;

/// Most tools a `find_tool` call may ever return.
const TOP_K_CEILING: usize = 100;

impl MetaConfig {
    /// Checks what serde cannot (run by the check pass, `crate::checks`): `Err((key, message))`.
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((k.to_owned(), m.to_owned()));
        if self.enabled && !self.groups.is_empty() {
            return bad(
                "groups",
                "set either `enabled = true` (meta mode for every session) or `groups = [...]` (only for those groups), not both",
            );
        }
        if self.groups.iter().any(|g| g.trim().is_empty()) {
            return bad("groups", "group names must not be empty");
        }
        if self.max_top_k == 0 || self.max_top_k > TOP_K_CEILING {
            return bad(
                "max_top_k",
                &format!("must be between 1 and {TOP_K_CEILING}"),
            );
        }
        if self.top_k == 0 || self.top_k > self.max_top_k {
            return bad("top_k", "must be between 1 and `max_top_k`");
        }
        for name in &self.always_visible {
            if name.is_empty() || name == FIND_TOOL || name == CALL_TOOL {
                return bad(
                    "always_visible",
                    &format!(
                        "`{name}` cannot be listed here: give exposed tool or workflow names (the meta-tools are always listed)"
                    ),
                );
            }
        }
        for (k, d) in [
            ("find_tool_description", &self.find_tool_description),
            ("call_tool_description", &self.call_tool_description),
        ] {
            if d.as_ref().is_some_and(|d| d.trim().is_empty()) {
                return bad(k, "must not be empty (remove it for the default)");
            }
        }
        if let Some(e) = &self.embedding {
            match url::Url::parse(&e.url) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => {
                    return bad(
                        "embedding.url",
                        &format!("`{}` must be an http or https URL", e.url),
                    );
                }
            }
            if !(0.0..=1.0).contains(&e.weight) {
                return bad("embedding.weight", "must be between 0 and 1");
            }
            if e.timeout_ms == 0 {
                return bad("embedding.timeout_ms", "must be at least 1");
            }
        }
        Ok(())
    }
}

/// Shared by every session: the meta config, the analyzer and synonyms, the embedder.
pub struct Runtime {
    config: Option<MetaConfig>,
    lexicon: cache::LexiconSource,
    embedder: Option<embed::Embedder>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            config: None,
            lexicon: cache::LexiconSource::new(|| Arc::new(lexicon(&BTreeMap::new()))),
            embedder: None,
        }
    }
}

/// The analyzer and synonym table (built-in plus `extra`).
pub fn lexicon(extra: &BTreeMap<String, Vec<String>>) -> Lexicon {
    let analyzer = text::Analyzer::new();
    let synonyms = synonyms::Synonyms::new(&analyzer, extra);
    // INVARIANT: the table is embedded at build time and parsed by a test
    // (`semantic::tests`), so `None` here means a corrupt build, never a missing file.
    let vectors = match semantic::StaticVectors::builtin() {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "static vectors unusable; find_tool ranks by keywords only");
            None
        }
    };
    Lexicon {
        analyzer,
        synonyms,
        vectors,
    }
}

impl Runtime {
    /// The meta-tools as `config` sets them (off when absent), with its embedder when
    /// `meta.embedding` is set; an embedder that cannot be built is an error.
    pub fn new(
        config: Option<&MetaConfig>,
        base: &Path,
        egress: &Arc<crate::egress::Egress>,
    ) -> Result<Runtime, embed::EmbedError> {
        let extra = config.map(|c| c.synonyms.clone()).unwrap_or_default();
        let lexicon = cache::LexiconSource::new(move || Arc::new(lexicon(&extra)));
        let embedder = match config.and_then(|c| c.embedding.clone()) {
            Some(e) => Some(embed::Embedder::new(e, base, egress)?),
            None => None,
        };
        Ok(Runtime {
            config: config.cloned(),
            lexicon,
            embedder,
        })
    }

    pub fn lexicon(&self) -> Arc<Lexicon> {
        self.lexicon.get()
    }

    /// The lexicon, made when an index first needs it.
    pub fn lexicon_source(&self) -> cache::LexiconSource {
        self.lexicon.clone()
    }

    /// Whether sessions of this principal list the meta-tools instead of the catalog.
    pub fn applies_to(&self, principal: &Principal) -> bool {
        match &self.config {
            None => false,
            Some(c) if c.enabled => true,
            Some(c) => principal.groups.iter().any(|g| c.groups.contains(g)),
        }
    }

    pub fn always_visible(&self) -> &[String] {
        self.config
            .as_ref()
            .map(|c| c.always_visible.as_slice())
            .unwrap_or(&[])
    }

    /// The number of tools to return for a requested `top_k`.
    pub fn top_k(&self, requested: Option<u64>) -> usize {
        let (default, max) = self.config.as_ref().map_or(
            (
                crate::config::meta::default_top_k(),
                crate::config::meta::default_max_top_k(),
            ),
            |c| (c.top_k, c.max_top_k),
        );
        match requested {
            Some(k) => usize::try_from(k).unwrap_or(max).clamp(1, max),
            None => default,
        }
    }

    /// The definitions of `find_tool` and `call_tool`.
    pub fn meta_tools(&self) -> Vec<Value> {
        let c = self.config.as_ref();
        let max = c.map_or(crate::config::meta::default_max_top_k(), |c| c.max_top_k);
        let find_desc = c
            .and_then(|c| c.find_tool_description.clone())
            .unwrap_or_else(|| DEFAULT_FIND_DESCRIPTION.to_owned());
        let call_desc = c
            .and_then(|c| c.call_tool_description.clone())
            .unwrap_or_else(|| DEFAULT_CALL_DESCRIPTION.to_owned());
        vec![
            json!({
                "name": FIND_TOOL,
                "title": "Find a tool",
                "description": find_desc,
                "inputSchema": {
                    "type": "object",
                    "properties": {
                        "query": { "type": "string", "description": "The task, in plain words" },
                        "top_k": { "type": "integer", "minimum": 1, "maximum": max, "description": "How many tools to return" }
                    },
                    "required": ["query"]
                },
                "annotations": { "readOnlyHint": true, "openWorldHint": false }
            }),
            json!({
                "name": CALL_TOOL,
                "title": "Call a tool",
                "description": call_desc,
                "inputSchema": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "The tool's exact name, from find_tool" },
                        "arguments": { "type": "object", "description": "The tool's arguments" }
                    },
                    "required": ["name"]
                }
            }),
        ]
    }

    /// Rank the documents of `index` for `query` among those `allowed` admits: keywords with
    /// synonyms, then (when configured) blended with embedding similarity. `definitions` are
    /// the indexed tools in index order (for the embedding text).
    pub async fn rank(
        &self,
        index: &Index,
        definitions: &[Value],
        query: &str,
        k: usize,
        allowed: &[bool],
    ) -> Vec<Hit> {
        let admit = |d: u32| allowed.get(d as usize).copied().unwrap_or(false);
        let Some(embedder) = &self.embedder else {
            return index.search(query, k, Mode::Semantic, admit);
        };
        match self
            .rank_embedded(embedder, index, definitions, query, k, allowed)
            .await
        {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(error = %e, "embedding re-rank failed; answering from the built-in ranking");
                index.search(query, k, Mode::Semantic, admit)
            }
        }
    }

    async fn rank_embedded(
        &self,
        embedder: &embed::Embedder,
        index: &Index,
        definitions: &[Value],
        query: &str,
        k: usize,
        allowed: &[bool],
    ) -> Result<Vec<Hit>, embed::EmbedError> {
        let docs: Vec<u32> = (0..index.len())
            .filter_map(|d| u32::try_from(d).ok())
            .filter(|d| allowed.get(*d as usize).copied().unwrap_or(false))
            .collect();
        let texts: Vec<String> = docs
            .iter()
            .map(|d| {
                let name = index.name(*d).unwrap_or("");
                let def = definitions.get(*d as usize).unwrap_or(&Value::Null);
                index::embedding_text(name, def)
            })
            .collect();
        let qv = embedder.embed_query(query).await?;
        let vectors = embedder.embed(&texts).await?;
        let q = index.query(query, Mode::Expanded);
        let mut scratch = vec![(0f32, 0u64); index.len()];
        let mut bm25 = vec![0f32; index.len()];
        for h in index.score_all(&q, &mut scratch) {
            if let Some(s) = bm25.get_mut(h.doc as usize) {
                *s = h.score;
            }
        }
        let kw: Vec<f32> = docs
            .iter()
            .map(|d| bm25.get(*d as usize).copied().unwrap_or(0.0))
            .collect();
        let cos: Vec<f32> = vectors.iter().map(|v| embed::cosine(&qv, v)).collect();
        let blended = embed::blend(&kw, &cos, embedder.weight());
        let hits = docs
            .iter()
            .zip(blended)
            .map(|(doc, score)| Hit { doc: *doc, score })
            .collect();
        Ok(index::top_k(hits, k))
    }
}
