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
    ) -> Result<Embedder, String> {
        let key = match &cfg.api_key {
            Some(k) => Some(k.resolve(base).map_err(|e| e.to_string())?),
            None => None,
        };
        egress
            .check_url(&cfg.url)
            .map_err(|e| format!("embedding endpoint `{}`: {e}", cfg.url))?;
        let http = egress
            .client_builder()
            .timeout(Duration::from_millis(cfg.timeout_ms.max(1)))
            .build()
            .map_err(|e| e.to_string())?;
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

    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
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
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("embeddings endpoint answered HTTP {status}"));
        }
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let vectors = match self.cfg.api {
            EmbeddingApi::Openai => {
                let mut data: Vec<(u64, Vec<f32>)> = v
                    .get("data")
                    .and_then(Value::as_array)
                    .ok_or("no `data` array in the embeddings response")?
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
                .ok_or("the embeddings response is not an array")?
                .iter()
                .map(|e| to_vector(Some(e)))
                .collect(),
        };
        if vectors.len() != texts.len() || vectors.iter().any(Vec::is_empty) {
            return Err(format!(
                "asked for {} embeddings, got {} usable",
                texts.len(),
                vectors.iter().filter(|x| !x.is_empty()).count()
            ));
        }
        Ok(vectors)
    }

    /// Vectors of `texts`, from the cache where possible.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Arc<Vec<f32>>>, String> {
        let missing: Vec<String> = {
            let cache = self.cache.lock().map_err(|_| "embedding cache poisoned")?;
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
            let mut cache = self.cache.lock().map_err(|_| "embedding cache poisoned")?;
            if cache.len() + chunk.len() > MAX_CACHED {
                cache.clear();
            }
            for (t, v) in chunk.iter().zip(vectors) {
                cache.insert(t.clone(), Arc::new(normalise(v)));
            }
        }
        let cache = self.cache.lock().map_err(|_| "embedding cache poisoned")?;
        texts
            .iter()
            .map(|t| {
                cache
                    .get(t)
                    .cloned()
                    .ok_or_else(|| "embedding missing after fetch".to_owned())
            })
            .collect()
    }

    /// The query's vector (never cached: queries rarely repeat).
    pub async fn embed_query(&self, query: &str) -> Result<Vec<f32>, String> {
        let v = self.request(&[query.to_owned()]).await?;
        v.into_iter()
            .next()
            .map(normalise)
            .ok_or_else(|| "no query embedding".to_owned())
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
