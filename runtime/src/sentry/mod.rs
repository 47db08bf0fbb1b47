//! Sentry (feature `sentry`): with `sentry.dsn` set, every failure o11y
//! reports on a span (`lifecycle::failure::report`: an `#[observe(err)]`
//! error, a failed task, a panic, from the panic hook) is also sent to
//! Sentry as one event, built here ([`event`]) and redacted by the engine
//! every other signal goes through ([`scrub`], the client's `before_send`).
//! Without a DSN none of this runs: no client, no thread, no request.
//!
//! The SDK's client does the sampling, the envelopes and the client
//! reports; o11y gives it no integration (its panic integration would
//! report each panic a second time) and its own transport ([`transport`]:
//! a thread of its own, o11y's hyper client, Sentry's rate limits). The
//! client is also bound to the SDK's main hub, so that the application's
//! own `sentry::capture_*` calls go out the same way, redacted too.
//!
//! The panic hook reports here: nothing on the way may wait for a lock a
//! panicking thread may hold. The client is read under a lock written only
//! by `init()` and the guard's drop, the SDK takes only its transport
//! slot's lock (written only when the client closes), and a panic raised
//! while an event is being captured (in the redaction, say) is not
//! reported again from inside the capture.

mod event;
mod scrub;
mod stacktrace;
mod transport;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ::sentry::types::Dsn;
use ::sentry::{Client, ClientOptions};

pub(crate) use event::Origin;

use crate::config::{Config, ConfigError, Origin as ConfigOrigin, without_credentials};
use crate::error::Error;
use crate::redact::Redactor;
use crate::trace::exception::Exception;

/// The client failures go to, while one runs.
static CLIENT: RwLock<Option<Arc<Client>>> = RwLock::new(None);
/// Whether [`CLIENT`] holds one: what [`is_active`] reads, without the lock.
static ACTIVE: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread captures an event.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
}

/// Whether failures are sent to Sentry: one load, for the callers that
/// would otherwise gather what an event needs for nothing.
#[inline]
pub(crate) fn is_active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

/// Sends `exception` (a panic when `panicked`), which happened where
/// `origin` says, as one Sentry event; nothing when no client runs.
pub(crate) fn capture(exception: &Exception<'_>, panicked: bool, origin: &Origin) {
    let Ok(false) = CAPTURING.try_with(|capturing| capturing.replace(true)) else {
        // A panic while this thread captures, or a thread that is exiting.
        return;
    };
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            let _ = CAPTURING.try_with(|capturing| capturing.set(false));
        }
    }
    let _done = Done;
    let client = CLIENT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(client) = client {
        client.capture_event(event::build(exception, panicked, origin), None);
    }
}

/// The running client, owned by `init()`'s guard: [`close`](Self::close)
/// sends what is queued and stops it. Dropped without that (an `init()`
/// that failed after starting it), it stops at once.
#[derive(Debug)]
pub(crate) struct Sentry {
    /// Taken when it closes.
    client: Option<Arc<Client>>,
}

impl Sentry {
    /// Starts the client when `config` has a DSN: failures then go to
    /// Sentry, scrubbed by `redactor`. A DSN that does not parse (one set
    /// in code after the configuration was checked) is an error naming
    /// `sentry.dsn`.
    pub(crate) fn start(
        config: &Config,
        redactor: &'static Redactor,
    ) -> Result<Option<Sentry>, Error> {
        let Some(text) = config.sentry.dsn.as_deref() else {
            return Ok(None);
        };
        let dsn: Dsn = text.parse().map_err(|e| {
            Error::Config(ConfigError::Invalid {
                key: "sentry.dsn".to_owned(),
                value: without_credentials(text).into_owned(),
                origin: ConfigOrigin::Builder,
                expected: format!("a Sentry DSN, https://<public key>@<host>/<project id> ({e})"),
            })
        })?;
        let transport = transport::Factory::new()
            .map_err(|e| Error::Export(format!("sentry ({}): {e}", without_credentials(text))))?;
        let release = config
            .sentry
            .release
            .clone()
            .or_else(|| config.service_version.clone())
            .or_else(|| std::env::var("GIT_SHA").ok())
            .filter(|release| !release.trim().is_empty());
        let service = config.service_name.clone();
        let mut options = ClientOptions::default()
            .sample_rate(config.sentry.event_sample_rate as f32)
            // Always: what a request carries (cookies, addresses, bodies)
            // is not sent for the asking.
            .send_default_pii(false)
            .shutdown_timeout(config.shutdown_timeout)
            .transport(transport)
            .before_send(move |mut event| {
                event
                    .tags
                    .entry("service.name".to_owned())
                    .or_insert_with(|| service.clone());
                Some(scrub::event(redactor, event))
            })
            .before_breadcrumb(move |breadcrumb| Some(scrub::breadcrumb(redactor, breadcrumb)))
            .maybe_release(release)
            .environment(config.sentry.environment(config.profile).to_owned());
        options.dsn = Some(dsn);
        let client = Arc::new(Client::with_options(options));
        // The application's own `sentry::capture_*` calls use it too.
        ::sentry::Hub::main().bind_client(Some(client.clone()));
        *CLIENT.write().unwrap_or_else(PoisonError::into_inner) = Some(client.clone());
        ACTIVE.store(true, Ordering::Release);
        Ok(Some(Sentry {
            client: Some(client),
        }))
    }

    /// Sends the events captured so far, waiting at most `timeout`;
    /// false when the deadline passed first.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        self.client
            .as_ref()
            .is_none_or(|client| client.flush(Some(timeout)))
    }

    /// Stops sending: later failures are not captured, those queued are
    /// sent within `timeout`. False when the deadline passed first.
    pub(crate) fn close(mut self, timeout: Duration) -> bool {
        self.stop(timeout)
    }

    fn stop(&mut self, timeout: Duration) -> bool {
        let Some(ours) = self.client.take() else {
            return true;
        };
        let is_ours = |client: &Arc<Client>| Arc::ptr_eq(client, &ours);
        let mut active = CLIENT.write().unwrap_or_else(PoisonError::into_inner);
        if active.as_ref().is_some_and(is_ours) {
            ACTIVE.store(false, Ordering::Release);
            *active = None;
        }
        drop(active);
        let hub = ::sentry::Hub::main();
        if hub.client().as_ref().is_some_and(is_ours) {
            hub.bind_client(None);
        }
        ours.close(Some(timeout))
    }
}

impl Drop for Sentry {
    fn drop(&mut self) {
        self.stop(Duration::ZERO);
    }
}
