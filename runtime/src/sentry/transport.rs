//! How envelopes reach Sentry: one thread of their own (`o11y-sentry`,
//! marked as an export thread, so that what its HTTP client logs is not
//! telemetry of the application) with a current-thread Tokio runtime,
//! posting each envelope to the DSN's envelope endpoint with o11y's hyper
//! client (`http://` and, over rustls, `https://`): no second HTTP stack.
//! Capturing never waits: envelopes go into a bounded queue, and one that
//! does not fit is dropped and counted. Sentry's rate limits
//! (`X-Sentry-Rate-Limits`, or a 429's `Retry-After`) are kept: while
//! limited, events are dropped here rather than sent to be refused.
//!
//! Every envelope counts in `o11y_sentry_events_total{outcome}`: `sent`,
//! `failed` (an error or a refusal, said on stderr at most once a minute),
//! `dropped` (queue full, rate limited, or the thread gone).

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ::sentry::types::Dsn;
use ::sentry::{Envelope, Transport, TransportFactory, TransportOptions};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;

use crate::export::{EXPORT_TIMEOUT, HttpsClient, default_client};
use crate::export_thread::mark_export_thread;
use crate::metrics::{CounterHandle, CounterVec, MetricDesc, register_own_metric};
use crate::stderr_report::StderrReport;

/// Envelopes waiting for the thread; past it they are dropped.
const QUEUE_CAPACITY: usize = 100;
/// How long Sentry is not asked again after a 429 that says nothing more.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Failures are said on stderr at most this often.
const ERROR_REPORT_INTERVAL: Duration = Duration::from_secs(60);

static EVENTS: CounterVec<1> = CounterVec::new(
    MetricDesc::counter(
        "o11y_sentry_events_total",
        "Envelopes (events) for Sentry, by outcome: sent, failed, dropped",
    )
    .labels(&["outcome"])
    .exemplars(false),
);
register_own_metric!(EVENTS);

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Sent,
    Failed,
    Dropped,
}

fn count(outcome: Outcome) {
    static HANDLES: [OnceLock<CounterHandle>; 3] = [const { OnceLock::new() }; 3];
    let (index, label) = match outcome {
        Outcome::Sent => (0, "sent"),
        Outcome::Failed => (1, "failed"),
        Outcome::Dropped => (2, "dropped"),
    };
    HANDLES[index].get_or_init(|| EVENTS.labels([label])).inc();
}

/// What the capturing side asks of the thread.
enum Task {
    Send(Box<Envelope>),
    /// Answered once everything queued before it was handled.
    Flush(std_mpsc::Sender<()>),
    Stop,
}

/// Makes the [`HyperTransport`] of the client's DSN. Its HTTP client is
/// built up front, so that a TLS set-up that cannot work fails `init()`.
pub(crate) struct Factory {
    client: Mutex<Option<HttpsClient>>,
}

impl Factory {
    pub(crate) fn new() -> Result<Factory, String> {
        Ok(Factory {
            client: Mutex::new(Some(default_client()?)),
        })
    }
}

impl TransportFactory for Factory {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let client = self
            .client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let client = match client {
            Some(client) => Ok(client),
            // A second client from these options (the SDK makes one).
            None => default_client(),
        };
        match client {
            Ok(client) => Arc::new(HyperTransport::start(client, options)),
            Err(error) => {
                eprintln!("o11y: no Sentry transport ({error}): events are dropped");
                Arc::new(Closed)
            }
        }
    }
}

/// A transport that could not start: drops and counts.
struct Closed;

impl Transport for Closed {
    fn send_envelope(&self, _: Envelope) {
        count(Outcome::Dropped);
    }
}

/// Sends envelopes from its thread; see the module documentation.
pub(crate) struct HyperTransport {
    tasks: mpsc::Sender<Task>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl HyperTransport {
    fn start(client: HttpsClient, options: TransportOptions) -> HyperTransport {
        let (tasks, queue) = mpsc::channel(QUEUE_CAPACITY);
        let sender = Sender::new(client, &options.dsn, &options.user_agent);
        let thread = std::thread::Builder::new()
            .name("o11y-sentry".into())
            .spawn(move || sender.run(queue))
            .map_err(|e| {
                eprintln!("o11y: cannot start the Sentry thread ({e}): events are dropped")
            })
            .ok();
        HyperTransport {
            tasks,
            thread: Mutex::new(thread),
        }
    }

    /// Queues `task`, trying until `deadline` while the queue is full.
    fn request(&self, mut task: Task, deadline: Instant) -> bool {
        loop {
            match self.tasks.try_send(task) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
                Err(mpsc::error::TrySendError::Full(back)) if Instant::now() < deadline => {
                    task = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(mpsc::error::TrySendError::Full(_)) => return false,
            }
        }
    }
}

impl Transport for HyperTransport {
    fn send_envelope(&self, envelope: Envelope) {
        if self.tasks.try_send(Task::Send(Box::new(envelope))).is_err() {
            count(Outcome::Dropped);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (done, flushed) = std_mpsc::channel();
        self.request(Task::Flush(done), deadline)
            && flushed
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .is_ok()
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let flushed = self.flush(timeout);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if flushed
            && self.request(Task::Stop, deadline)
            && let Some(thread) = thread
        {
            // It stops at once: everything before was sent.
            let _ = thread.join();
        }
        flushed
    }
}

/// The thread's side: posts envelopes, keeps the rate limits.
struct Sender {
    client: HttpsClient,
    url: http::Uri,
    auth: HeaderValue,
    user_agent: HeaderValue,
    limited_until: Option<Instant>,
    errors: StderrReport,
}

impl Sender {
    fn new(client: HttpsClient, dsn: &Dsn, user_agent: &str) -> Sender {
        let auth = dsn.to_auth(Some(user_agent)).to_string();
        Sender {
            client,
            // A DSN's URL is a valid URI, and its auth header valid text.
            url: dsn
                .envelope_api_url()
                .as_str()
                .parse()
                .unwrap_or_else(|_| http::Uri::from_static("http://invalid/")),
            auth: HeaderValue::from_str(&auth).unwrap_or(HeaderValue::from_static("")),
            user_agent: HeaderValue::from_str(user_agent)
                .unwrap_or(HeaderValue::from_static("o11y")),
            limited_until: None,
            errors: StderrReport::every(ERROR_REPORT_INTERVAL),
        }
    }

    fn run(mut self, mut queue: mpsc::Receiver<Task>) {
        mark_export_thread();
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!(
                    "o11y: cannot start the Sentry thread's runtime ({e}): events are dropped"
                );
                return;
            }
        };
        runtime.block_on(async {
            while let Some(task) = queue.recv().await {
                match task {
                    Task::Send(envelope) => self.send(*envelope).await,
                    Task::Flush(done) => {
                        let _ = done.send(());
                    }
                    Task::Stop => break,
                }
            }
        });
    }

    async fn send(&mut self, envelope: Envelope) {
        let now = Instant::now();
        if self.limited_until.is_some_and(|until| now < until) {
            count(Outcome::Dropped);
            return;
        }
        let mut body = Vec::new();
        if let Err(e) = envelope.to_writer(&mut body) {
            count(Outcome::Failed);
            self.report(&format!("cannot write the envelope: {e}"));
            return;
        }
        match tokio::time::timeout(EXPORT_TIMEOUT, self.post(body)).await {
            Ok(Ok(())) => count(Outcome::Sent),
            Ok(Err(error)) => {
                count(Outcome::Failed);
                self.report(&error);
            }
            Err(_) => {
                count(Outcome::Failed);
                self.report(&format!("no answer within {EXPORT_TIMEOUT:?}"));
            }
        }
    }

    async fn post(&mut self, body: Vec<u8>) -> Result<(), String> {
        let mut request = Request::post(self.url.clone())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let headers = request.headers_mut();
        headers.insert("x-sentry-auth", self.auth.clone());
        headers.insert(http::header::USER_AGENT, self.user_agent.clone());
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-sentry-envelope"),
        );
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| crate::error_text::error_chain(&e))?;
        let status = response.status();
        if let Some(wait) = rate_limit(status, response.headers()) {
            self.limited_until = Some(Instant::now() + wait);
        }
        // Read to the end, so that the connection can be reused.
        let answer = response
            .into_body()
            .collect()
            .await
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        if status.is_success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&answer[..answer.len().min(200)]).into_owned();
        Err(format!("Sentry answered {status}: {text}"))
    }

    fn report(&mut self, error: &str) {
        self.errors.write(format_args!(
            "sending an event to Sentry failed: {error}; further failures are counted in \
             o11y_sentry_events_total{{outcome=\"failed\"}}"
        ));
    }
}

/// How long Sentry asks not to be sent error events, from its answer:
/// the longest `X-Sentry-Rate-Limits` entry covering errors (all
/// categories, `error` or `default`), else a 429's `Retry-After` seconds.
fn rate_limit(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if let Some(limits) = headers
        .get("x-sentry-rate-limits")
        .and_then(|value| value.to_str().ok())
    {
        return limits
            .split(',')
            .filter_map(|limit| {
                let mut parts = limit.trim().split(':');
                let seconds: f64 = parts.next()?.trim().parse().ok()?;
                let categories = parts.next().unwrap_or("");
                let covers_errors = categories.is_empty()
                    || categories
                        .split(';')
                        .any(|category| matches!(category.trim(), "error" | "default"));
                (covers_errors && seconds.is_finite() && seconds >= 0.0)
                    .then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
            })
            .max();
    }
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        headers
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok()?.trim().parse().ok())
            .map_or(DEFAULT_RETRY_AFTER, |seconds: u64| {
                Duration::from_secs(seconds.min(86_400))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn rate_limits_that_cover_errors_are_kept() {
        let ok = StatusCode::OK;
        let limited = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(rate_limit(ok, &headers(&[])), None);
        assert_eq!(
            rate_limit(
                ok,
                &headers(&[(
                    "x-sentry-rate-limits",
                    "60:transaction:key, 2700:error;default:organization"
                )])
            ),
            Some(Duration::from_secs(2700))
        );
        assert_eq!(
            rate_limit(
                limited,
                &headers(&[("x-sentry-rate-limits", "30::organization")])
            ),
            Some(Duration::from_secs(30)),
            "no category: all of them"
        );
        assert_eq!(
            rate_limit(
                ok,
                &headers(&[("x-sentry-rate-limits", "60:transaction:key")])
            ),
            None,
            "transactions only"
        );
        assert_eq!(
            rate_limit(limited, &headers(&[("retry-after", "12")])),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            rate_limit(limited, &headers(&[])),
            Some(DEFAULT_RETRY_AFTER)
        );
        assert_eq!(
            rate_limit(limited, &headers(&[("x-sentry-rate-limits", "nonsense")])),
            None,
            "a header that says nothing usable"
        );
    }
}
