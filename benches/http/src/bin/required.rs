//! What the prod configuration requires of a request, written by hand for
//! this one route, with no library of ours: the floor's two `tracing`
//! spans (the request context log lines would hang from), a request id
//! (16 random bytes as hex, into the request's and the response's
//! headers), trace and span ids with a 1% sampling decision, the duration
//! histogram and the in-flight gauge (atomics, the series found once), and
//! one JSON access-log line per request on standard output, batched 32 KiB
//! at a time. Nothing is exported and no span records anything: the
//! sampled 1% cost o11y more than they cost here.
//!
//! With `BENCH_SPANS=0` it keeps no `tracing` span at all (what a design
//! without spans for unsampled requests would pay; log lines inside the
//! handler would then need a context of another kind).
//!
//! Not a product: no route other than this one is measured, no header is
//! parsed (a caller's `traceparent` or `X-Request-ID` is ignored), nothing
//! is configurable. What it shows is how fast the required work can be, so
//! that o11y's ratio can be read against it rather than against bare axum
//! alone (prod configuration only).

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri};
use axum::response::Response;
use axum::routing::get;
use o11y_bench_http::{answer, report_requests, runtime, serve};
use tower_service::Service;
use tracing::Instrument;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const SAMPLE_RATE: f64 = 0.01;
const BATCH_BYTES: usize = 32 * 1024;

/// `http_server_request_duration_seconds` for `GET /orders/{id}` 200: the
/// OpenTelemetry buckets, a count and a sum, as atomics.
struct Histogram {
    buckets: [AtomicU64; BOUNDS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

const BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

impl Histogram {
    fn observe(&self, seconds: f64) {
        let bucket = BOUNDS.partition_point(|&bound| bound < seconds);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }
}

static DURATIONS: Histogram = Histogram {
    buckets: [const { AtomicU64::new(0) }; BOUNDS.len() + 1],
    count: AtomicU64::new(0),
    sum_nanos: AtomicU64::new(0),
};
static ACTIVE: AtomicI64 = AtomicI64::new(0);
static LOG_BATCH: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Whether the two spans are kept (`BENCH_SPANS=0`: none).
static SPANS: LazyLock<bool> = LazyLock::new(|| std::env::var("BENCH_SPANS").as_deref() != Ok("0"));

thread_local! {
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The last second formatted, and its `YYYY-MM-DDTHH:MM:SS.`.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// The hand-written layer: one unboxed future per request, as o11y's.
#[derive(Clone)]
struct Observed<S>(S);

impl<S, B> Service<Request<B>> for Observed<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let started = Instant::now();
        ACTIVE.fetch_add(1, Ordering::Relaxed);
        let request_id = hex::<32>(fastrand::u128(..).to_be_bytes());
        let request_id = HeaderValue::from_bytes(&request_id).expect("hex digits");
        request.headers_mut().insert(REQUEST_ID, request_id.clone());
        let finished = Finished {
            started,
            request_id,
            trace_id: fastrand::u128(1..).to_be_bytes(),
            span_id: fastrand::u64(1..).to_be_bytes(),
            method: request.method().clone(),
            // Shares the request line's bytes: no copy.
            uri: request.uri().clone(),
        };
        let _sampled = fastrand::f64() < SAMPLE_RATE;
        let span = if *SPANS {
            tracing::info_span!("HTTP request")
        } else {
            tracing::Span::none()
        };
        let inner = span.in_scope(|| self.0.call(request));
        ObservedFuture {
            inner,
            span,
            finished: Some(finished),
        }
    }
}

/// What the access-log line needs when the response is ready.
struct Finished {
    started: Instant,
    request_id: HeaderValue,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    method: Method,
    uri: Uri,
}

pin_project_lite::pin_project! {
    struct ObservedFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        finished: Option<Finished>,
    }
}

impl<F, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.span.enter();
            std::task::ready!(this.inner.poll(cx))
        };
        let (Ok(mut response), Some(finished)) = (result, this.finished.take()) else {
            panic!("the route answers once, and never fails");
        };
        response
            .headers_mut()
            .insert(REQUEST_ID, finished.request_id.clone());
        let elapsed = finished.started.elapsed();
        DURATIONS.observe(elapsed.as_secs_f64());
        ACTIVE.fetch_sub(1, Ordering::Relaxed);
        access_log(
            &finished,
            response.status().as_u16(),
            elapsed.as_nanos() as f64 / 1e6,
        );
        Poll::Ready(Ok(response))
    }
}

fn access_log(request: &Finished, status: u16, duration_ms: f64) {
    LINE.with_borrow_mut(|line| {
        line.clear();
        line.extend_from_slice(b"{\"timestamp\":\"");
        timestamp(SystemTime::now(), line);
        line.extend_from_slice(
            b"\",\"level\":\"info\",\"event\":\"request_finished\",\"logger\":\"o11y::http\",\"trace_id\":\"",
        );
        line.extend_from_slice(&hex::<32>(request.trace_id));
        line.extend_from_slice(b"\",\"span_id\":\"");
        line.extend_from_slice(&hex::<16>(request.span_id));
        line.extend_from_slice(b"\",\"request_id\":\"");
        line.extend_from_slice(request.request_id.as_bytes());
        line.extend_from_slice(b"\",\"http.method\":\"");
        line.extend_from_slice(request.method.as_str().as_bytes());
        line.extend_from_slice(b"\",\"path\":");
        json_string(request.uri.path(), line);
        line.extend_from_slice(b",\"status\":");
        line.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
        line.extend_from_slice(b",\"duration_ms\":");
        line.extend_from_slice(zmij::Buffer::new().format_finite(duration_ms).as_bytes());
        line.extend_from_slice(b"}\n");
        let full = {
            let mut batch = LOG_BATCH.lock().unwrap_or_else(|e| e.into_inner());
            batch.extend_from_slice(line);
            (batch.len() >= BATCH_BYTES).then(|| std::mem::take(&mut *batch))
        };
        if let Some(full) = full {
            let _ = std::io::stdout().lock().write_all(&full);
        }
    });
}

fn flush_log() {
    let rest = std::mem::take(&mut *LOG_BATCH.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = std::io::stdout().lock().write_all(&rest);
}

/// `N` lowercase hex digits of `N / 2` bytes.
fn hex<const N: usize>(bytes: impl AsRef<[u8]>) -> [u8; N] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; N];
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes.as_ref()) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    out
}

/// `text` as a JSON string; escaped byte by byte only when it must be.
fn json_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(text.as_bytes());
    } else {
        for c in text.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                c if (c as u32) < 0x20 => {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                }
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
    }
    out.push(b'"');
}

/// RFC 3339 in UTC with microseconds; the date and time of day formatted
/// once per second and thread.
fn timestamp(now: SystemTime, out: &mut Vec<u8>) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (cached, mut prefix) = SECOND.get();
    if cached != secs {
        // `YYYY-MM-DDTHH:MM:SSZ`: its first 19 bytes, then the decimal point.
        let second = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs));
        prefix[..19].copy_from_slice(&second.to_string().as_bytes()[..19]);
        prefix[19] = b'.';
        SECOND.set((secs, prefix));
    }
    out.extend_from_slice(&prefix);
    let micros = since.subsec_micros();
    let mut digits = *b"000000Z";
    let mut rest = micros;
    for digit in digits[..6].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits);
}

async fn get_order(Path(id): Path<u64>) -> Response {
    let span = if *SPANS {
        tracing::info_span!("get_order", order_id = id)
    } else {
        tracing::Span::none()
    };
    answer(id).instrument(span).await
}

fn main() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry())
        .expect("no other subscriber is installed");
    let app = Router::new()
        .route("/orders/{id}", get(get_order))
        .layer(tower_layer::layer_fn(Observed));
    runtime().block_on(serve(app));
    flush_log();
    eprintln!(
        "bench-server: requests_observed={} in_flight={}",
        DURATIONS.count.load(Ordering::Relaxed),
        ACTIVE.load(Ordering::Relaxed)
    );
    report_requests();
}
