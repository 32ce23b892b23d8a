//! Token accounting with a real tokenizer: OpenAI's o200k BPE (the GPT-4o / o-series / GPT-5
//! vocabulary) from `tiktoken-rs`, whose ranks ship inside the crate. Counts are of the JSON a
//! client puts in a model's context, compact as the gateway sends it.

use std::sync::OnceLock;

use serde_json::Value;
use tiktoken_rs::CoreBPE;

/// Why tokens cannot be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenCountError {
    /// The o200k ranks built into `tiktoken-rs` did not load (a corrupt build: reinstall).
    #[error("cannot load the o200k tokenizer: {0}")]
    Load(String),
}

static O200K: OnceLock<Result<CoreBPE, TokenCountError>> = OnceLock::new();

fn bpe() -> Result<&'static CoreBPE, TokenCountError> {
    O200K
        .get_or_init(|| tiktoken_rs::o200k_base().map_err(|e| TokenCountError::Load(e.to_string())))
        .as_ref()
        .map_err(Clone::clone)
}

/// o200k tokens of `text`.
pub fn count(text: &str) -> Result<usize, TokenCountError> {
    Ok(bpe()?.encode_ordinary(text).len())
}

/// o200k tokens of a `tools/list` result holding `tools` (compact JSON).
pub fn count_tool_list(tools: &[Value]) -> Result<usize, TokenCountError> {
    let list = serde_json::json!({ "tools": tools });
    count(&list.to_string())
}

/// One line of `portcullis catalog tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub full_tools: usize,
    pub full_tokens: usize,
    pub meta_tools: usize,
    pub meta_tokens: usize,
}

impl Comparison {
    /// Count both lists: the full catalog's and what a meta-mode session lists.
    pub fn new(full: &[Value], meta: &[Value]) -> Result<Self, TokenCountError> {
        Ok(Comparison {
            full_tools: full.len(),
            full_tokens: count_tool_list(full)?,
            meta_tools: meta.len(),
            meta_tokens: count_tool_list(meta)?,
        })
    }

    /// Tokens saved, in percent of the full list.
    pub fn saving_percent(&self) -> f64 {
        if self.full_tokens == 0 {
            return 0.0;
        }
        100.0 * (1.0 - self.meta_tokens as f64 / self.full_tokens as f64)
    }
}
