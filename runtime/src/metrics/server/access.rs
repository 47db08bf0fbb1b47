//! Who may scrape: the access rules `init()` resolved (`metrics.allow_from`,
//! `metrics.bearer_token`, plus `metrics.endpoint` and `metrics.listen`),
//! kept for both servers, and the one decision both apply to a request.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::StatusCode;
use ipnet::IpNet;

use crate::config::{Derived, MetricsConfig};

/// What the metrics endpoint serves and to whom: from the active
/// configuration, or the defaults when o11y is not initialised.
#[derive(Clone, PartialEq)]
pub(crate) struct ScrapeConfig {
    /// `metrics.endpoint`.
    pub(crate) endpoint: String,
    /// `metrics.listen`.
    pub(crate) listen: SocketAddr,
    /// `metrics.allow_from` and `metrics.bearer_token`.
    pub(crate) rules: AccessRules,
}

/// Who may scrape.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct AccessRules {
    /// Empty: every client.
    pub(crate) allow_from: Vec<IpNet>,
    /// When set, `Authorization: Bearer <token>` is required.
    pub(crate) bearer_token: Option<String>,
}

impl fmt::Debug for ScrapeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScrapeConfig")
            .field("endpoint", &self.endpoint)
            .field("listen", &self.listen)
            .field("rules", &self.rules)
            .finish()
    }
}

impl fmt::Debug for AccessRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessRules")
            .field("allow_from", &self.allow_from)
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl ScrapeConfig {
    fn from_config(metrics: &MetricsConfig) -> ScrapeConfig {
        ScrapeConfig {
            endpoint: metrics.endpoint.clone(),
            listen: metrics.listen,
            rules: AccessRules {
                allow_from: metrics.allow_from.clone(),
                bearer_token: metrics.bearer_token.clone(),
            },
        }
    }
}

/// Derived from the configuration in force; before `init()`, the defaults:
/// `/metrics` on `127.0.0.1:9464`, open to every client.
static ACTIVE: Derived<ScrapeConfig> = Derived::new(|config| match config {
    Some(config) => ScrapeConfig::from_config(&config.metrics),
    None => ScrapeConfig {
        endpoint: super::DEFAULT_ENDPOINT.to_owned(),
        listen: super::DEFAULT_LISTEN,
        rules: AccessRules::default(),
    },
});

/// The rules in force: read at each request, so a server started before
/// `init()` follows the configuration once it is loaded.
pub(crate) fn active() -> Arc<ScrapeConfig> {
    ACTIVE.get()
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Serve the metrics.
    Allowed,
    /// Refuse the scrape.
    Refused(Refusal),
}

/// Why a scrape was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The client is in none of the `metrics.allow_from` networks, or its
    /// address is unknown while the list is set: 403.
    Address,
    /// `metrics.bearer_token` is set and the request does not carry it: 401.
    Token,
}

impl Refusal {
    /// The `reason` label of `o11y_metrics_scrapes_refused_total`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refusal::Address => "address",
            Refusal::Token => "token",
        }
    }

    /// The response status.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Refusal::Address => StatusCode::FORBIDDEN,
            Refusal::Token => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Decides whether a request may scrape. `peer` is the client's address
/// (`None` when the server cannot tell: fail closed when an allowlist is
/// set); `authorization` the value of its `Authorization` header. The
/// address is checked first, so a client outside the allowlist learns
/// nothing about the token.
pub(crate) fn decide(
    rules: &AccessRules,
    peer: Option<IpAddr>,
    authorization: Option<&[u8]>,
) -> Access {
    if !rules.allow_from.is_empty() {
        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
        let allowed = peer
            .map(|ip| ip.to_canonical())
            .is_some_and(|ip| rules.allow_from.iter().any(|net| net.contains(&ip)));
        if !allowed {
            return Access::Refused(Refusal::Address);
        }
    }
    if let Some(token) = &rules.bearer_token {
        let presented = authorization.and_then(bearer_credentials);
        if !presented.is_some_and(|presented| constant_time_eq(presented, token.as_bytes())) {
            return Access::Refused(Refusal::Token);
        }
    }
    Access::Allowed
}

/// The token of an `Authorization: Bearer <token>` value (the scheme is
/// case-insensitive, RFC 9110 §11.1).
fn bearer_credentials(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = value[7..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Compares in time that depends only on the length, not on where the
/// first differing byte is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allow_from: &[&str], token: Option<&str>) -> AccessRules {
        AccessRules {
            allow_from: allow_from.iter().map(|n| n.parse().unwrap()).collect(),
            bearer_token: token.map(str::to_owned),
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn no_rules_allow_everyone() {
        let open = rules(&[], None);
        assert_eq!(decide(&open, ip("203.0.113.9"), None), Access::Allowed);
        assert_eq!(decide(&open, None, Some(b"Bearer x")), Access::Allowed);
    }

    #[test]
    fn the_allowlist_refuses_other_addresses_and_unknown_ones() {
        let lan = rules(&["10.0.0.0/8", "::1/128"], None);
        assert_eq!(decide(&lan, ip("10.20.30.40"), None), Access::Allowed);
        assert_eq!(decide(&lan, ip("::1"), None), Access::Allowed);
        assert_eq!(
            decide(&lan, ip("::ffff:10.1.2.3"), None),
            Access::Allowed,
            "IPv4-mapped"
        );
        assert_eq!(
            decide(&lan, ip("127.0.0.1"), None),
            Access::Refused(Refusal::Address)
        );
        assert_eq!(
            decide(&lan, ip("11.0.0.1"), None),
            Access::Refused(Refusal::Address)
        );
        assert_eq!(
            decide(&lan, None, None),
            Access::Refused(Refusal::Address),
            "fail closed"
        );
    }

    #[test]
    fn the_token_must_match_exactly() {
        let secured = rules(&[], Some("s3cret"));
        assert_eq!(
            decide(&secured, ip("127.0.0.1"), Some(b"Bearer s3cret")),
            Access::Allowed
        );
        assert_eq!(
            decide(&secured, ip("127.0.0.1"), Some(b"bearer  s3cret ")),
            Access::Allowed
        );
        for wrong in [
            &b"Bearer s3cre"[..],
            b"Bearer s3cret2",
            b"Bearer S3CRET",
            b"Basic s3cret",
            b"s3cret",
            b"Bearer ",
            b"",
        ] {
            assert_eq!(
                decide(&secured, ip("127.0.0.1"), Some(wrong)),
                Access::Refused(Refusal::Token),
                "{}",
                String::from_utf8_lossy(wrong)
            );
        }
        assert_eq!(
            decide(&secured, ip("127.0.0.1"), None),
            Access::Refused(Refusal::Token)
        );
    }

    #[test]
    fn the_address_is_checked_before_the_token() {
        let both = rules(&["10.0.0.0/8"], Some("s3cret"));
        assert_eq!(
            decide(&both, ip("127.0.0.1"), Some(b"Bearer s3cret")),
            Access::Refused(Refusal::Address)
        );
        assert_eq!(
            decide(&both, ip("10.0.0.1"), Some(b"Bearer nope")),
            Access::Refused(Refusal::Token)
        );
        assert_eq!(
            decide(&both, ip("10.0.0.1"), Some(b"Bearer s3cret")),
            Access::Allowed
        );
    }

    #[test]
    fn refusals_map_to_statuses_and_reasons() {
        assert_eq!(
            (Refusal::Address.status(), Refusal::Address.reason()),
            (StatusCode::FORBIDDEN, "address")
        );
        assert_eq!(
            (Refusal::Token.status(), Refusal::Token.reason()),
            (StatusCode::UNAUTHORIZED, "token")
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        let shown = format!("{:?}", rules(&[], Some("hunter2")));
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
    }

    #[test]
    fn equal_and_unequal_byte_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
