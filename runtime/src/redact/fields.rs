//! The key rule's decision for the field names of `tracing` callsites,
//! taken once per name rather than at every span and event: a field's name
//! is a `&'static str`, written where the callsite is, so its decision is
//! fixed too, and the string's address and length name it exactly.
//!
//! The decisions live in a table of words shared by every thread, one
//! table per engine: a word holds a name's address and length and whether
//! it is sensitive, so that one load and one comparison give the decision
//! (no lock, no thread-local map, no hashing of the text). A name is
//! decided once, by the first thread that meets it; two names that share a
//! slot take turns in it, each decided again when it comes back. A name
//! the word cannot hold (an address above 2⁴⁷, a name of 64 KiB or more)
//! is decided every time.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::field::Field;

use super::keys::KeyRule;

/// Slots of a table: a few hundred field names are many for a program.
const SLOTS: usize = 1024;
/// The bits of a name's address (user space addresses on 64-bit systems
/// are below 2⁴⁷), then of its length, then the decision.
const ADDRESS_BITS: u32 = 47;
const LENGTH_BITS: u32 = 16;
const SENSITIVE: u64 = 1 << (ADDRESS_BITS + LENGTH_BITS);

/// The decisions of one engine's key rule for `'static` field names.
pub(super) struct FieldNames {
    slots: Box<[AtomicU64]>,
}

/// How many names are decided, not the slots: a subscriber's `Debug`
/// prints its stages, and with them this.
impl std::fmt::Debug for FieldNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let decided = self
            .slots
            .iter()
            .filter(|slot| slot.load(Ordering::Relaxed) != 0)
            .count();
        f.debug_struct("FieldNames")
            .field("decided", &decided)
            .finish()
    }
}

impl FieldNames {
    pub(super) fn new() -> Self {
        FieldNames {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Whether `field`'s name is sensitive by `keys`, decided once.
    #[inline]
    pub(super) fn is_sensitive(&self, keys: &KeyRule, field: &Field) -> bool {
        let name: &'static str = field.name();
        let (address, length) = (name.as_ptr().addr() as u64, name.len() as u64);
        if address >> ADDRESS_BITS != 0 || length >> LENGTH_BITS != 0 {
            return keys.is_sensitive(name);
        }
        let id = address | length << ADDRESS_BITS;
        // Fibonacci hashing of the address: its low bits are alignment.
        let slot = &self.slots[(id.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize % SLOTS];
        // A word is written whole, so a load sees one name's decision or
        // another's, never a mix; a name's decision never changes.
        let word = slot.load(Ordering::Relaxed);
        if word & !SENSITIVE == id {
            return word & SENSITIVE != 0;
        }
        decide(keys, name, id, slot)
    }
}

/// The first sight of `name` in its slot.
#[cold]
fn decide(keys: &KeyRule, name: &str, id: u64, slot: &AtomicU64) -> bool {
    let sensitive = keys.is_sensitive(name);
    slot.store(
        id | if sensitive { SENSITIVE } else { 0 },
        Ordering::Relaxed,
    );
    sensitive
}

#[cfg(test)]
mod tests {
    use super::*;

    static CALLSITE: tracing_core::callsite::DefaultCallsite =
        tracing_core::callsite::DefaultCallsite::new(&SIGNUP);
    static SIGNUP: tracing_core::Metadata<'static> = tracing::metadata! {
        name: "signup",
        target: "o11y::redact::fields::tests",
        level: tracing::Level::INFO,
        fields: &["user_id", "password", "note", "email"],
        callsite: &CALLSITE,
        kind: tracing_core::metadata::Kind::SPAN,
    };

    fn decisions(names: &FieldNames, keys: &KeyRule) -> Vec<bool> {
        SIGNUP
            .fields()
            .iter()
            .map(|field| names.is_sensitive(keys, &field))
            .collect()
    }

    #[test]
    fn a_slot_taken_by_another_name_is_decided_again() {
        let (names, keys) = (FieldNames::new(), KeyRule::default());
        let expected = [false, true, false, true];
        assert_eq!(decisions(&names, &keys), expected);
        assert_eq!(decisions(&names, &keys), expected, "from the table");
        // Every slot held by a name of another address, claiming it is
        // sensitive: none of it is taken for these names' decisions.
        for slot in names.slots.iter() {
            slot.store(0x1000 | 3 << ADDRESS_BITS | SENSITIVE, Ordering::Relaxed);
        }
        assert_eq!(decisions(&names, &keys), expected);
        let allowing = KeyRule::new(&[], &["email".to_owned()]);
        assert_eq!(
            decisions(&FieldNames::new(), &allowing),
            [false, true, false, false],
            "each rule its own table"
        );
    }
}
