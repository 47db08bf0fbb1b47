//! The console's settings (`dev_console.enabled`, `dev_console.allow_from`,
//! `dev_console.max_body_bytes`), derived from the configuration in force.

use std::sync::Arc;

use crate::config::{Config, Derived};
use crate::metrics::server::AccessRules;

#[derive(Debug)]
pub(super) struct Settings {
    pub(super) enabled: bool,
    /// `dev_console.allow_from`, decided as the metrics endpoint's rules
    /// are (no token).
    pub(super) rules: AccessRules,
    pub(super) max_body_bytes: usize,
}

/// Before `init()`: off.
static SETTINGS: Derived<Settings> = Derived::new(|config: Option<&Config>| match config {
    Some(config) => Settings {
        enabled: config.dev_console.enabled,
        rules: AccessRules {
            allow_from: config.dev_console.allow_from.clone(),
            bearer_token: None,
        },
        max_body_bytes: config.dev_console.max_body_bytes,
    },
    None => Settings {
        enabled: false,
        rules: AccessRules::default(),
        max_body_bytes: 0,
    },
});

pub(super) fn active() -> Arc<Settings> {
    SETTINGS.get()
}
