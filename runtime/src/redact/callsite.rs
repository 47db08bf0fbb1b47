//! The key rule's decision for the field names of a `tracing` callsite,
//! taken once per field of each callsite rather than at every span and
//! event: a field's name is `'static`, fixed where the callsite is
//! written, so its decision is too.
//!
//! Each thread keeps what it decided, per callsite, as two bit masks over
//! the callsite's field indices (decided, sensitive): looking a callsite up
//! is one hash of its address, once per span or event, and a field is then
//! one bit test. Per thread, so that no lock or shared cache line is
//! touched on the hot path; a callsite is decided once on each thread
//! that uses it, which is a handful of times. The cache belongs to one
//! [`Redactor`](super::Redactor) at a time: another (a second subscriber
//! with other `redaction.keys`, in a test) starts it afresh.

use std::cell::RefCell;

use foldhash::fast::RandomState;
use hashbrown::HashMap;
use tracing_core::callsite::Identifier;
use tracing_core::field::Field;

use super::Redactor;

/// Fields past this index are decided by name each time (a callsite has
/// at most 32 fields in practice: `tracing`'s macros take no more).
const MASK_BITS: usize = 64;

/// What is known of one callsite's fields: a bit per field index.
#[derive(Debug, Clone, Copy, Default)]
struct Known {
    decided: u64,
    sensitive: u64,
}

/// One thread's decisions, for the redactor `owner`.
struct Cache {
    owner: u64,
    callsites: HashMap<Identifier, Known, RandomState>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache {
        owner: 0,
        callsites: HashMap::with_hasher(RandomState::default()),
    });
}

/// What this thread decided for `callsite` under `owner`'s rule; nothing
/// when the cache is busy (a field's `Debug` that logs, inside a visit) or
/// the thread is ending.
fn recall(owner: u64, callsite: &Identifier) -> Known {
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            cache.own(owner);
            cache.callsites.get(callsite).copied()
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps what this thread decided for `callsite` (unless the cache is busy).
fn remember(owner: u64, callsite: Identifier, known: Known) {
    let _ = CACHE.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            cache.own(owner);
            cache.callsites.insert(callsite, known);
        }
    });
}

impl Cache {
    /// The cache of `owner`'s rule: another's decisions are forgotten.
    fn own(&mut self, owner: u64) {
        if self.owner != owner {
            self.owner = owner;
            self.callsites.clear();
        }
    }
}

/// The key rule for the fields of one visit (a span's, an event's): the
/// callsite's decisions are looked up at its first field, then each field
/// is a bit test.
pub(crate) struct FieldKeys<'r> {
    redactor: &'r Redactor,
    current: Option<(Identifier, Known)>,
}

impl<'r> FieldKeys<'r> {
    pub(crate) fn new(redactor: &'r Redactor) -> Self {
        FieldKeys {
            redactor,
            current: None,
        }
    }

    /// Whether `field`'s name is sensitive (never, with redaction off).
    #[inline]
    pub(crate) fn is_sensitive(&mut self, field: &Field) -> bool {
        if !self.redactor.enabled {
            return false;
        }
        let index = field.index();
        if index >= MASK_BITS {
            return self.redactor.keys.is_sensitive(field.name());
        }
        let bit = 1_u64 << index;
        let callsite = field.callsite();
        let known = match &self.current {
            Some((current, known)) if *current == callsite => *known,
            _ => recall(self.redactor.id, &callsite),
        };
        if known.decided & bit != 0 {
            self.current = Some((callsite, known));
            return known.sensitive & bit != 0;
        }
        self.decide(field, callsite, known, bit)
    }

    /// The first sight of `field` on this thread.
    #[cold]
    fn decide(&mut self, field: &Field, callsite: Identifier, known: Known, bit: u64) -> bool {
        let sensitive = self.redactor.keys.is_sensitive(field.name());
        let known = Known {
            decided: known.decided | bit,
            sensitive: known.sensitive | if sensitive { bit } else { 0 },
        };
        remember(self.redactor.id, callsite.clone(), known);
        self.current = Some((callsite, known));
        sensitive
    }
}
