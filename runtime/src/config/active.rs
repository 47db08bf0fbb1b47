//! The configuration in force: the one snapshot `init()` installs. Modules
//! do not keep copies of their settings; each reads what it needs through a
//! [`Derived`], a cache of what it computes from the snapshot (compiled
//! allowlist patterns, a path list), rebuilt when another snapshot is
//! installed. Before `init()`, a module's derivation gives its defaults.
//!
//! The few words read on every call (the instrumentation flags, the series
//! cap, `db.capture_parameters`) are atomics that `init()` sets from the
//! same snapshot: a lock on the hot path would cost more than the call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::Config;

static ACTIVE: RwLock<Option<Arc<Config>>> = RwLock::new(None);
/// Bumped by every [`install`], so that a [`Derived`] knows its cache is stale.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Makes `config` the configuration in force (called by `init()`).
pub(crate) fn install(config: Arc<Config>) {
    *ACTIVE.write().unwrap_or_else(PoisonError::into_inner) = Some(config);
    GENERATION.fetch_add(1, Ordering::Release);
}

/// The configuration in force; `None` before `init()`.
pub(crate) fn active() -> Option<Arc<Config>> {
    ACTIVE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// What a module derives from the configuration in force, cached until the
/// next [`install`]. `derive` gets `None` before `init()`: the module's
/// defaults.
pub(crate) struct Derived<T> {
    cache: RwLock<Option<(u64, Arc<T>)>>,
    derive: fn(Option<&Config>) -> T,
}

impl<T> Derived<T> {
    pub(crate) const fn new(derive: fn(Option<&Config>) -> T) -> Self {
        Derived {
            cache: RwLock::new(None),
            derive,
        }
    }

    /// The derived value for the configuration in force.
    pub(crate) fn get(&self) -> Arc<T> {
        // Read before the snapshot: an install in between makes the next
        // read rebuild, never keep a stale value.
        let generation = GENERATION.load(Ordering::Acquire);
        if let Some((built, value)) = &*self.cache.read().unwrap_or_else(PoisonError::into_inner)
            && *built == generation
        {
            return value.clone();
        }
        let value = Arc::new((self.derive)(active().as_deref()));
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) =
            Some((generation, value.clone()));
        value
    }
}
