//! The names a per-call label may take: only what a backend's catalog lists (tool and prompt
//! names, resource URIs, resource templates), else the fixed `other`.
//!
//! A call's label used to be whatever name or URI the forwarded message carried, so a client
//! choosing URIs chose series (issue 15, finding 5: 5,000 `resources/unsubscribe` calls grew
//! `/metrics` from 17 KB to 7.9 MB). Here the router notes what each backend lists, and
//! [`Catalogued::label`] maps anything else to [`OTHER`]: a URI read through a template is
//! counted under the template, and a backend that lists without end is capped.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

/// The label of a call whose name no catalog lists.
pub const OTHER: &str = "other";

/// Most names (tools, prompts, resource URIs) kept per backend; past it, new names count as
/// [`OTHER`]. A backend's catalog is reviewed, but nothing bounds its length.
pub const MAX_NAMES_PER_BACKEND: usize = 2048;

/// Most resource templates kept per backend (each label lookup may scan them).
pub const MAX_TEMPLATES_PER_BACKEND: usize = 256;

#[derive(Debug, Default)]
struct Names {
    names: HashSet<String>,
    templates: Vec<String>,
}

/// What each backend has listed, by backend name.
#[derive(Debug, Default)]
pub struct Catalogued {
    backends: RwLock<HashMap<String, Names>>,
}

impl Catalogued {
    /// Note `names` (tool or prompt names, resource URIs) that `backend` listed. Names once
    /// listed stay labels (a per-caller backend may list differently to different callers),
    /// up to [`MAX_NAMES_PER_BACKEND`].
    pub fn note_names<'a>(&self, backend: &str, names: impl IntoIterator<Item = &'a str>) {
        let mut all = self.backends.write().unwrap_or_else(|p| p.into_inner());
        let entry = all.entry(backend.to_owned()).or_default();
        for n in names {
            if entry.names.len() >= MAX_NAMES_PER_BACKEND {
                break;
            }
            if !entry.names.contains(n) {
                entry.names.insert(n.to_owned());
            }
        }
    }

    /// Note the resource templates `backend` listed (see [`Catalogued::note_names`]).
    pub fn note_templates<'a>(&self, backend: &str, templates: impl IntoIterator<Item = &'a str>) {
        let mut all = self.backends.write().unwrap_or_else(|p| p.into_inner());
        let entry = all.entry(backend.to_owned()).or_default();
        for t in templates {
            if entry.templates.len() >= MAX_TEMPLATES_PER_BACKEND {
                break;
            }
            if !entry.templates.iter().any(|have| have == t) {
                entry.templates.push(t.to_owned());
            }
        }
    }

    /// The label of a call to `backend` for `name` (a tool or prompt name, or a URI): the name
    /// itself when the backend listed it, the template a URI matches, else [`OTHER`].
    pub fn label(&self, backend: &str, name: &str) -> String {
        let all = self.backends.read().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = all.get(backend) else {
            return OTHER.to_owned();
        };
        if entry.names.contains(name) {
            return name.to_owned();
        }
        entry
            .templates
            .iter()
            .find(|t| crate::protocol::template_matches(t, name))
            .cloned()
            .unwrap_or_else(|| OTHER.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_names_and_templates_become_labels() {
        let c = Catalogued::default();
        c.note_names("demo", ["echo", "demo://readme"]);
        c.note_templates("demo", ["demo://items/{id}"]);
        assert_eq!(c.label("demo", "echo"), "echo");
        assert_eq!(c.label("demo", "demo://readme"), "demo://readme");
        assert_eq!(c.label("demo", "demo://items/7"), "demo://items/{id}");
        assert_eq!(c.label("demo", "demo://anything-else"), OTHER);
        assert_eq!(c.label("other-backend", "echo"), OTHER);
    }

    #[test]
    fn a_backend_listing_without_end_is_capped() {
        let c = Catalogued::default();
        let many: Vec<String> = (0..MAX_NAMES_PER_BACKEND + 10)
            .map(|i| format!("t{i}"))
            .collect();
        c.note_names("b", many.iter().map(String::as_str));
        assert_eq!(c.label("b", "t0"), "t0");
        assert_eq!(
            c.label("b", &format!("t{}", MAX_NAMES_PER_BACKEND + 5)),
            OTHER
        );
    }
}
