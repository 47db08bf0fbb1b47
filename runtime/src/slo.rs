//! Service level objectives, as data: what `#[observe(objective(..))]`
//! puts in a function's call site and what `slo.routes` says of an HTTP
//! route. The rules they obey (percentages, a latency threshold on a
//! bucket boundary) and the text form are `o11y_naming::objective`'s; the
//! `rules` and `dashboards` commands turn objectives into recording rules,
//! burn-rate alerts and an SLO dashboard.

use o11y_naming::objective::{self, ObjectiveSpec};

/// The objective of one function or route: a success ratio, a latency
/// threshold met by a share of calls, or both. Percentages are written as
/// percentages (`99.9`); each is measured over 30 days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// The share of calls that must succeed, in percent.
    pub success: Option<f64>,
    /// The latency part.
    pub latency: Option<LatencyObjective>,
}

/// `percent` % of calls finish within `threshold_seconds`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyObjective {
    /// A bucket boundary of the histogram the calls are timed in.
    pub threshold_seconds: f64,
    /// The share of calls, in percent.
    pub percent: f64,
}

impl Objective {
    /// From the parsed text form.
    pub fn from_spec(spec: ObjectiveSpec) -> Objective {
        Objective {
            success: spec.success,
            latency: spec
                .latency
                .map(|(threshold_seconds, percent)| LatencyObjective {
                    threshold_seconds,
                    percent,
                }),
        }
    }
}

/// An objective of the HTTP server's requests to one route (`slo.routes`).
#[derive(Debug, Clone, PartialEq)]
pub struct RouteObjective {
    /// The method (`GET`), or `None` for every method of the route.
    pub method: Option<String>,
    /// The route as the server layer labels it (`/orders/{id}`).
    pub route: String,
    /// What the route's requests must meet.
    pub objective: Objective,
}

impl std::fmt::Display for Objective {
    /// The text form: `success = 99.9, latency = 250ms at 99`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(success) = self.success {
            parts.push(format!("success = {success}"));
        }
        if let Some(latency) = self.latency {
            parts.push(format!(
                "latency = {} at {}",
                objective::format_seconds(latency.threshold_seconds),
                latency.percent
            ));
        }
        f.write_str(&parts.join(", "))
    }
}

impl std::fmt::Display for RouteObjective {
    /// The text form of `slo.routes`: `GET /orders/{id}: success = 99.9`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(method) = &self.method {
            write!(f, "{method} ")?;
        }
        write!(f, "{}: {}", self.route, self.objective)
    }
}

/// How one `slo.routes` entry reads.
pub const ROUTE_SYNTAX: &str = "`[METHOD] ROUTE: OBJECTIVE`, like \
     `GET /orders/{id}: success = 99.9, latency = 250ms at 99`";

/// Parses `GET /orders/{id}: success = 99.9, latency = 250ms at 99`; the
/// latency threshold must be a bucket of `buckets` (those of `metric`).
pub fn parse_route(text: &str, metric: &str, buckets: &[f64]) -> Result<RouteObjective, String> {
    // The objective holds no colon; a route may (`/files/:name`).
    let Some((target, spec)) = text.rsplit_once(':') else {
        return Err(format!(
            "`{}` names no route: write {ROUTE_SYNTAX}",
            text.trim()
        ));
    };
    let words: Vec<&str> = target.split_whitespace().collect();
    let (method, route) = match words[..] {
        [route] => (None, route),
        [method, route] => (Some(method.to_ascii_uppercase()), route),
        _ => {
            return Err(format!(
                "`{}` is not a route with an optional method: write {ROUTE_SYNTAX}",
                target.trim()
            ));
        }
    };
    if !route.starts_with('/') {
        return Err(format!(
            "the route `{route}` does not start with `/`: write {ROUTE_SYNTAX}"
        ));
    }
    let spec = objective::parse(spec).map_err(|problem| format!("`{route}`: {problem}"))?;
    if let Some((seconds, _)) = spec.latency {
        objective::check_threshold(metric, seconds, buckets)
            .map_err(|problem| format!("`{route}`: {problem}"))?;
    }
    Ok(RouteObjective {
        method,
        route: route.to_owned(),
        objective: Objective::from_spec(spec),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKETS: &[f64] = o11y_naming::DEFAULT_SECONDS_BUCKETS;

    #[test]
    fn a_route_reads_with_or_without_its_method() {
        let parsed = parse_route(
            "get /orders/{id}: success = 99.9, latency = 250ms at 99",
            "d",
            BUCKETS,
        )
        .unwrap();
        assert_eq!(parsed.method.as_deref(), Some("GET"));
        assert_eq!(parsed.route, "/orders/{id}");
        assert_eq!(parsed.objective.success, Some(99.9));
        assert_eq!(
            parsed.objective.latency,
            Some(LatencyObjective {
                threshold_seconds: 0.25,
                percent: 99.0
            })
        );
        let any_method = parse_route("/files/:name: success = 99", "d", BUCKETS).unwrap();
        assert_eq!(
            (any_method.method, any_method.route.as_str()),
            (None, "/files/:name")
        );
    }

    #[test]
    fn a_threshold_between_buckets_names_them() {
        let error = parse_route("/a: latency = 300ms at 99", "d", BUCKETS).unwrap_err();
        assert!(
            error.starts_with("`/a`: the latency threshold 300ms"),
            "{error}"
        );
        assert!(error.ends_with("7.5s, 10s"), "{error}");
        for bad in ["success = 99", "GET a: success = 99", "a b c: success = 99"] {
            assert!(parse_route(bad, "d", BUCKETS).is_err(), "{bad}");
        }
    }
}
