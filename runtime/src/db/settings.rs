//! The detector's settings in force: the `[db]` configuration applied by
//! `init()` (defaults until then), with the allowlist prepared for matching.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{DbConfig, Derived, NPlusOneMode};

use super::fingerprint::fingerprint;

/// What the detector reads when a scope ends.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) threshold: u32,
    pub(crate) min_duration: Duration,
    pub(crate) allowlist: Vec<Pattern>,
    pub(crate) mode: NPlusOneMode,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 5,
            min_duration: Duration::ZERO,
            allowlist: Vec::new(),
            mode: NPlusOneMode::Warn,
        }
    }
}

impl Settings {
    /// Whether a repeated statement of scope `scope` is allowed.
    pub(crate) fn allows(&self, scope: &str, fingerprint: &str) -> bool {
        self.allows_scope(scope)
            || self
                .allowlist
                .iter()
                .any(|p| p.matches(fingerprint) || *p.fingerprint == *fingerprint)
    }

    /// Whether scope `scope` is allowed as a whole, by its name.
    pub(crate) fn allows_scope(&self, scope: &str) -> bool {
        self.allowlist.iter().any(|p| p.matches(scope))
    }
}

/// One allowlist entry: a glob (`*` matches any text) tried on the scope's
/// name and on the fingerprint, and the entry's own fingerprint, so that a
/// statement pasted as written (values included) matches too.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    glob: String,
    fingerprint: String,
}

impl Pattern {
    pub(crate) fn new(text: &str) -> Pattern {
        Pattern {
            glob: text.to_owned(),
            fingerprint: fingerprint(text),
        }
    }

    fn matches(&self, text: &str) -> bool {
        glob_matches(self.glob.as_bytes(), text.as_bytes())
    }
}

/// `*` matches any run of bytes, everything else itself. Linear in
/// practice: on a mismatch only the last `*` is retried.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Derived from the configuration in force; the defaults before `init()`.
static SETTINGS: Derived<Settings> = Derived::new(|config| match config {
    Some(config) => {
        let n_plus_one = &config.db.n_plus_one;
        Settings {
            threshold: n_plus_one.threshold.max(2),
            min_duration: n_plus_one.min_duration,
            allowlist: n_plus_one
                .allowlist
                .iter()
                .map(|p| Pattern::new(p))
                .collect(),
            mode: n_plus_one.mode,
        }
    }
    None => Settings::default(),
});

/// Read for every query: a word `init()` sets from the configuration in
/// force, not a lock.
static CAPTURE_PARAMETERS: AtomicBool = AtomicBool::new(false);

/// `db.trace_root_queries`, read for every query outside a span.
static TRACE_ROOT_QUERIES: AtomicBool = AtomicBool::new(false);

/// Sets the words every query reads (`db.capture_parameters`,
/// `db.trace_root_queries`), from the configuration `init()` installs.
pub(crate) fn set_query_words(config: &DbConfig) {
    CAPTURE_PARAMETERS.store(config.capture_parameters, Ordering::Relaxed);
    TRACE_ROOT_QUERIES.store(config.trace_root_queries, Ordering::Relaxed);
}

/// `db.trace_root_queries`.
pub(crate) fn trace_root_queries() -> bool {
    TRACE_ROOT_QUERIES.load(Ordering::Relaxed)
}

/// The settings in force.
pub(crate) fn current() -> Arc<Settings> {
    SETTINGS.get()
}

/// `db.capture_parameters`.
pub(crate) fn capture_parameters() -> bool {
    CAPTURE_PARAMETERS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_texts() {
        for (pattern, text) in [
            ("load_flags", "load_flags"),
            ("OrderRepo::*", "OrderRepo::get"),
            ("*", ""),
            ("SELECT * FROM flags*", "SELECT * FROM flags WHERE name = ?"),
            ("*flags*", "SELECT * FROM flags WHERE name = ?"),
            ("a*b*c", "aXbYbZc"),
        ] {
            assert!(
                glob_matches(pattern.as_bytes(), text.as_bytes()),
                "{pattern} ~ {text}"
            );
        }
        for (pattern, text) in [
            ("load_flags", "load_flags_all"),
            ("OrderRepo::*", "Cart::get"),
            ("a*b*c", "aXbYbZ"),
            ("", "x"),
        ] {
            assert!(
                !glob_matches(pattern.as_bytes(), text.as_bytes()),
                "{pattern} !~ {text}"
            );
        }
    }

    #[test]
    fn the_allowlist_matches_scopes_fingerprints_and_raw_statements() {
        let settings = Settings {
            allowlist: vec![
                Pattern::new("warm_*"),
                Pattern::new("SELECT value FROM flags WHERE name = 'beta'"),
            ],
            ..Settings::default()
        };
        assert!(settings.allows("warm_cache", "SELECT 1"));
        assert!(settings.allows("list_orders", "SELECT value FROM flags WHERE name = ?"));
        assert!(!settings.allows("list_orders", "SELECT * FROM items WHERE order_id = ?"));
    }
}
