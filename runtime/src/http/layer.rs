//! The server layer itself: [`layer()`], the tower [`HttpLayer`] and the
//! [`HttpService`] it wraps a service in, the [`ResponseFuture`], and the
//! per-request guard that records how the request ended (response, error,
//! panic, or cancellation) exactly once.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use http::{HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::incoming::Carried;
use super::method::MethodLabel;
use super::outcome::Outcome;
use super::route::{RouteCache, RouteSeries};
use super::settings::{self, Settings};
use super::span;
use super::{metrics, propagation, request_id};
use crate::db::Scope;
use crate::lifecycle::Operation;
use crate::lifecycle::panic::{self as panics, Captured};
use crate::observe::{self, METRICS};

/// The server layer: one SERVER span, request id, RED metrics and access-log
/// line per request. Mount it with axum's `Router::layer`, after the routes
/// it should observe:
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::net::SocketAddr;
/// use axum::{Router, routing::get};
///
/// let _o11y = o11y_runtime::init()?;
/// let app = Router::new()
///     .route("/orders/{id}", get(|| async { "order" }))
///     .merge(o11y_runtime::http::routes())
///     .layer(o11y_runtime::http::layer()); // last: it wraps the routes above
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// // `with_connect_info` gives spans their `client.address`.
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
/// # Ok(())
/// # }
/// ```
///
/// # What a request gets
///
/// - A span named `METHOD route` (`GET /orders/{id}`; just `GET` when no
///   route matched; `HTTP` for a method outside the nine standard ones, as
///   OpenTelemetry names it), kind SERVER, with `http.request.method`, `http.route`,
///   `url.path`, `url.query` (values of sensitive parameters `REDACTED`),
///   `url.scheme`, `network.protocol.version`,
///   `client.address` (with connect info), `user_agent.original`,
///   `request_id`, `http.request.header.<name>` for each header of
///   `http.capture_headers` (a sensitive one's value redacted) and, once
///   answered, `http.response.status_code`. A 5xx
///   marks it as an error (`error.type` is the status code); a 4xx does not.
///   With a valid W3C `traceparent` (and `tracestate`) the span continues
///   the caller's trace, and with `tracing.parent_based` (the default) the
///   caller's sampled flag decides whether it is recorded; its `random` flag
///   and `tracestate` (each key once, an invalid list dropped) go on to
///   every span and outgoing call of the trace. A malformed `traceparent`
///   starts a new trace and never fails the request. A `baggage`
///   header is put in the request's extensions as an
///   [`opentelemetry::Context`] holding it, for the handler
///   (`Option<Extension<opentelemetry::Context>>`, then
///   [`baggage()`](opentelemetry::baggage::BaggageExt::baggage)); its entries
///   are not copied to spans or log lines, since the caller controls them.
/// - A request id: the `X-Request-ID` header when it is at most
///   [`MAX_REQUEST_ID_LEN`](super::MAX_REQUEST_ID_LEN) characters of
///   `[A-Za-z0-9._-]`, else a new one (32 hex digits) that replaces the
///   header the handler sees. It is echoed in the response's `X-Request-ID`
///   and is the `request_id` field of every log line of the request, next
///   to `http.method`, `path` and, once [`set_user`](super::set_user) was
///   called, `user_id`.
/// - `http_server_request_duration_seconds{http_request_method,http_route,
///   http_response_status_code}` (an exemplar links a sampled request to its
///   trace) and `http_server_active_requests{http_request_method}`. Methods
///   other than the nine standard ones are
///   [`_OTHER`](super::OTHER_METHOD); requests no route matched share the
///   route [`unmatched`](super::UNMATCHED_ROUTE): a client cannot create
///   series by sending made-up methods or paths.
/// - One `request_finished` log line at the end, with `status` and
///   `duration_ms` (`http.access_log = false` turns it off).
///
/// A handler that panics (with tower-http's `CatchPanic` outside this
/// layer, or none at all) is recorded as a 500 with `error.type=panic` and
/// an `exception` event (the panic's message, and its backtrace as
/// `errors.backtrace` says), and the panic goes on unchanged. The panic
/// hook `init()` installs writes the panic's error log line inside the
/// request, with its `request_id` and `trace_id`. A `CatchPanic` inside
/// this layer turns the panic into a 500 before it gets here: the span
/// still gets the `exception` event (and `error.type` 500). Any other 5xx
/// is an error status, without an `exception` event: there is no error
/// value to describe. A request whose future is dropped before it
/// answers (the client went away, a timeout outside this layer) is recorded
/// with status 499 (nginx's "client closed request") and
/// `error.type=cancelled`; its span gets no status code.
///
/// The span and the access-log line are `info`, target `o11y::http`: a
/// `logging.level` that filters that target out leaves the metrics and the
/// request id header, and log lines without the request's context.
///
/// Paths in `http.exclude_paths` (default `/metrics`, `/health`, `/healthz`,
/// `/ready`, `/favicon.ico`; exact matches) get nothing: no span, no log
/// line, no metrics, and the request goes straight to the service. Until
/// `init()` has run, and after its guard is dropped, every request does.
///
/// # Where to mount it
///
/// The route template comes from axum's `MatchedPath`, which the router
/// sets when it picks a route, before it calls that route's service.
/// `Router::layer` wraps each route (and the fallback) in this layer, so it
/// sees the template; call it after adding the routes (and `merge`/`nest`).
/// `Router::route_layer` would leave unmatched requests unobserved. Wrapping
/// the whole router from outside (`ServiceBuilder`, or `layer().layer(router)`
/// for hyper) works, as with any tower service, but the router has not
/// matched yet: every request is then `unmatched` and its span just `GET`.
///
/// Layers added after this one (outside it) run before the span exists;
/// those added before it (inside) run within it, like the handler.
pub fn layer() -> HttpLayer {
    HttpLayer { _private: () }
}

/// The tower layer returned by [`layer()`].
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpLayer {
    _private: (),
}

impl<S> Layer<S> for HttpLayer {
    type Service = HttpService<S>;

    fn layer(&self, inner: S) -> HttpService<S> {
        HttpService {
            inner,
            state: Arc::new(ServiceState::default()),
        }
    }
}

/// A service wrapped by [`HttpLayer`].
#[derive(Clone)]
pub struct HttpService<S> {
    inner: S,
    state: Arc<ServiceState>,
}

/// Shared by the clones of one wrapped service (axum clones a route's
/// service for every request).
#[derive(Default)]
struct ServiceState {
    /// Read at the first observed request (so after `init()`).
    settings: OnceLock<Arc<Settings>>,
    /// The route series this service answers for, by method.
    routes: RouteCache,
}

impl<S> fmt::Debug for HttpService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpService").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let flags = observe::flags();
        if flags == 0 {
            return ResponseFuture::passthrough(self.inner.call(request));
        }
        let state = &*self.state;
        let settings = state.settings.get_or_init(settings::active);
        if settings.is_excluded(request.uri().path()) {
            return ResponseFuture::passthrough(self.inner.call(request));
        }

        let method = MethodLabel::of(request.method());
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let series = state.routes.series(method, route);
        let carried = Carried::of(request.headers());
        let given = carried
            .request_id
            .then(|| request_id::take(request.headers()))
            .flatten();
        // An id o11y made holds nothing to redact; a caller's may.
        let (request_id, generated) = match given {
            Some(id) => (id, false),
            None => (request_id::assign(request.headers_mut()), true),
        };
        let remote = carried
            .traceparent
            .then(|| propagation::remote_parent(request.headers()))
            .flatten();
        if carried.baggage
            && let Some(baggage) = propagation::baggage(request.headers())
        {
            request.extensions_mut().insert(baggage);
        }
        let operation = span::start(
            &request,
            settings,
            series,
            (&request_id, generated),
            remote.as_ref(),
        );
        let metrics = flags & METRICS != 0;
        if metrics {
            metrics::active(series.method).inc();
        }
        // The request's N+1 scope: queries of the handler that no inner
        // scope (an observed function) owns are counted against the route.
        // Its span is the request's, given when it closes.
        let scope = Scope::new(series.span_name);
        let mut guard = RequestGuard {
            series,
            scope: Some(scope),
            operation,
            request_id,
            metrics,
            access_log: settings.access_log,
            finished: false,
        };
        let called = {
            let _entered = guard.operation.span_or_none().enter();
            let _scope = guard.scope.as_mut().map(Scope::enter);
            panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
        };
        match called {
            Ok(inner) => ResponseFuture {
                inner,
                request: Some(guard),
            },
            Err(panic) => {
                guard.panicked(&*panic);
                panic::resume_unwind(panic)
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpService`]: the wrapped service's
    /// future, within the request's span, and what records the request when
    /// it answers, fails, panics or is dropped.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        request: Option<RequestGuard>,
    }
}

impl<F> ResponseFuture<F> {
    fn passthrough(inner: F) -> Self {
        ResponseFuture {
            inner,
            request: None,
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("observed", &self.request.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(request) = this.request.as_mut() else {
            return this.inner.poll(cx);
        };
        let inner = this.inner;
        let polled = {
            let _entered = request.operation.span_or_none().enter();
            let _scope = request.scope.as_mut().map(Scope::enter);
            panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))
        };
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(panic) => {
                if let Some(request) = this.request.take() {
                    request.panicked(&*panic);
                }
                panic::resume_unwind(panic)
            }
        };
        let Some(request) = this.request.take() else {
            return Poll::Ready(result);
        };
        Poll::Ready(match result {
            Ok(mut response) => {
                request.answered(&mut response);
                Ok(response)
            }
            Err(error) => {
                request.finish(Outcome::Failed(std::any::type_name::<E>()));
                Err(error)
            }
        })
    }
}

/// One observed request in flight. Records its outcome once: when the
/// service answers or fails, when it panics, or, dropped unfinished, as
/// cancelled.
struct RequestGuard {
    series: &'static RouteSeries,
    /// Taken (and closed) when the request ends, before its span: the
    /// span gets `db.query_count` and any N+1 attributes.
    scope: Option<Scope>,
    /// The request span, its clock and exemplar.
    operation: Operation,
    request_id: HeaderValue,
    /// The in-progress gauge was raised (metrics on at the start).
    metrics: bool,
    access_log: bool,
    finished: bool,
}

impl RequestGuard {
    fn answered<B>(mut self, response: &mut Response<B>) {
        response
            .headers_mut()
            .insert(request_id::header_name(), self.request_id.clone());
        self.record(Outcome::Answered(response.status()), None);
    }

    fn finish(mut self, outcome: Outcome) {
        self.record(outcome, None);
    }

    /// The service panicked with `payload`, caught here before it goes on.
    fn panicked(mut self, payload: &(dyn Any + Send)) {
        self.record(Outcome::Panicked, Some(panics::caught(payload)));
    }

    fn record(&mut self, outcome: Outcome, panic: Option<Arc<Captured>>) {
        self.finished = true;
        let stopped = self.operation.stop();
        let elapsed = stopped.elapsed;
        if let Some(scope) = self.scope.take() {
            // Reports (and logs) a detection inside the request's span.
            scope.close_in(self.operation.span_or_none());
        }
        let status = outcome.status();
        if let Some((trace_id, _)) = self.operation.recorded() {
            // A 5xx answered by a `CatchPanic` inside this layer has the
            // panic that caused it, if one happened in this request's trace
            // on this thread; any other 5xx is only an error status.
            let panic = match outcome {
                Outcome::Answered(status) if status.is_server_error() => {
                    panics::take_in_trace(trace_id)
                }
                _ => panic,
            };
            if let Some(panic) = panic {
                self.operation.fail_unwound(Some(&*panic));
            }
            span::end(
                self.operation.span_or_none(),
                outcome.status_sent(),
                outcome.error_type(),
            );
        }
        if self.metrics {
            let series = self.series;
            series.durations.observe(
                series.method,
                series.route_label(),
                status,
                elapsed.as_secs_f64(),
                self.operation.exemplar(),
            );
            metrics::active(series.method).dec();
        }
        if self.access_log {
            let status = status.as_u16();
            let duration_ms = crate::clock::millis(elapsed);
            // In the request's span through `parent:`, without entering it.
            // The message as a `&str` field: a format string's message is
            // formatted through `fmt` into the line's message every time.
            let span = self.operation.span_or_none();
            let message = "request_finished";
            match outcome.log_error() {
                None => tracing::info!(
                    target: "o11y::http",
                    parent: span,
                    status,
                    duration_ms,
                    message,
                ),
                Some(error) => tracing::info!(
                    target: "o11y::http",
                    parent: span,
                    status,
                    duration_ms,
                    error,
                    message,
                ),
            }
        }
        self.operation.close(stopped);
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.record(Outcome::Cancelled, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_on_an_axum_router_and_any_tower_service() {
        // `Router::layer` asks for Clone + Send + Sync services whose errors
        // are `Infallible` and whose futures are `Send`: this must compile.
        let _router: axum::Router = axum::Router::new()
            .route("/", axum::routing::get(|| async { "home" }))
            .layer(layer());
        let _outside = layer().layer(axum::Router::<()>::new());
    }
}
