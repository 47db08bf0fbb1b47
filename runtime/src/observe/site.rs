//! A call site: the `static` that `#[observe]` generates per function, with
//! its names, the `tracing` callsite of its span, and the metric handles
//! resolved on its first call; and the link-time list of every site, which
//! `init()` checks for two functions that would share one series, and
//! the `rules` and `dashboards` commands read for the functions' objectives.

use std::sync::OnceLock;

use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::{Field, FieldSet, Value};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::metadata::Kind;
use tracing::{Level, Metadata, Span};

use crate::metrics::{CounterHandle, GaugeHandle, HistogramHandle};
use crate::slo::Objective;

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
    /// `get_order`, or `OrderRepo::get` for the methods of an observed
    /// `impl` block. A method observed alone has only its own name here;
    /// [`FnSite::function`] qualifies it with its type.
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
    /// For a method observed alone, whose type the attribute cannot see:
    /// the `type_name` of a function nested in it (`crate::m::Repo::find::__o11y_path`),
    /// from which [`FnSite::function`] takes `Repo::find` once.
    path: Option<fn() -> &'static str>,
    qualified: OnceLock<&'static str>,
    /// `#[observe(objective(..))]`: what the function's calls must meet.
    objective: Option<Objective>,
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
            path: None,
            qualified: OnceLock::new(),
            objective: None,
        }
    }

    /// The site of a function with an objective (checked by the attribute:
    /// percentages in range, the threshold a bucket of
    /// `function_calls_duration_seconds`).
    pub const fn with_objective(mut self, objective: Objective) -> Self {
        self.objective = Some(objective);
        self
    }

    /// The function's objective, if it declares one.
    pub fn objective(&self) -> Option<&Objective> {
        self.objective.as_ref()
    }

    /// The site of a method observed alone: `path` is a function nested in
    /// it, `fn __o11y_path() -> &'static str { type_name_of_val(&__o11y_path) }`,
    /// which names the method's type (not `const`, so read on first use).
    pub const fn in_impl(mut self, path: fn() -> &'static str) -> Self {
        self.path = Some(path);
        self
    }

    /// The `function` label and the N+1 scope's name: [`FnSite::function`]
    /// as written, or `Type::method` for a method observed alone.
    #[inline]
    pub fn function(&self) -> &'static str {
        match self.path {
            None => self.function,
            Some(path) => self.qualified(path),
        }
    }

    #[cold]
    fn qualified(&self, path: fn() -> &'static str) -> &'static str {
        self.qualified.get_or_init(|| {
            qualify(path(), self.function)
                .map_or(self.function, |name| Box::leak(name.into_boxed_str()))
        })
    }

    /// The name of the exported span when it is not the `tracing` span's
    /// own (a method observed alone: `Type::method`).
    pub(super) fn exported_name(&self) -> Option<&'static str> {
        self.path.map(|path| self.qualified(path))
    }

    /// `file:line` of the function.
    pub fn location(&self) -> String {
        format!(
            "{}:{}",
            self.metadata.file().unwrap_or("?"),
            self.metadata.line().unwrap_or(0)
        )
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
                ok: calls.labels([self.function(), self.module, "ok"]),
                error: calls.labels([self.function(), self.module, "error"]),
                duration: duration.labels([self.function(), self.module]),
                concurrent: self
                    .options
                    .concurrency
                    .then(|| concurrent.labels([self.function(), self.module])),
            }
        })
    }
}

impl std::fmt::Debug for FnSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnSite")
            .field("function", &self.function())
            .field("module", &self.module)
            .finish()
    }
}

/// `Type::method` from the `type_name` of a function nested in a method
/// (`crate::m::Repo<_>::find::{{closure}}::__o11y_path`, or
/// `<crate::m::Repo as crate::m::Find>::find::__o11y_path` in a trait
/// impl): the type's last path segment without its generic arguments, as
/// the attribute names the methods of an observed `impl` block. `None`
/// when the text is not of that shape (`type_name` promises no format).
fn qualify(path: &str, method: &str) -> Option<String> {
    let segments = top_level_segments(path);
    // The nested function, the `{{closure}}` of an async body, the method.
    let method_at = segments.iter().rposition(|s| *s == method)?;
    let owner = *segments[..method_at].last()?;
    let owner = match owner.strip_prefix('<') {
        // `<Type as Trait>`: the type.
        Some(qualified) => qualified.split(" as ").next()?,
        None => owner,
    };
    let owner = owner.trim_start_matches('&').trim_start_matches("mut ");
    let owner = owner.split('<').next()?;
    let owner = owner.rsplit("::").next()?;
    (!owner.is_empty()).then(|| format!("{owner}::{method}"))
}

/// `a::b<c::d>::e` → `["a", "b<c::d>", "e"]`: splits on the `::` outside
/// angle brackets.
fn top_level_segments(path: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0_usize, 0);
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(&path[start..i]);
                i += 2;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(&path[start..]);
    segments
}

/// Lists a site in [`FN_SITES`]: what `#[observe]` generates in each
/// function, after its site's `static`.
#[doc(hidden)]
#[macro_export]
macro_rules! __list_site {
    ($site:ident) => {
        #[$crate::observe::__linkme::distributed_slice($crate::observe::FN_SITES)]
        #[linkme(crate = $crate::observe::__linkme)]
        static __O11Y_LISTED: &$crate::observe::FnSite = &$site;
    };
}

/// Every observed function of the binary. Populated at link time by the
/// code `#[observe]` generates.
// linkme places the slice in a link section, which the `unsafe_code` lint
// flags; the section is linkme's, read only through its safe API.
#[allow(unsafe_code)]
#[linkme::distributed_slice]
pub static FN_SITES: [&'static FnSite];

/// Two observed functions whose calls would share one series of
/// `function_calls_total` (the same `function` and `module` labels): the
/// first such pair, in a stable order, as `(function, module, first
/// location, second location)`.
pub(crate) fn shared_series() -> Option<(&'static str, &'static str, String, String)> {
    shared_series_of(&FN_SITES)
}

fn shared_series_of(
    sites: &[&'static FnSite],
) -> Option<(&'static str, &'static str, String, String)> {
    let mut sorted: Vec<&FnSite> = sites
        .iter()
        .copied()
        .filter(|s| s.options.metrics)
        .collect();
    sorted.sort_by_key(|site| (site.function(), site.module, site.location()));
    sorted.windows(2).find_map(|pair| {
        let (first, second) = (pair[0], pair[1]);
        (first.function() == second.function()
            && first.module == second.module
            && !std::ptr::eq(first, second))
        .then(|| {
            (
                first.function(),
                first.module,
                first.location(),
                second.location(),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::{FnSite, SiteOptions, qualify, shared_series_of};

    macro_rules! site {
        ($name:ident, $function:literal, $module:literal, $line:literal) => {
            static $name: FnSite = FnSite::new(
                $function,
                $module,
                SiteOptions::DEFAULT,
                $function,
                Level::INFO,
                "src/lib.rs",
                $line,
                &$name,
            );
        };
    }
    site!(HELPER_IN_A, "helper", "app::handlers", 10);
    site!(HELPER_IN_B, "helper", "app::handlers", 20);
    site!(HELPER_ELSEWHERE, "helper", "app::jobs", 30);
    site!(OTHER, "other", "app::handlers", 40);
    static UNMETERED: FnSite = FnSite::new(
        "helper",
        "app::handlers",
        SiteOptions {
            metrics: false,
            ..SiteOptions::DEFAULT
        },
        "helper",
        Level::INFO,
        "src/lib.rs",
        50,
        &UNMETERED,
    );

    #[test]
    fn two_sites_with_one_function_and_module_share_a_series() {
        assert_eq!(
            shared_series_of(&[&OTHER, &HELPER_IN_B, &HELPER_ELSEWHERE, &HELPER_IN_A]),
            Some((
                "helper",
                "app::handlers",
                "src/lib.rs:10".to_owned(),
                "src/lib.rs:20".to_owned()
            ))
        );
    }

    #[test]
    fn other_modules_other_names_and_sites_without_metrics_do_not() {
        assert_eq!(
            shared_series_of(&[&HELPER_IN_A, &HELPER_ELSEWHERE, &OTHER, &UNMETERED]),
            None
        );
        assert_eq!(shared_series_of(&[&HELPER_IN_A, &HELPER_IN_A]), None);
    }

    #[test]
    fn methods_are_named_after_their_type() {
        let cases = [
            ("app::repo::ItemRepo::find::__o11y_path", "ItemRepo::find"),
            (
                "app::repo::ItemRepo::find::{{closure}}::__o11y_path",
                "ItemRepo::find",
            ),
            ("app::repo::Generic<_>::find::__o11y_path", "Generic::find"),
            (
                "app::repo::Generic<_, _>::find::__o11y_path",
                "Generic::find",
            ),
            (
                "<app::repo::Generic<u8> as app::repo::Find>::find::__o11y_path",
                "Generic::find",
            ),
            (
                "<&app::repo::ItemRepo as app::Find>::find::__o11y_path",
                "ItemRepo::find",
            ),
            (
                "<&mut app::Repo as app::Find>::find::__o11y_path",
                "Repo::find",
            ),
            (
                "<app::Repo<app::Item<u8>> as app::Find<app::X>>::find::__o11y_path",
                "Repo::find",
            ),
            // A trait's default method: the trait.
            ("app::repo::Find::find::__o11y_path", "Find::find"),
            // An impl inside a function body.
            ("app::main::Local::find::__o11y_path", "Local::find"),
        ];
        for (path, expected) in cases {
            assert_eq!(qualify(path, "find").as_deref(), Some(expected), "{path}");
        }
    }

    #[test]
    fn an_unknown_shape_keeps_the_plain_name() {
        assert_eq!(qualify("__o11y_path", "find"), None);
        assert_eq!(qualify("find::__o11y_path", "find"), None);
    }
}
