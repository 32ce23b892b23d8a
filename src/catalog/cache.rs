//! The four kinds of list a client reads, and the cache of their merged form for one client's
//! set of backends.
//!
//! A merged list is valid for one integrity generation (approvals change what is quarantined)
//! and until a backend goes up or down or announces a change; whoever owns the backends' links
//! drops it then.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Merged;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ListKind {
    Tools,
    Prompts,
    Resources,
    Templates,
}

impl ListKind {
    pub const ALL: [ListKind; 4] = [
        ListKind::Tools,
        ListKind::Prompts,
        ListKind::Resources,
        ListKind::Templates,
    ];

    pub fn method(self) -> &'static str {
        match self {
            ListKind::Tools => "tools/list",
            ListKind::Prompts => "prompts/list",
            ListKind::Resources => "resources/list",
            ListKind::Templates => "resources/templates/list",
        }
    }

    /// The result field holding the items.
    pub fn field(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources => "resources",
            ListKind::Templates => "resourceTemplates",
        }
    }

    /// The server capability that announces this list.
    pub fn capability(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources | ListKind::Templates => "resources",
        }
    }

    /// The notification a client hears when this list changes.
    pub fn changed_notification(self) -> &'static str {
        match self {
            ListKind::Tools => "notifications/tools/list_changed",
            ListKind::Prompts => "notifications/prompts/list_changed",
            ListKind::Resources | ListKind::Templates => "notifications/resources/list_changed",
        }
    }

    /// What the integrity stage pins of this list. Resources are data, not definitions: not
    /// pinned, but scanned (`integrity::Monitor::screen_resources`).
    pub fn integrity_kind(self) -> Option<crate::integrity::Kind> {
        match self {
            ListKind::Tools => Some(crate::integrity::Kind::Tool),
            ListKind::Prompts => Some(crate::integrity::Kind::Prompt),
            ListKind::Templates => Some(crate::integrity::Kind::ResourceTemplate),
            ListKind::Resources => None,
        }
    }

    /// Short tag inside pagination cursors.
    pub fn tag(self) -> &'static str {
        match self {
            ListKind::Tools => "t",
            ListKind::Prompts => "p",
            ListKind::Resources => "r",
            ListKind::Templates => "rt",
        }
    }

    fn slot(self) -> usize {
        match self {
            ListKind::Tools => 0,
            ListKind::Prompts => 1,
            ListKind::Resources => 2,
            ListKind::Templates => 3,
        }
    }
}

#[derive(Default)]
struct Slots {
    /// The integrity generation the cached lists were reviewed under.
    generation: u64,
    lists: [Option<Arc<Merged>>; 4],
}

/// Merged lists of one client's backends.
#[derive(Default)]
pub struct ListCache {
    slots: Mutex<Slots>,
    /// One merge of each kind at a time: callers that miss together wait for one fetch.
    flights: [tokio::sync::Mutex<()>; 4],
    /// When each kind was last re-fetched on demand (see [`ListCache::may_refetch`]).
    refetched: Mutex<[Option<Instant>; 4]>,
}

impl ListCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached list of `kind`, if it was merged under `generation`.
    pub fn get(&self, kind: ListKind, generation: u64) -> Option<Arc<Merged>> {
        let s = self.lock();
        if s.generation != generation {
            return None;
        }
        s.lists.get(kind.slot()).cloned().flatten()
    }

    /// Keep `merged` for `kind` under `generation` (an older generation's lists are dropped).
    pub fn put(&self, kind: ListKind, generation: u64, merged: Arc<Merged>) {
        let mut s = self.lock();
        if s.generation != generation {
            *s = Slots {
                generation,
                ..Default::default()
            };
        }
        if let Some(slot) = s.lists.get_mut(kind.slot()) {
            *slot = Some(merged);
        }
    }

    /// Drop the list of `kind`, returning what was cached.
    pub fn take(&self, kind: ListKind) -> Option<Arc<Merged>> {
        self.lock()
            .lists
            .get_mut(kind.slot())
            .and_then(Option::take)
    }

    /// Wait for any merge of `kind` in progress; hold the guard while merging one.
    pub async fn flight(&self, kind: ListKind) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.flights.get(kind.slot()) {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// Whether a re-fetch of `kind` that a caller asks for (a name it holds is not in the
    /// list) may run now: at most one per `every`, so unknown names cannot make the gateway
    /// re-list its backends at the caller's pace. Claims the slot when it answers true.
    pub fn may_refetch(&self, kind: ListKind, every: Duration) -> bool {
        let mut last = self
            .refetched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(slot) = last.get_mut(kind.slot()) else {
            return false;
        };
        let now = Instant::now();
        if slot.is_some_and(|t| now.saturating_duration_since(t) < every) {
            return false;
        }
        *slot = Some(now);
        true
    }

    /// Drop every list.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.lists = Default::default();
    }
}
