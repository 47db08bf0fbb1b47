//! The server layer's settings (`http.access_log`, `http.exclude_paths`),
//! derived from the configuration in force, and the exclusion test each
//! request goes through first.

use std::sync::Arc;

use crate::config::{Config, Derived, HttpConfig};

/// The layer's settings: from the active configuration, or the defaults
/// when o11y is not initialised.
#[derive(Debug, PartialEq)]
pub(crate) struct Settings {
    /// Write one `request_finished` line per request.
    pub(crate) access_log: bool,
    /// Paths left alone, compared exactly with the request's path.
    exclude_paths: Box<[Box<str>]>,
}

impl Settings {
    fn from_config(http: &HttpConfig) -> Settings {
        Settings {
            access_log: http.access_log,
            exclude_paths: http
                .exclude_paths
                .iter()
                .map(|p| p.as_str().into())
                .collect(),
        }
    }

    /// Whether the layer leaves a request for `path` alone. A handful of
    /// short comparisons, most ending at the length.
    #[inline]
    pub(crate) fn is_excluded(&self, path: &str) -> bool {
        self.exclude_paths
            .iter()
            .any(|excluded| **excluded == *path)
    }
}

/// Derived from the configuration in force.
static SETTINGS: Derived<Settings> = Derived::new(derive);

/// The settings of `config`; the defaults before `init()`.
fn derive(config: Option<&Config>) -> Settings {
    match config {
        Some(config) => Settings::from_config(&config.http),
        None => Settings {
            access_log: true,
            exclude_paths: super::DEFAULT_EXCLUDE_PATHS
                .iter()
                .map(|p| (*p).into())
                .collect(),
        },
    }
}

/// The settings in force; each layered service reads them once, at its
/// first observed request.
pub(crate) fn active() -> Arc<Settings> {
    SETTINGS.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_is_an_exact_match() {
        let settings = Settings::from_config(&HttpConfig {
            access_log: true,
            exclude_paths: vec!["/health".into(), "/metrics".into()],
            client: crate::config::HttpClientConfig {
                forward_request_id: true,
            },
        });
        assert!(settings.is_excluded("/health"));
        assert!(settings.is_excluded("/metrics"));
        assert!(!settings.is_excluded("/health/"));
        assert!(!settings.is_excluded("/healthz"));
        assert!(!settings.is_excluded("/metrics/x"));
        assert!(!settings.is_excluded("/"));
    }

    #[test]
    fn defaults_exclude_probes_and_scrapes() {
        let defaults = derive(None);
        for path in ["/metrics", "/health", "/healthz", "/ready", "/favicon.ico"] {
            assert!(defaults.is_excluded(path), "{path}");
        }
        assert!(!defaults.is_excluded("/orders"));
        assert!(defaults.access_log);
    }
}
