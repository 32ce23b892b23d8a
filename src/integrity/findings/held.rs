//! What the scan compiles or loads for itself (the rules' automata, the classifier's word
//! vectors), kept only while a batch of scans runs. Compiled, the rules and their search caches
//! were most of the heap of an idle gateway (about 13 MB: reverse automata and the lazy DFA's
//! state sets, then the vectors' lookup tables at 1.8 MB), and a gateway scans only when a
//! backend lists something it has not scanned before. A [`Hold`] keeps what was built; when the
//! last hold goes, everything built since is dropped [`LINGER`] later (at once outside a Tokio
//! runtime) unless another hold came meanwhile, and the next scan builds it again. Without any
//! hold (a unit test calling a rule directly), what was built stays until some hold is
//! released.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long what was built outlives the last hold. Building the rules costs 60–160 ms of CPU;
/// a backend that sends a changed list every few moments must not make the gateway pay that per
/// list, so scans that follow each other within this time share one build.
const LINGER: Duration = Duration::from_secs(5);

/// A value built on first use and kept while a [`Hold`] is alive.
pub(super) struct Held<T> {
    make: fn() -> Option<T>,
    /// `Some` once built (holding `None` if building failed, so it is not retried per text).
    built: Mutex<Option<Option<Arc<T>>>>,
}

/// Something [`Held`] that a release empties.
trait Release: Sync {
    fn release(&self);
}

impl<T: Send + Sync> Release for Held<T> {
    fn release(&self) {
        *self.built.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// What was built since the last release.
static BUILT: Mutex<Vec<&'static dyn Release>> = Mutex::new(Vec::new());

/// Live [`Hold`]s.
static HOLDS: AtomicUsize = AtomicUsize::new(0);

/// Counts holds ever taken: a release scheduled when the last hold went is called off when a
/// hold was taken since.
static TAKEN: AtomicU64 = AtomicU64::new(0);

impl<T: Send + Sync + 'static> Held<T> {
    pub(super) const fn new(make: fn() -> Option<T>) -> Self {
        Self {
            make,
            built: Mutex::new(None),
        }
    }

    /// The value, built if no scan since the last release needed it.
    pub(super) fn get(&'static self) -> Option<Arc<T>> {
        let mut slot = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(built) = &*slot {
            return built.clone();
        }
        let built = (self.make)().map(Arc::new);
        *slot = Some(built.clone());
        drop(slot);
        BUILT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self);
        built
    }
}

/// Keeps what the scan built while a batch of scans runs (a review, the start-up probe), so
/// it is built once per batch.
#[derive(Debug)]
pub struct Hold(());

/// A [`Hold`] until the returned value is dropped.
pub fn hold() -> Hold {
    // Under the lock of what was built, so that a release deciding under it sees every hold.
    let _built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    TAKEN.fetch_add(1, Ordering::AcqRel);
    HOLDS.fetch_add(1, Ordering::AcqRel);
    Hold(())
}

impl Drop for Hold {
    fn drop(&mut self) {
        if HOLDS.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let taken = TAKEN.load(Ordering::Acquire);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::time::sleep(LINGER).await;
                    release(taken);
                });
            }
            Err(_) => release(taken),
        }
    }
}

/// Drop everything built, unless a hold was taken after the `taken`-th.
fn release(taken: u64) {
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    // A hold taken since may be scanning with these (it keeps what it has through its `Arc`s,
    // but would build them again): its own release will drop them.
    if HOLDS.load(Ordering::Acquire) != 0 || TAKEN.load(Ordering::Acquire) != taken {
        return;
    }
    for value in built.drain(..) {
        value.release();
    }
}

#[cfg(test)]
mod tests {
    use super::{Held, hold};

    static ANSWER: Held<u32> = Held::new(|| Some(42));

    #[test]
    fn kept_while_held_and_dropped_with_the_last_hold() {
        let outer = hold();
        let first = ANSWER.get();
        assert_eq!(first.as_deref(), Some(&42));
        {
            let _inner = hold();
        }
        // The outer hold still keeps the value built under it.
        assert!(std::sync::Arc::ptr_eq(
            first.as_ref().unwrap(),
            ANSWER.get().as_ref().unwrap()
        ));
        drop(outer);
        // Released (unless another test's hold is alive); either way the value is the same.
        assert_eq!(ANSWER.get().as_deref(), Some(&42));
    }
}
