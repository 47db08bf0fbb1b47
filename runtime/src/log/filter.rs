//! The level filter `init()` installs (`logging.level`, `RUST_LOG`'s
//! syntax), as the cheapest layer that honours it.
//!
//! `EnvFilter` takes a read lock and a map lookup on every span enter,
//! exit and close, because a span-scoped directive (`[request]=debug`,
//! `app[{user}]=trace`) changes what is enabled inside that span. Most
//! filters have no such directive: `info`, `warn,my_app=debug`. For those,
//! `Targets` decides the same thing once per callsite and costs nothing per
//! span. (In a perf profile of `scripts/bench-http.sh`'s o11y server,
//! two spans per request, `EnvFilter`'s span bookkeeping was ~2% of the
//! server's CPU.)

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Interest, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};

/// `logging.level` as a filter layer.
#[derive(Debug)]
pub(crate) enum LevelDirectives {
    /// Only `target=level`, bare level and bare target directives.
    Static(Targets),
    /// With span or field directives: `EnvFilter`, which tracks spans.
    Dynamic(Box<EnvFilter>),
}

impl LevelDirectives {
    /// The filter for `directives`, already checked by `EnvFilter` (which
    /// also parses the dynamic ones and gives the error messages).
    pub(crate) fn new(directives: &str, checked: EnvFilter) -> Self {
        match static_targets(directives) {
            Some(targets) => LevelDirectives::Static(targets),
            None => LevelDirectives::Dynamic(Box::new(checked)),
        }
    }
}

impl LevelDirectives {
    /// Whether the filter keeps span bookkeeping (and must see spans
    /// enter, exit and close).
    pub(crate) fn tracks_spans(&self) -> bool {
        matches!(self, LevelDirectives::Dynamic(_))
    }
}

/// `directives` as `Targets`, when every directive is static. Anything
/// with brackets or braces (span names, fields) stays with `EnvFilter`:
/// `Targets` reads `target[{field}]` with another meaning.
fn static_targets(directives: &str) -> Option<Targets> {
    let static_only = !directives.contains(['[', ']', '{', '}'])
        && directives.split(',').all(|d| !d.trim().is_empty());
    if !static_only {
        return None;
    }
    directives.parse().ok()
}

impl<S: Subscriber> Layer<S> for LevelDirectives {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self {
            LevelDirectives::Static(targets) => Layer::<S>::register_callsite(targets, metadata),
            LevelDirectives::Dynamic(filter) => Layer::<S>::register_callsite(&**filter, metadata),
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        match self {
            LevelDirectives::Static(targets) => Layer::<S>::enabled(targets, metadata, ctx),
            LevelDirectives::Dynamic(filter) => Layer::<S>::enabled(&**filter, metadata, ctx),
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match self {
            LevelDirectives::Static(targets) => Layer::<S>::max_level_hint(targets),
            LevelDirectives::Dynamic(filter) => Layer::<S>::max_level_hint(&**filter),
        }
    }

    // Span bookkeeping: only a dynamic filter needs it.

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let LevelDirectives::Dynamic(filter) = self {
            filter.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let LevelDirectives::Dynamic(filter) = self {
            filter.on_record(id, values, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let LevelDirectives::Dynamic(filter) = self {
            filter.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let LevelDirectives::Dynamic(filter) = self {
            filter.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let LevelDirectives::Dynamic(filter) = self {
            filter.on_close(id, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn kind(directives: &str) -> &'static str {
        let checked = EnvFilter::builder().parse(directives).expect("valid");
        match LevelDirectives::new(directives, checked) {
            LevelDirectives::Static(_) => "static",
            LevelDirectives::Dynamic(_) => "dynamic",
        }
    }

    #[test]
    fn plain_levels_and_targets_need_no_span_tracking() {
        assert_eq!(kind("info"), "static");
        assert_eq!(kind("warn,my_app=debug,hyper=off"), "static");
        assert_eq!(kind("warn,my_app::db=trace"), "static");
        assert_eq!(kind("my_app"), "static");
    }

    #[test]
    fn span_and_field_directives_keep_env_filter() {
        assert_eq!(kind("info,[request]=debug"), "dynamic");
        assert_eq!(kind("my_app[{user_id}]=trace"), "dynamic");
        assert_eq!(kind("my_app[handler{id=7}]=debug,info"), "dynamic");
    }

    /// What each filter lets through, event by event, on a real subscriber.
    fn passed(directives: &str, use_static: bool) -> Vec<&'static str> {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Seen(Arc<Mutex<Vec<&'static str>>>);
        impl<S: Subscriber> Layer<S> for Seen {
            fn on_event(&self, event: &tracing_core::Event<'_>, _: Context<'_, S>) {
                self.0.lock().unwrap().push(event.metadata().name());
            }
        }
        let checked = EnvFilter::builder().parse(directives).expect("valid");
        let filter = if use_static {
            LevelDirectives::new(directives, checked)
        } else {
            LevelDirectives::Dynamic(Box::new(checked))
        };
        let seen = Seen::default();
        let subscriber = tracing_subscriber::Registry::default()
            .with(filter)
            .with(seen.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(name: "app_debug", target: "my_app", "x");
            tracing::trace!(name: "db_trace", target: "my_app::db", "x");
            tracing::info!(name: "hyper_info", target: "hyper::proto", "x");
            tracing::warn!(name: "other_warn", target: "other", "x");
            tracing::info!(name: "other_info", target: "other", "x");
        });
        seen.0.lock().unwrap().clone()
    }

    #[test]
    fn targets_decide_as_env_filter_does() {
        for directives in [
            "info",
            "warn,my_app=debug,hyper=off",
            "my_app::db=trace,warn",
            "my_app",
            "off",
            "trace,my_app=info",
        ] {
            assert_eq!(kind(directives), "static", "{directives}");
            assert_eq!(
                passed(directives, true),
                passed(directives, false),
                "{directives}"
            );
        }
    }
}
