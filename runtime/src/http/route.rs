//! The route as the layer names it, bounded whatever the client sends: the
//! route template axum matched (`/orders/{id}`) or [`UNMATCHED_ROUTE`],
//! never the raw path (the method label is in `method`).
//!
//! Each (method, route) gets one [`RouteSeries`] for the life of the
//! process: its span name, its label values and its duration handles. A
//! layered service keeps the series of the route it serves, one per method,
//! so a request finds its metric handles without hashing anything; only a
//! miss (the first request of a method, or a service shared by several
//! routes) goes through the process-wide table. Series are never freed,
//! like the metric series they hold, and there are as many as the
//! application has routes times the methods they are called with.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};

use super::method::{METHODS, MethodLabel};
use super::metrics::Durations;

/// The `http_route` label of a request no route matched (the router's
/// fallback): one value, so that scanning random paths cannot create series.
/// Routes start with `/`, so no route can be mistaken for it.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// What the layer keeps per (method, route).
pub(crate) struct RouteSeries {
    pub(crate) method: MethodLabel,
    /// The route template; `None` when no route matched.
    pub(crate) route: Option<&'static str>,
    /// The span name: `GET /orders/{id}`, or `GET` when no route matched;
    /// `HTTP` stands for a method outside the known ones, as OpenTelemetry
    /// names it (the `_OTHER` label value is not a method).
    pub(crate) span_name: &'static str,
    pub(crate) durations: Durations,
}

impl RouteSeries {
    fn leak(method: MethodLabel, route: Option<&str>) -> &'static RouteSeries {
        let route: Option<&'static str> = route.map(|r| &*Box::leak(Box::<str>::from(r)));
        let method_name = if method.is_other() {
            "HTTP"
        } else {
            method.as_str()
        };
        let span_name = match route {
            Some(route) => Box::leak(format!("{method_name} {route}").into_boxed_str()),
            None => method_name,
        };
        Box::leak(Box::new(RouteSeries {
            method,
            route,
            span_name,
            durations: Durations::new(),
        }))
    }

    /// The `http_route` label value.
    pub(crate) fn route_label(&self) -> &'static str {
        self.route.unwrap_or(UNMATCHED_ROUTE)
    }
}

/// The series of one layered service, by method.
#[derive(Default)]
pub(crate) struct RouteCache {
    by_method: [OnceLock<&'static RouteSeries>; METHODS],
}

impl RouteCache {
    /// The series of a request: the one this service keeps for `method`
    /// when its route is the same (always, for a service axum layered per
    /// route), else the process-wide one.
    #[inline]
    pub(crate) fn series(&self, method: MethodLabel, route: Option<&str>) -> &'static RouteSeries {
        let kept = *self.by_method[method.index()].get_or_init(|| intern(method, route));
        if kept.route == route {
            kept
        } else {
            intern(method, route)
        }
    }
}

type Matched = [HashMap<Box<str>, &'static RouteSeries>; METHODS];

static MATCHED: LazyLock<RwLock<Matched>> =
    LazyLock::new(|| RwLock::new(std::array::from_fn(|_| HashMap::new())));
static UNMATCHED: [OnceLock<&'static RouteSeries>; METHODS] = [const { OnceLock::new() }; METHODS];

/// The process's one series of (method, route).
fn intern(method: MethodLabel, route: Option<&str>) -> &'static RouteSeries {
    let Some(route) = route else {
        return UNMATCHED[method.index()].get_or_init(|| RouteSeries::leak(method, None));
    };
    let read = MATCHED.read().unwrap_or_else(|e| e.into_inner());
    if let Some(series) = read[method.index()].get(route) {
        return series;
    }
    drop(read);
    let mut write = MATCHED.write().unwrap_or_else(|e| e.into_inner());
    write[method.index()]
        .entry(route.into())
        .or_insert_with(|| RouteSeries::leak(method, Some(route)))
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    #[test]
    fn routes_are_templates_or_the_one_unmatched_value() {
        let get = MethodLabel::of(&Method::GET);
        let matched = intern(get, Some("/unit-test/orders/{id}"));
        assert_eq!(matched.route_label(), "/unit-test/orders/{id}");
        assert_eq!(matched.span_name, "GET /unit-test/orders/{id}");
        let unmatched = intern(get, None);
        assert_eq!(unmatched.route_label(), UNMATCHED_ROUTE);
        assert_eq!(unmatched.span_name, "GET");
        let purge = MethodLabel::of(&Method::from_bytes(b"PURGE").unwrap());
        let other = intern(purge, None);
        assert_eq!(
            other.span_name, "HTTP",
            "OpenTelemetry's name for any other method"
        );
        assert_eq!(other.method.as_str(), "_OTHER", "the label stays bounded");
        let other_matched = intern(purge, Some("/unit-test/cache/{key}"));
        assert_eq!(other_matched.span_name, "HTTP /unit-test/cache/{key}");
    }

    #[test]
    fn one_series_per_method_and_route() {
        let get = MethodLabel::of(&Method::GET);
        let post = MethodLabel::of(&Method::POST);
        let a = intern(get, Some("/unit-test/a"));
        assert!(std::ptr::eq(a, intern(get, Some("/unit-test/a"))));
        assert!(!std::ptr::eq(a, intern(post, Some("/unit-test/a"))));
        assert!(!std::ptr::eq(a, intern(get, Some("/unit-test/b"))));
        assert!(std::ptr::eq(intern(get, None), intern(get, None)));
    }

    #[test]
    fn a_service_keeps_its_route_and_still_serves_others() {
        let cache = RouteCache::default();
        let get = MethodLabel::of(&Method::GET);
        let kept = cache.series(get, Some("/unit-test/kept"));
        assert!(std::ptr::eq(
            kept,
            cache.series(get, Some("/unit-test/kept"))
        ));
        // A service mounted at two paths (a nested router used twice).
        let other = cache.series(get, Some("/unit-test/elsewhere"));
        assert_eq!(other.route, Some("/unit-test/elsewhere"));
        assert!(std::ptr::eq(
            kept,
            cache.series(get, Some("/unit-test/kept"))
        ));
        assert_eq!(cache.series(get, None).route, None);
    }
}
