//! Locking a span slot's state, and the one caller that must never wait
//! for it: the panic hook. A panic may happen on a thread while it holds a
//! slot's lock (a field's `Debug` that panics while its event is recorded
//! into the span, under the write lock); the hook then logs and records
//! into that same span, and waiting for the lock would wait forever.
//! Inside [`without_waiting`], a state that is locked is skipped instead.
//!
//! The flag is read only when a lock is not free at once, so that taking
//! a free lock costs what it always did.

use std::cell::Cell;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

thread_local! {
    /// Set while this thread runs [`without_waiting`].
    static NO_WAIT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread never waiting for a span's state: what it
/// finds locked, it skips (a line without that span's fields, a span
/// without the event).
pub(crate) fn without_waiting<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(before) = self.0 {
                let _ = NO_WAIT.try_with(|flag| flag.set(before));
            }
        }
    }
    let _restore = Restore(NO_WAIT.try_with(|flag| flag.replace(true)).ok());
    f()
}

/// Whether this thread must not wait for a lock. A thread whose
/// thread-locals are gone (a panic while it exits) is not told otherwise.
fn must_not_wait() -> bool {
    NO_WAIT.try_with(Cell::get).unwrap_or(true)
}

/// A read lock on `lock`, waiting for it unless this thread must not.
pub(super) fn read<T>(lock: &RwLock<T>) -> Option<RwLockReadGuard<'_, T>> {
    match lock.try_read() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) if must_not_wait() => None,
        Err(TryLockError::WouldBlock) => Some(lock.read().unwrap_or_else(PoisonError::into_inner)),
    }
}

/// A write lock on `lock`, waiting for it unless this thread must not.
pub(super) fn write<T>(lock: &RwLock<T>) -> Option<RwLockWriteGuard<'_, T>> {
    match lock.try_write() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) if must_not_wait() => None,
        Err(TryLockError::WouldBlock) => Some(lock.write().unwrap_or_else(PoisonError::into_inner)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_skipped_only_without_waiting() {
        let lock = RwLock::new(1);
        let held = lock.write().expect("free");
        assert!(without_waiting(|| read(&lock).is_none()));
        assert!(without_waiting(|| write(&lock).is_none()));
        drop(held);
        assert_eq!(without_waiting(|| read(&lock).map(|v| *v)), Some(1));
        let reading = lock.read().expect("free");
        assert!(
            without_waiting(|| read(&lock).is_some()),
            "readers share the lock"
        );
        assert!(without_waiting(|| write(&lock).is_none()));
        drop(reading);
        assert!(!must_not_wait(), "the flag is reset afterwards");
    }

    #[test]
    fn elsewhere_a_held_lock_is_waited_for() {
        let lock = std::sync::Arc::new(RwLock::new(0));
        let held = lock.write().expect("free");
        let other = {
            let lock = lock.clone();
            std::thread::spawn(move || write(&lock).map(|mut v| *v += 1).is_some())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(held);
        assert!(other.join().expect("no panic"), "it waited, then wrote");
        assert_eq!(*lock.read().expect("free"), 1);
    }
}
