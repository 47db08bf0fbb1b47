//! The server layer's settings (`http.access_log`, `http.exclude_paths`,
//! `http.capture_headers`, and the redaction engine its requests are
//! recorded through), derived from the configuration in force, and the
//! exclusion test each request goes through first.

use std::sync::Arc;

use http::HeaderName;
use opentelemetry::Key;

use crate::config::{Config, Derived, HttpConfig};
use crate::redact::{self, Redactor};

/// The layer's settings: from the active configuration, or the defaults
/// when o11y is not initialised.
#[derive(Debug)]
pub(crate) struct Settings {
    /// Write one `request_finished` line per request.
    pub(crate) access_log: bool,
    /// Paths left alone, compared exactly with the request's path.
    exclude_paths: Box<[Box<str>]>,
    /// The dev console is on: its paths (`/o11y/…`) are left alone too, so
    /// that its pages and their polling do not fill it.
    console: bool,
    /// The request headers recorded on the span.
    pub(crate) capture: Box<[CapturedHeader]>,
    /// What `url.query`, the captured headers and the request's log fields
    /// are redacted by.
    pub(crate) redactor: &'static Redactor,
}

/// A header of `http.capture_headers`, decided once.
#[derive(Debug)]
pub(crate) struct CapturedHeader {
    pub(crate) name: HeaderName,
    /// `http.request.header.<name>`, the semantic conventions' attribute.
    pub(crate) attribute: Key,
    /// Its name is sensitive: recorded, with its value redacted.
    pub(crate) sensitive: bool,
}

impl Settings {
    /// The settings of `http`, the console's paths observed.
    fn from_config(http: &HttpConfig, redactor: &'static Redactor) -> Settings {
        Settings {
            console: false,
            access_log: http.access_log,
            exclude_paths: http
                .exclude_paths
                .iter()
                .map(|p| p.as_str().into())
                .collect(),
            capture: http
                .capture_headers
                .iter()
                .filter_map(|name| {
                    // Checked by the configuration; lowercase there too.
                    let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
                    Some(CapturedHeader {
                        attribute: Key::from(format!("http.request.header.{}", name.as_str())),
                        sensitive: redactor.is_sensitive_key(name.as_str()),
                        name,
                    })
                })
                .collect(),
            redactor,
        }
    }

    /// Whether the layer leaves a request for `path` alone. A handful of
    /// short comparisons, most ending at the length.
    #[inline]
    pub(crate) fn is_excluded(&self, path: &str) -> bool {
        self.exclude_paths
            .iter()
            .any(|excluded| **excluded == *path)
            || (self.console && crate::dev_console::is_console_path(path))
    }
}

/// Derived from the configuration in force.
static SETTINGS: Derived<Settings> = Derived::new(derive);

/// The settings of `config` (and of the redaction engine `init()`
/// installed with it); the defaults before `init()`.
fn derive(config: Option<&Config>) -> Settings {
    match config {
        Some(config) => Settings {
            console: config.dev_console.enabled,
            ..Settings::from_config(&config.http, redact::active())
        },
        None => Settings {
            access_log: true,
            exclude_paths: super::DEFAULT_EXCLUDE_PATHS
                .iter()
                .map(|p| (*p).into())
                .collect(),
            capture: Box::new([]),
            console: false,
            redactor: redact::active(),
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

    fn http_config(exclude_paths: &[&str], capture_headers: &[&str]) -> HttpConfig {
        HttpConfig {
            access_log: true,
            exclude_paths: exclude_paths.iter().map(|p| (*p).to_owned()).collect(),
            capture_headers: capture_headers.iter().map(|h| (*h).to_owned()).collect(),
            client: crate::config::HttpClientConfig {
                forward_request_id: true,
            },
        }
    }

    #[test]
    fn exclusion_is_an_exact_match() {
        let settings = Settings::from_config(
            &http_config(&["/health", "/metrics"], &[]),
            redact::active(),
        );
        assert!(settings.is_excluded("/health"));
        assert!(settings.is_excluded("/metrics"));
        assert!(!settings.is_excluded("/health/"));
        assert!(!settings.is_excluded("/healthz"));
        assert!(!settings.is_excluded("/metrics/x"));
        assert!(!settings.is_excluded("/"));
        assert!(!settings.is_excluded("/o11y/"), "the console is off");
    }

    #[test]
    fn the_console_paths_are_excluded_while_it_is_on() {
        let settings = Settings {
            console: true,
            ..Settings::from_config(&http_config(&[], &[]), redact::active())
        };
        for path in ["/o11y", "/o11y/", "/o11y/trace/ab", "/o11y/v1/traces"] {
            assert!(settings.is_excluded(path), "{path}");
        }
        for path in ["/o11yx", "/orders", "/"] {
            assert!(!settings.is_excluded(path), "{path}");
        }
    }

    #[test]
    fn defaults_exclude_probes_and_scrapes() {
        let defaults = derive(None);
        for path in ["/metrics", "/health", "/healthz", "/ready", "/favicon.ico"] {
            assert!(defaults.is_excluded(path), "{path}");
        }
        assert!(!defaults.is_excluded("/orders"));
        assert!(defaults.access_log);
        assert!(defaults.capture.is_empty(), "no header unless listed");
    }

    #[test]
    fn captured_headers_are_named_by_the_conventions_and_sensitive_ones_marked() {
        let settings = Settings::from_config(
            &http_config(&[], &["x-tenant", "authorization", "x-api-key", "cookie"]),
            redact::active(),
        );
        let captured: Vec<(&str, &str, bool)> = settings
            .capture
            .iter()
            .map(|h| (h.name.as_str(), h.attribute.as_str(), h.sensitive))
            .collect();
        assert_eq!(
            captured,
            [
                ("x-tenant", "http.request.header.x-tenant", false),
                ("authorization", "http.request.header.authorization", true),
                ("x-api-key", "http.request.header.x-api-key", true),
                ("cookie", "http.request.header.cookie", true),
            ]
        );
    }
}
