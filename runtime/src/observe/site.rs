//! A call site: the `static` that `#[observe]` generates per function, with
//! its names and the metric handles resolved on its first call.

use std::sync::OnceLock;

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
}

impl FnSite {
    /// A call site; `const` so it can be a `static`.
    pub const fn new(function: &'static str, module: &'static str, options: SiteOptions) -> Self {
        FnSite {
            function,
            module,
            options,
            handles: OnceLock::new(),
        }
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
