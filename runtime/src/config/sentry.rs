//! The `[sentry]` section as plain data: where errors and panics of observed
//! code go as Sentry events (the DSN), and what the events say of the
//! deployment (environment, release) and how many are kept; with the check
//! of a DSN. Sending them is the runtime's `sentry` module's (feature
//! `sentry`).

use super::Profile;
use super::value::Refusal;

/// The `[sentry]` section: with [`dsn`](Self::dsn) set (or `SENTRY_DSN`),
/// and o11y built with its `sentry` feature, every error and panic o11y
/// reports on a span (an `#[observe(err)]` error, a panic in an observed
/// call, a request or a task, a failed task) is also sent to Sentry as an
/// event, redacted as every other signal is. Without a DSN nothing of
/// Sentry runs.
///
/// ```
/// use o11y_runtime::config::{Config, Profile};
/// let config = Config::builder()
///     .no_config_file()
///     .profile(Profile::Prod)
///     .env_vars([
///         ("SENTRY_DSN", "https://public@o1.ingest.sentry.io/42"),
///         ("O11Y_SERVICE_VERSION", "1.4.2"),
///     ])
///     .build()?;
/// assert_eq!(config.sentry.dsn.as_deref(), Some("https://public@o1.ingest.sentry.io/42"));
/// assert_eq!(config.sentry.environment(config.profile), "prod");
/// assert_eq!(config.sentry.event_sample_rate, 1.0);
/// # Ok::<(), o11y_runtime::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentryConfig {
    /// The project's DSN (`https://<public key>@<host>/<project id>`);
    /// `None`: nothing is sent.
    pub dsn: Option<String>,
    /// The events' `environment`; `None`: the profile's name.
    pub environment: Option<String>,
    /// The events' `release`; `None`: `service.version`, else the `GIT_SHA`
    /// variable, else none.
    pub release: Option<String>,
    /// The share of events sent, from 0.0 to 1.0.
    pub event_sample_rate: f64,
}

impl SentryConfig {
    /// The environment events are sent with: the configured one, else the
    /// name of `profile`.
    pub fn environment(&self, profile: Profile) -> &str {
        self.environment.as_deref().unwrap_or(profile.as_str())
    }
}

/// What a DSN must be, as the Sentry SDK reads it: an `http://` or
/// `https://` URL with a public key as its user, a host, and a project id
/// as the last segment of its path. `https://` needs the `tls` feature,
/// which `sentry` turns on.
pub(super) fn check_dsn(text: &str) -> Result<(), Refusal> {
    let url = url::Url::parse(text).map_err(|e| Refusal::because(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::because(format!(
            "scheme {}:// is not supported",
            url.scheme()
        )));
    }
    if url.username().is_empty() {
        return Err(Refusal::because(
            "the public key is missing (it goes before the @)",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Refusal::because("a host is required"));
    }
    let project = url.path().trim_matches('/').rsplit('/').next();
    if project.is_none_or(str::is_empty) {
        return Err(Refusal::because(
            "the project id is missing (the last part of the path)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dsn_needs_a_scheme_a_key_a_host_and_a_project() {
        for good in [
            "https://public@o1.ingest.sentry.io/42",
            "https://public:secret@sentry.example.com/path/to/7",
            "http://public@127.0.0.1:9000/1",
        ] {
            assert!(check_dsn(good).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("o1.ingest.sentry.io/42", "relative URL"),
            ("ftp://public@sentry.example.com/1", "ftp"),
            ("https://sentry.example.com/1", "public key"),
            ("https://public@sentry.example.com/", "project id"),
            ("https://public@sentry.example.com", "project id"),
        ] {
            let refusal = check_dsn(bad).expect_err(bad);
            let detail = refusal.0.unwrap_or_default();
            assert!(
                detail.contains(why) || (why == "relative URL" && !detail.is_empty()),
                "{bad}: {detail}"
            );
        }
    }

    /// The check must accept exactly what the SDK parses, so that a DSN
    /// the configuration took never fails later.
    #[cfg(feature = "sentry")]
    #[test]
    fn the_check_agrees_with_the_sdk() {
        for text in [
            "https://public@o1.ingest.sentry.io/42",
            "http://public@127.0.0.1:9000/1",
            "https://public:secret@sentry.example.com/path/to/7",
            "https://sentry.example.com/1",
            "https://public@sentry.example.com/",
            "https://public@sentry.example.com",
            "ftp://public@sentry.example.com/1",
            "not a url",
        ] {
            let sdk = text.parse::<sentry::types::Dsn>().is_ok();
            assert_eq!(check_dsn(text).is_ok(), sdk, "{text}");
        }
    }
}
