//! What the store is doing right now, and since when: the stall watchdog's view.
//!
//! Every flush and every write transaction registers here for as long as it runs. Reading
//! this never touches sled, so `kdesk status` and the health service can say "the store has
//! been stuck in X for N seconds" even when sled itself no longer answers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Operations in progress.
#[derive(Clone, Default)]
pub struct Activity {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    next: AtomicU64,
    running: Mutex<BTreeMap<u64, (String, Instant)>>,
}

/// The oldest operation still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// What it is ("flush", "store transaction: 512 records", ...).
    pub what: String,
    /// How long it has been running.
    pub for_: Duration,
}

/// Registration of one running operation; ends it when dropped.
pub struct Guard {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut r) = self.inner.running.lock() {
            r.remove(&self.id);
        }
    }
}

impl Activity {
    /// Registers an operation until the returned guard is dropped.
    pub fn begin(&self, what: impl Into<String>) -> Guard {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut r) = self.inner.running.lock() {
            r.insert(id, (what.into(), Instant::now()));
        }
        Guard {
            inner: self.inner.clone(),
            id,
        }
    }

    /// The operation running longest, if any. Never waits on the store.
    pub fn oldest(&self) -> Option<Running> {
        let r = self.inner.running.lock().ok()?;
        r.values()
            .min_by_key(|(_, since)| *since)
            .map(|(what, since)| Running {
                what: what.clone(),
                for_: since.elapsed(),
            })
    }

    /// Number of operations running now.
    pub fn count(&self) -> usize {
        self.inner.running.lock().map(|r| r.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_running_operation_is_reported_until_it_ends() {
        let a = Activity::default();
        assert_eq!(a.oldest(), None);
        let first = a.begin("flush");
        std::thread::sleep(Duration::from_millis(5));
        let second = a.begin("store transaction");
        assert_eq!(a.oldest().map(|r| r.what), Some("flush".to_owned()));
        assert!(a
            .oldest()
            .is_some_and(|r| r.for_ >= Duration::from_millis(5)));
        drop(first);
        assert_eq!(
            a.oldest().map(|r| r.what),
            Some("store transaction".to_owned())
        );
        assert_eq!(a.count(), 1);
        drop(second);
        assert_eq!(a.oldest(), None);
    }
}
