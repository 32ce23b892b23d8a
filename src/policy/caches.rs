//! Every cache the policy engine keeps, each with its bound, in one place: what is cached
//! decides what a reload, a changed caller or a benchmark's cold run must throw away.
//!
//! Each engine owns its [`Caches`] (they depend on the policies, so a reload starts empty); the
//! target entities are shared by every engine (they depend only on the tool definition). A
//! full cache starts over (or, for slices and contexts, stops growing) rather than growing
//! without bound: a caller can make the gateway build entries, never keep them forever.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use cedar_policy::{Context, Entity, EntityUid};

use super::slice::{Bound, Caller, Slice};
use super::{PolicyError, ResourceRef, entities};

/// Most cached slices per engine; past this, slices are built per request and dropped.
const MAX_CACHED_SLICES: usize = 16_384;
/// Most cached principal entities per engine; the cache starts over when full.
const MAX_CACHED_CALLERS: usize = 4_096;
/// Most cached (caller, target) entity stores per engine; the cache starts over when full.
const MAX_CACHED_STORES: usize = 16_384;
/// Most cached list-visibility answers per engine; the cache starts over when full.
const MAX_CACHED_VISIBLE: usize = 262_144;
/// Common contexts kept for one second: more client sessions than this calling in the same
/// second build theirs on every call.
const MAX_CACHED_CONTEXTS: usize = 4096;
/// Most cached target entities (shared by every engine: they do not depend on policies).
const MAX_CACHED_TARGETS: usize = 65_536;

/// The client facts a common context is built from (address, name, version, protocol).
pub(super) type ClientFacts = [String; 4];

/// The per-engine caches. Locks recover nothing: a poisoned lock is a cache miss.
pub(super) struct Caches {
    /// Slices by (action id, target type, target id, backend).
    slices: RwLock<HashMap<String, Arc<Slice>>>,
    /// Callers by issuer and subject (the entry is rebuilt when other facts change).
    callers: RwLock<HashMap<String, Arc<Caller>>>,
    /// Numbers callers, so caches can key on a short id rather than on the caller's facts.
    next_caller: AtomicU64,
    /// Per (caller, action, target): the slice narrowed to the caller, and the entity store
    /// when no policy reads `context.args`.
    stores: RwLock<HashMap<String, Arc<Bound>>>,
    /// The common contexts built in the current second, by the client facts they were built
    /// from (one per client session calling in that second; the map starts over each second).
    contexts: Mutex<(i64, HashMap<ClientFacts, Context>)>,
    /// Actions (by id) whose requests with the common context were checked against the schema,
    /// as a bit per resource type: such requests always pass again, so they are not re-checked.
    validated: RwLock<HashMap<String, u8>>,
    /// `visible_tools` answers by (caller, target).
    visible: RwLock<HashMap<String, bool>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            slices: RwLock::new(HashMap::new()),
            callers: RwLock::new(HashMap::new()),
            next_caller: AtomicU64::new(0),
            stores: RwLock::new(HashMap::new()),
            contexts: Mutex::new((i64::MIN, HashMap::new())),
            validated: RwLock::new(HashMap::new()),
            visible: RwLock::new(HashMap::new()),
        }
    }
}

impl Caches {
    pub(super) fn slice(&self, key: &str) -> Option<Arc<Slice>> {
        self.slices.read().ok()?.get(key).cloned()
    }

    pub(super) fn keep_slice(&self, key: String, slice: &Arc<Slice>) {
        if let Ok(mut cache) = self.slices.write()
            && cache.len() < MAX_CACHED_SLICES
        {
            cache.insert(key, Arc::clone(slice));
        }
    }

    pub(super) fn caller(&self, key: &str) -> Option<Arc<Caller>> {
        self.callers.read().ok()?.get(key).cloned()
    }

    pub(super) fn keep_caller(&self, key: String, caller: &Arc<Caller>) {
        if let Ok(mut cache) = self.callers.write() {
            if cache.len() >= MAX_CACHED_CALLERS {
                cache.clear();
            }
            cache.insert(key, Arc::clone(caller));
        }
    }

    /// A caller id never given before by this engine.
    pub(super) fn next_caller_id(&self) -> u64 {
        self.next_caller.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn store(&self, key: &str) -> Option<Arc<Bound>> {
        self.stores.read().ok()?.get(key).cloned()
    }

    pub(super) fn keep_store(&self, key: String, bound: &Arc<Bound>) {
        if let Ok(mut cache) = self.stores.write() {
            if cache.len() >= MAX_CACHED_STORES {
                cache.clear();
            }
            cache.insert(key, Arc::clone(bound));
        }
    }

    /// The common context built in second `unix` for these client facts.
    pub(super) fn context(&self, unix: i64, client: &ClientFacts) -> Option<Context> {
        let cache = self.contexts.lock().ok()?;
        if cache.0 != unix {
            return None;
        }
        cache.1.get(client).cloned()
    }

    pub(super) fn keep_context(&self, unix: i64, client: ClientFacts, context: &Context) {
        if let Ok(mut cache) = self.contexts.lock() {
            if cache.0 != unix {
                *cache = (unix, HashMap::new());
            }
            if cache.1.len() < MAX_CACHED_CONTEXTS {
                cache.1.insert(client, context.clone());
            }
        }
    }

    /// Whether requests of this action with the common context and this resource type's bit
    /// already passed the schema check.
    pub(super) fn validated(&self, action_id: &str, type_bit: u8) -> bool {
        self.validated
            .read()
            .ok()
            .and_then(|v| v.get(action_id).copied())
            .is_some_and(|bits| bits & type_bit != 0)
    }

    pub(super) fn mark_validated(&self, action_id: String, type_bit: u8) {
        if let Ok(mut v) = self.validated.write() {
            *v.entry(action_id).or_insert(0) |= type_bit;
        }
    }

    /// The cached `visible_tools` answers for these keys (`None` where not cached).
    pub(super) fn visible(&self, keys: &[String]) -> Vec<Option<bool>> {
        match self.visible.read() {
            Ok(cache) => keys.iter().map(|k| cache.get(k).copied()).collect(),
            Err(_) => vec![None; keys.len()],
        }
    }

    /// Merges the fresh answers into the known ones, remembers the fresh ones, and gives the
    /// answer per key (`false` where neither knows: fail closed).
    pub(super) fn remember_visible(
        &self,
        mut known: Vec<Option<bool>>,
        fresh: Vec<Option<bool>>,
        keys: Vec<String>,
    ) -> Vec<bool> {
        if let Ok(mut cache) = self.visible.write() {
            if cache.len() + keys.len() > MAX_CACHED_VISIBLE {
                cache.clear();
            }
            for ((k, f), key) in known.iter_mut().zip(fresh).zip(keys) {
                if let Some(v) = f {
                    *k = Some(v);
                    cache.insert(key, v);
                }
            }
        } else {
            for (k, f) in known.iter_mut().zip(fresh) {
                if f.is_some() {
                    *k = f;
                }
            }
        }
        known.into_iter().map(|k| k.unwrap_or(false)).collect()
    }

    /// Drop every cached slice, caller, entity store, context, schema check and visibility
    /// answer (benchmarks measure the cold path). Caller ids keep counting up.
    pub(super) fn clear(&self) {
        if let Ok(mut c) = self.slices.write() {
            c.clear();
        }
        if let Ok(mut c) = self.callers.write() {
            c.clear();
        }
        if let Ok(mut c) = self.stores.write() {
            c.clear();
        }
        if let Ok(mut c) = self.visible.write() {
            c.clear();
        }
        if let Ok(mut c) = self.contexts.lock() {
            *c = (i64::MIN, HashMap::new());
        }
        if let Ok(mut c) = self.validated.write() {
            c.clear();
        }
    }
}

/// Target entities by [`ResourceRef::fingerprint`]: built once per tool definition, not once
/// per engine or per list.
static TARGETS: LazyLock<RwLock<HashMap<String, (EntityUid, Entity)>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// The target entity of `r`, whose fingerprint is `fingerprint`, from the shared cache.
pub(super) fn cached_resource_entity(
    r: &ResourceRef<'_>,
    fingerprint: &str,
) -> Result<(EntityUid, Entity), PolicyError> {
    if let Ok(c) = TARGETS.read()
        && let Some(e) = c.get(fingerprint)
    {
        return Ok(e.clone());
    }
    let built = entities::resource_entity(r)?;
    if let Ok(mut c) = TARGETS.write() {
        if c.len() >= MAX_CACHED_TARGETS {
            c.clear();
        }
        c.insert(fingerprint.to_owned(), built.clone());
    }
    Ok(built)
}
