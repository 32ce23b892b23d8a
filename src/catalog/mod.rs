//! The merged view of many backends' tools, prompts and resources, and the routing table from an
//! exposed name to `(backend, original name)`.
//!
//! Routing never splits strings: with the `prefix` strategy a tool `a__b` of backend `x` is
//! exposed as `x__a__b` and routed by table lookup, so separators inside names are harmless.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::config::{Naming, Strategy};

mod cache;
pub use cache::{ListCache, ListKind};

/// Where an exposed name goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub backend: String,
    pub original: String,
}

/// One kind of list (tools or prompts) merged across backends.
#[derive(Debug, Default)]
pub struct Merged {
    /// Definitions as clients see them (only `name` rewritten), in a stable order.
    pub items: Vec<Value>,
    pub routes: HashMap<String, Route>,
    /// Items hidden because another backend won their name: (backend, original, exposed, winner).
    pub hidden: Vec<Hidden>,
    /// Integrity verdicts by exposed name (filled by the router after review; empty for
    /// resources, which are data, not definitions).
    pub verdicts: HashMap<String, crate::integrity::Verdict>,
    /// The `x-mcp-header` annotations of each tool that has valid ones, by exposed name (filled
    /// by the router for tools): the `Mcp-Param-*` headers a 2026-07-28 call must carry,
    /// worked out once per list instead of walking the schema on every call.
    pub param_headers: HashMap<String, crate::protocol::meta::ParamHeaders>,
    /// A version of `items` (changes whenever they do): what indexes built from it are keyed by.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub backend: String,
    pub original: String,
    pub exposed: String,
    pub winner: String,
}

/// An unresolved collision under the `manual` strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub exposed: String,
    pub backends: Vec<String>,
}

impl std::fmt::Display for Collision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is offered by {}",
            self.exposed,
            self.backends.join(", ")
        )
    }
}

/// Naming rules plus backend precedence, shared by every session.
#[derive(Debug)]
pub struct Namer {
    naming: Naming,
    /// Backend name → rank (lower wins): priority list first, then config order.
    ranks: HashMap<String, usize>,
}

impl Namer {
    pub fn new(naming: Naming, backends_in_config_order: &[String]) -> Self {
        let mut ranks = HashMap::new();
        for b in naming.priority.iter().chain(backends_in_config_order) {
            let next = ranks.len();
            ranks.entry(b.clone()).or_insert(next);
        }
        Self { naming, ranks }
    }

    pub fn rank(&self, backend: &str) -> usize {
        self.ranks.get(backend).copied().unwrap_or(usize::MAX)
    }

    pub fn strategy(&self) -> Strategy {
        self.naming.strategy
    }

    /// The name a backend's item is exposed under, before collisions are resolved.
    pub fn exposed_name(&self, backend: &str, original: &str) -> String {
        if let Some(renamed) = self.naming.rename.get(&format!("{backend}/{original}")) {
            return renamed.clone();
        }
        match self.naming.strategy {
            Strategy::Prefix => format!("{backend}{}{original}", self.naming.separator),
            Strategy::Priority | Strategy::Manual => original.to_owned(),
        }
    }

    /// Merge per-backend lists of named items (tools or prompts). Returns the merge and, under
    /// `manual`, the collisions nobody resolved: start-up refuses them, and a running gateway
    /// that meets a new one hides every item with that name rather than guess.
    pub fn merge(&self, lists: &[(String, Arc<Vec<Value>>)]) -> (Merged, Vec<Collision>) {
        // Candidates per exposed name, in backend rank order.
        let mut ordered: Vec<&(String, Arc<Vec<Value>>)> = lists.iter().collect();
        ordered.sort_by_key(|(b, _)| self.rank(b));
        let mut by_name: HashMap<String, Vec<(String, String, &Value)>> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for (backend, items) in ordered {
            for item in items.iter() {
                let Some(original) = item.get("name").and_then(Value::as_str) else {
                    tracing::warn!(backend = %backend, "ignoring an item without a `name`");
                    continue;
                };
                let exposed = self.exposed_name(backend, original);
                let entry = by_name.entry(exposed.clone()).or_default();
                if entry.is_empty() {
                    order.push(exposed.clone());
                }
                entry.push((backend.clone(), original.to_owned(), item));
            }
        }
        let mut merged = Merged::default();
        let mut collisions = Vec::new();
        for exposed in order {
            let Some(cands) = by_name.get(&exposed) else {
                continue;
            };
            let Some((winner, original, item)) = cands.first() else {
                continue;
            };
            if cands.len() > 1 {
                let distinct_backends: Vec<String> = {
                    let mut v: Vec<String> = cands.iter().map(|c| c.0.clone()).collect();
                    v.dedup();
                    v
                };
                if self.naming.strategy == Strategy::Manual {
                    collisions.push(Collision {
                        exposed: exposed.clone(),
                        backends: distinct_backends,
                    });
                }
                for (b, o, _) in cands.iter().skip(1) {
                    merged.hidden.push(Hidden {
                        backend: b.clone(),
                        original: o.clone(),
                        exposed: exposed.clone(),
                        winner: winner.clone(),
                    });
                }
            }
            if self.naming.strategy == Strategy::Manual && cands.len() > 1 {
                // Under `manual` nothing is routed by guesswork: an unresolved name is hidden
                // from every backend until a rename rule resolves it.
                merged.hidden.push(Hidden {
                    backend: winner.clone(),
                    original: original.clone(),
                    exposed: exposed.clone(),
                    winner: String::new(),
                });
                continue;
            }
            let mut def = (*item).clone();
            if let Some(obj) = def.as_object_mut() {
                obj.insert("name".into(), Value::String(exposed.clone()));
            }
            merged.items.push(def);
            merged.routes.insert(
                exposed,
                Route {
                    backend: winner.clone(),
                    original: original.clone(),
                },
            );
        }
        (merged, collisions)
    }

    /// Merge resources by URI (URIs are not renamed): on a collision the higher-ranked backend
    /// wins and the loser is hidden.
    pub fn merge_resources(&self, lists: &[(String, Arc<Vec<Value>>)], key: &str) -> Merged {
        let mut ordered: Vec<&(String, Arc<Vec<Value>>)> = lists.iter().collect();
        ordered.sort_by_key(|(b, _)| self.rank(b));
        let mut merged = Merged::default();
        for (backend, items) in ordered {
            for item in items.iter() {
                let Some(uri) = item.get(key).and_then(Value::as_str) else {
                    continue;
                };
                if let Some(existing) = merged.routes.get(uri) {
                    merged.hidden.push(Hidden {
                        backend: backend.clone(),
                        original: uri.to_owned(),
                        exposed: uri.to_owned(),
                        winner: existing.backend.clone(),
                    });
                    continue;
                }
                merged.routes.insert(
                    uri.to_owned(),
                    Route {
                        backend: backend.clone(),
                        original: uri.to_owned(),
                    },
                );
                merged.items.push(item.clone());
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests;
