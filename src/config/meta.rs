//! `[meta]` as written: meta-tools instead of the full tool list, and the optional embedding
//! re-rank of `find_tool`. Data and defaults only; `crate::meta` checks it (`MetaConfig::check`)
//! in the check pass and serves from it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SecretOrValue;

/// `[meta]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaConfig {
    /// Meta mode for every session on this listener.
    #[serde(default)]
    pub enabled: bool,
    /// Meta mode only for principals in one of these groups (instead of `enabled`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Exposed names of tools (or workflows) listed next to the meta-tools.
    #[serde(default)]
    pub always_visible: Vec<String>,
    /// Replaces the description of `find_tool`.
    pub find_tool_description: Option<String>,
    /// Replaces the description of `call_tool`.
    pub call_tool_description: Option<String>,
    /// Tools `find_tool` returns when the caller does not say.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Most tools one `find_tool` call may ask for.
    #[serde(default = "default_max_top_k")]
    pub max_top_k: usize,
    /// More query synonyms: `word = ["what tools say instead", …]`.
    #[serde(default)]
    pub synonyms: BTreeMap<String, Vec<String>>,
    /// Optional embedding re-rank (a network call per search; off by default).
    pub embedding: Option<EmbeddingConfig>,
}

pub(crate) fn default_top_k() -> usize {
    5
}
pub(crate) fn default_max_top_k() -> usize {
    20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// The embeddings endpoint, e.g. `http://127.0.0.1:8080/v1/embeddings` or
    /// `http://127.0.0.1:8080/embed`.
    pub url: String,
    /// `openai` (request `{model, input}`, response `data[].embedding`) or `tei` (request
    /// `{inputs}`, response an array of vectors).
    #[serde(default)]
    pub api: EmbeddingApi,
    /// Model name sent with `openai` requests.
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer …`.
    pub api_key: Option<SecretOrValue>,
    /// Share of the final score that comes from the embedding (0–1); the rest is BM25.
    #[serde(default = "default_weight")]
    pub weight: f32,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_weight() -> f32 {
    0.6
}
fn default_timeout() -> u64 {
    2000
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingApi {
    #[default]
    Openai,
    Tei,
}
