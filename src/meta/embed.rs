//! Optional semantic re-ranking: an embeddings endpoint (OpenAI-compatible `/v1/embeddings` or
//! Hugging Face TEI `/embed`) scores every candidate tool by cosine similarity to the query,
//! blended with the normalised BM25 score. Off by default: it puts a network call on the
//! request path. Tool vectors are computed once per distinct tool text and cached; when the
//! endpoint fails, `find_tool` answers from keywords alone and logs why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::config::meta::{EmbeddingApi, EmbeddingConfig};

/// Texts sent in one embeddings request.
const BATCH: usize = 64;
/// Tool vectors kept (distinct tool texts), at most.
const MAX_CACHED: usize = 100_000;

/// Why the embedding endpoint cannot be used, or did not give usable vectors. At start this
/// refuses the config; on the request path `find_tool` answers from keywords and logs it.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// `meta.embedding.api_key` does not resolve.
    #[error("{0}")]
    Key(#[from] crate::config::ConfigError),
    /// The SSRF guard (`[network]`) refuses the endpoint's URL.
    #[error("embedding endpoint `{url}`: {source}")]
    Endpoint {
        url: String,
        source: crate::egress::EgressError,
    },
    /// The HTTP client cannot be built.
    #[error("{0}")]
    Client(reqwest::Error),
    /// The request failed (connection, timeout) or its body could not be read.
    #[error("{0}")]
    Http(reqwest::Error),
    /// The endpoint answered with an error status.
    #[error("embeddings endpoint answered HTTP {0}")]
    Status(reqwest::StatusCode),
    /// The answer is not JSON.
    #[error("{0}")]
    Json(serde_json::Error),
    /// An OpenAI-style answer without its `data` array.
    #[error("no `data` array in the embeddings response")]
    NoData,
    /// A TEI-style answer that is not an array.
    #[error("the embeddings response is not an array")]
    NotArray,
    /// Fewer non-empty vectors than texts sent.
    #[error("asked for {asked} embeddings, got {usable} usable")]
    Count { asked: usize, usable: usize },
    /// A thread panicked while holding the vector cache.
    #[error("embedding cache poisoned")]
    CachePoisoned,
    /// A text's vector is not in the cache right after it was fetched.
    #[error("embedding missing after fetch")]
    Missing,
    /// The answer for the query held no vector.
    #[error("no query embedding")]
    NoQuery,
}

pub struct Embedder {
    cfg: EmbeddingConfig,
    key: Option<String>,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Arc<Vec<f32>>>>,
}

impl Embedder {
    /// An embedder whose every connection passes the gateway's SSRF guard (`[network]`).
    pub fn new(
        cfg: EmbeddingConfig,
        base: &std::path::Path,
        egress: &Arc<crate::egress::Egress>,
    ) -> Result<Embedder, EmbedError> {
        let key = match &cfg.api_key {
            Some(k) => Some(k.resolve(base)?),
            None => None,
        };
        egress
            .check_url(&cfg.url)
            .map_err(|source| EmbedError::Endpoint {
                url: cfg.url.clone(),
                source,
            })?;
        let http = egress
            .client_builder()
            .timeout(Duration::from_millis(cfg.timeout_ms.max(1)))
            .build()
            .map_err(EmbedError::Client)?;
        Ok(Embedder {
            cfg,
            key,
            http,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn weight(&self) -> f32 {
        self.cfg.weight.clamp(0.0, 1.0)
    }

    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let body = match self.cfg.api {
            EmbeddingApi::Openai => {
                let mut b = json!({ "input": texts });
                if let (Some(m), Some(o)) = (&self.cfg.model, b.as_object_mut()) {
                    o.insert("model".into(), Value::String(m.clone()));
                }
                b
            }
            EmbeddingApi::Tei => json!({ "inputs": texts }),
        };
        let mut req = self
            .http
            .post(&self.cfg.url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.map_err(EmbedError::Http)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(EmbedError::Status(status));
        }
        let bytes = resp.bytes().await.map_err(EmbedError::Http)?;
        let v: Value = serde_json::from_slice(&bytes).map_err(EmbedError::Json)?;
        let vectors = match self.cfg.api {
            EmbeddingApi::Openai => {
                let mut data: Vec<(u64, Vec<f32>)> = v
                    .get("data")
                    .and_then(Value::as_array)
                    .ok_or(EmbedError::NoData)?
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let at = d.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
                        (at, to_vector(d.get("embedding")))
                    })
                    .collect();
                data.sort_by_key(|(i, _)| *i);
                data.into_iter().map(|(_, e)| e).collect::<Vec<_>>()
            }
            EmbeddingApi::Tei => v
                .as_array()
                .ok_or(EmbedError::NotArray)?
                .iter()
                .map(|e| to_vector(Some(e)))
                .collect(),
        };
        if vectors.len() != texts.len() || vectors.iter().any(Vec::is_empty) {
            return Err(EmbedError::Count {
                asked: texts.len(),
                usable: vectors.iter().filter(|x| !x.is_empty()).count(),
            });
        }
        Ok(vectors)
    }

    /// Vectors of `texts`, from the cache where possible.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Arc<Vec<f32>>>, EmbedError> {
        let missing: Vec<String> = {
            let cache = self.cache.lock().map_err(|_| EmbedError::CachePoisoned)?;
            let mut m: Vec<String> = texts
                .iter()
                .filter(|t| !cache.contains_key(*t))
                .cloned()
                .collect();
            m.dedup();
            m
        };
        for chunk in missing.chunks(BATCH) {
            let vectors = self.request(chunk).await?;
            let mut cache = self.cache.lock().map_err(|_| EmbedError::CachePoisoned)?;
            if cache.len() + chunk.len() > MAX_CACHED {
                cache.clear();
            }
            for (t, v) in chunk.iter().zip(vectors) {
                cache.insert(t.clone(), Arc::new(normalise(v)));
            }
        }
        let cache = self.cache.lock().map_err(|_| EmbedError::CachePoisoned)?;
        texts
            .iter()
            .map(|t| cache.get(t).cloned().ok_or(EmbedError::Missing))
            .collect()
    }

    /// The query's vector (never cached: queries rarely repeat).
    pub async fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        let v = self.request(&[query.to_owned()]).await?;
        v.into_iter()
            .next()
            .map(normalise)
            .ok_or(EmbedError::NoQuery)
    }
}

fn to_vector(v: Option<&Value>) -> Vec<f32> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_f64)
                .map(|x| x as f32)
                .collect()
        })
        .unwrap_or_default()
}

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        for x in &mut v {
            *x /= n;
        }
    }
    v
}

/// Cosine similarity of two unit vectors (0 when their dimensions differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Blend keyword scores and cosine similarities: `(1 - w) · bm25 / max(bm25) + w · max(cos, 0)`.
pub fn blend(bm25: &[f32], cos: &[f32], w: f32) -> Vec<f32> {
    let max = bm25.iter().copied().fold(0.0f32, f32::max);
    bm25.iter()
        .zip(cos)
        .map(|(b, c)| {
            let kw = if max > 0.0 { b / max } else { 0.0 };
            (1.0 - w) * kw + w * c.max(0.0)
        })
        .collect()
}
