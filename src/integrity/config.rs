//! What integrity makes of its config (`crate::config::integrity`, re-exported here): an
//! operator's tool override applied to a definition, and which tools a backend shows at all.

use serde_json::{Map, Value};

pub use crate::config::integrity::{
    BackendIntegrity, Classifier, IntegrityConfig, Mode, NewItems, ToolOverride, WebhookConfig,
};

impl ToolOverride {
    /// `def` as clients see it.
    pub fn apply(&self, def: &mut Value) {
        let Some(obj) = def.as_object_mut() else {
            return;
        };
        if let Some(t) = &self.title {
            obj.insert("title".into(), Value::String(t.clone()));
        }
        if let Some(d) = &self.description {
            obj.insert("description".into(), Value::String(d.clone()));
        }
        if let Some(a) = &self.annotations {
            let entry = obj
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Some(ann) = entry.as_object_mut() {
                for (k, v) in a {
                    ann.insert(k.clone(), toml_to_json(v));
                }
            }
        }
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Which of a backend's tools clients may see at all (before naming, policy and pins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    /// Only these (by the backend's own name), when set.
    pub allow: Option<Vec<String>>,
    /// Never these.
    pub deny: Vec<String>,
}

impl ToolFilter {
    pub fn admits(&self, name: &str) -> bool {
        if self.deny.iter().any(|d| d == name) {
            return false;
        }
        match &self.allow {
            Some(a) => a.iter().any(|x| x == name),
            None => true,
        }
    }
}
