//! What `init()` configured for the server layer (`http.access_log`,
//! `http.exclude_paths`), kept where every layered service can read it, and
//! the exclusion test each request goes through first.

use std::sync::{Arc, LazyLock, RwLock};

use crate::config::HttpConfig;

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

static DEFAULT: LazyLock<Arc<Settings>> = LazyLock::new(|| {
    Arc::new(Settings {
        access_log: true,
        exclude_paths: super::DEFAULT_EXCLUDE_PATHS
            .iter()
            .map(|p| (*p).into())
            .collect(),
    })
});

/// What `init()` resolved; `None` before it ran.
static ACTIVE: RwLock<Option<Arc<Settings>>> = RwLock::new(None);

/// Called by `init()`.
pub(crate) fn configure(http: &HttpConfig) {
    let settings = Arc::new(Settings::from_config(http));
    *ACTIVE.write().unwrap_or_else(|e| e.into_inner()) = Some(settings);
}

/// The settings in force; each layered service reads them once, at its
/// first observed request.
pub(crate) fn active() -> Arc<Settings> {
    ACTIVE
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| DEFAULT.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_is_an_exact_match() {
        let settings = Settings::from_config(&HttpConfig {
            access_log: true,
            exclude_paths: vec!["/health".into(), "/metrics".into()],
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
        for path in ["/metrics", "/health", "/healthz", "/ready", "/favicon.ico"] {
            assert!(DEFAULT.is_excluded(path), "{path}");
        }
        assert!(!DEFAULT.is_excluded("/orders"));
        assert!(DEFAULT.access_log);
    }
}
