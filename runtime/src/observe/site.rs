//! A call site: the `static` that `#[observe]` generates per function, with
//! its names, the `tracing` callsite of its span, and the metric handles
//! resolved on its first call.

use std::sync::OnceLock;

use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::{Field, FieldSet, Value};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::metadata::Kind;
use tracing::{Level, Metadata, Span};

use crate::metrics::{CounterHandle, GaugeHandle, HistogramHandle};

use super::guard::function_metrics;

/// Options fixed at compile time by the attribute's arguments.
#[derive(Debug, Clone, Copy)]
pub struct SiteOptions {
    /// Record `function_calls_*` metrics (`metrics = false` turns them off).
    pub metrics: bool,
    /// Maintain `function_calls_concurrent` (`concurrency`).
    pub concurrency: bool,
    /// Create a span even when the call is not sampled, because the
    /// attribute declares `fields(..)` or `args(..)` that log lines need.
    pub span_for_logs: bool,
    /// Create spans at all (`span = false` turns them off).
    pub span: bool,
}

impl SiteOptions {
    /// What a bare `#[observe]` asks for: metrics and a span.
    pub const DEFAULT: SiteOptions = SiteOptions {
        metrics: true,
        concurrency: false,
        span_for_logs: false,
        span: true,
    };
}

pub(super) struct Handles {
    pub(super) ok: CounterHandle,
    pub(super) error: CounterHandle,
    pub(super) duration: HistogramHandle,
    /// Only with `concurrency`: no series for functions that did not ask.
    pub(super) concurrent: Option<GaugeHandle>,
}

/// One instrumented function.
pub struct FnSite {
    /// `function` label and the default span name's last part:
    /// `get_order`, or `OrderRepo::get` for methods.
    pub function: &'static str,
    /// `module` label: the function's `module_path!()`.
    pub module: &'static str,
    /// What the attribute asked for.
    pub options: SiteOptions,
    handles: OnceLock<Handles>,
    /// The `tracing` callsite of the function's span when it has no fields
    /// (what `tracing::span!` would declare in the function), so that the
    /// span is created here rather than by code generated per function.
    callsite: DefaultCallsite,
    metadata: Metadata<'static>,
}

impl FnSite {
    /// A call site; `const` so it can be a `static`. `this` is the static
    /// itself: its span's metadata and callsite point at each other, as
    /// those `tracing::span!` declares do.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        function: &'static str,
        module: &'static str,
        options: SiteOptions,
        span_name: &'static str,
        level: Level,
        file: &'static str,
        line: u32,
        this: &'static FnSite,
    ) -> Self {
        FnSite {
            function,
            module,
            options,
            handles: OnceLock::new(),
            callsite: DefaultCallsite::new(&this.metadata),
            metadata: Metadata::new(
                span_name,
                module,
                level,
                Some(file),
                Some(line),
                Some(module),
                FieldSet::new(&[], Identifier(&this.callsite)),
                Kind::SPAN,
            ),
        }
    }

    /// The function's span, without fields: what `tracing::span!(target:
    /// module_path!(), level, name)` in the function would create.
    pub(super) fn new_span(&'static self) -> Span {
        let metadata = &self.metadata;
        let level = *metadata.level();
        if level <= STATIC_MAX_LEVEL && level <= LevelFilter::current() {
            let interest = self.callsite.interest();
            if !interest.is_never()
                && (interest.is_always()
                    || tracing::dispatcher::get_default(|current| current.enabled(metadata)))
            {
                let values: [(&Field, Option<&dyn Value>); 0] = [];
                return Span::new(metadata, &metadata.fields().value_set(&values));
            }
        }
        Span::none()
    }

    /// The handles of this site's series, looked up once.
    #[inline]
    pub(super) fn handles(&self) -> &Handles {
        self.handles.get_or_init(|| {
            let (calls, duration, concurrent) = function_metrics();
            Handles {
                ok: calls.labels([self.function, self.module, "ok"]),
                error: calls.labels([self.function, self.module, "error"]),
                duration: duration.labels([self.function, self.module]),
                concurrent: self
                    .options
                    .concurrency
                    .then(|| concurrent.labels([self.function, self.module])),
            }
        })
    }
}

impl std::fmt::Debug for FnSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnSite")
            .field("function", &self.function)
            .field("module", &self.module)
            .finish()
    }
}
