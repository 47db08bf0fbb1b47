//! Redaction of what a Sentry event carries, as the client's `before_send`
//! (and `before_breadcrumb`): the same engine, the same rules as every
//! other signal. Under a sensitive name (a tag, an `extra` key, a header,
//! a context's or a breadcrumb's data key, at any depth) the whole value is
//! replaced; in text (exception values, the message, tag values, URLs and
//! query strings, request data, breadcrumbs) what the value patterns find
//! is. Cookies and the user's IP address never go: `send_default_pii` is
//! off, and this holds for events the application captures itself too.
//! Counted as `o11y_redactions_total{signal="errors"}`.

use ::sentry::protocol::{Breadcrumb, Context, Event, Map, Request, User, Value};

use crate::redact::{Redactor, Signal};

const SIGNAL: Signal = Signal::Errors;

/// `event` with its secrets replaced.
pub(crate) fn event(redactor: &Redactor, mut event: Event<'static>) -> Event<'static> {
    if !redactor.is_enabled() {
        return event;
    }
    let text = |text: &mut String| {
        redactor.scrub_in_place(text, SIGNAL);
    };
    for exception in &mut event.exception.values {
        if let Some(value) = exception.value.as_mut() {
            text(value);
        }
        for frame in exception.stacktrace.iter_mut().flat_map(|s| &mut s.frames) {
            map(redactor, &mut frame.vars);
        }
    }
    for field in [
        &mut event.message,
        &mut event.transaction,
        &mut event.culprit,
    ]
    .into_iter()
    .flatten()
    {
        text(field);
    }
    if let Some(entry) = event.logentry.as_mut() {
        text(&mut entry.message);
        for param in &mut entry.params {
            value(redactor, param);
        }
    }
    for (name, tag) in &mut event.tags {
        if redactor.is_sensitive_key(name) {
            *tag = redactor.key_redacted(SIGNAL).to_owned();
        } else {
            text(tag);
        }
    }
    map(redactor, &mut event.extra);
    for context in event.contexts.values_mut() {
        match context {
            Context::Other(data) => map(redactor, data),
            Context::Trace(trace) => map(redactor, &mut trace.data),
            // The runtime, OS, device and app contexts describe the machine.
            _ => {}
        }
    }
    if let Some(request) = event.request.as_mut() {
        self::request(redactor, request);
    }
    if let Some(user) = event.user.as_mut() {
        self::user(redactor, user);
    }
    for crumb in &mut event.breadcrumbs.values {
        scrub_breadcrumb(redactor, crumb);
    }
    event
}

/// `breadcrumb` with its secrets replaced.
pub(crate) fn breadcrumb(redactor: &Redactor, mut breadcrumb: Breadcrumb) -> Breadcrumb {
    if redactor.is_enabled() {
        scrub_breadcrumb(redactor, &mut breadcrumb);
    }
    breadcrumb
}

fn scrub_breadcrumb(redactor: &Redactor, breadcrumb: &mut Breadcrumb) {
    if let Some(message) = breadcrumb.message.as_mut() {
        redactor.scrub_in_place(message, SIGNAL);
    }
    map(redactor, &mut breadcrumb.data);
}

fn request(redactor: &Redactor, request: &mut Request) {
    if let Some(url) = request.url.as_mut()
        && let Some(query) = url.query()
    {
        let scrubbed = redactor.query(query, SIGNAL).into_owned();
        url.set_query(Some(&scrubbed));
    }
    if let Some(query) = request.query_string.as_mut() {
        *query = redactor.query(query, SIGNAL).into_owned();
    }
    if request.cookies.take().is_some() {
        redactor.key_redacted(SIGNAL);
    }
    if let Some(data) = request.data.as_mut() {
        redactor.scrub_in_place(data, SIGNAL);
    }
    for (name, header) in request.headers.iter_mut().chain(request.env.iter_mut()) {
        if redactor.is_sensitive_key(name) {
            *header = redactor.key_redacted(SIGNAL).to_owned();
        } else {
            redactor.scrub_in_place(header, SIGNAL);
        }
    }
}

fn user(redactor: &Redactor, user: &mut User) {
    // What `send_default_pii = false` means for an address.
    user.ip_address = None;
    if user.email.is_some() {
        user.email = Some(redactor.key_redacted(SIGNAL).to_owned());
    }
    for field in [&mut user.id, &mut user.username].into_iter().flatten() {
        redactor.scrub_in_place(field, SIGNAL);
    }
    map(redactor, &mut user.other);
}

/// Each entry of `data`: the whole value under a sensitive name, else its
/// text, at any depth.
fn map(redactor: &Redactor, data: &mut Map<String, Value>) {
    for (name, entry) in data.iter_mut() {
        named(redactor, name, entry);
    }
}

fn named(redactor: &Redactor, name: &str, entry: &mut Value) {
    if redactor.is_sensitive_key(name) && !entry.is_null() {
        *entry = Value::String(redactor.key_redacted(SIGNAL).to_owned());
    } else {
        value(redactor, entry);
    }
}

fn value(redactor: &Redactor, entry: &mut Value) {
    match entry {
        Value::String(text) => {
            redactor.scrub_in_place(text, SIGNAL);
        }
        Value::Array(items) => {
            for item in items {
                value(redactor, item);
            }
        }
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                named(redactor, name, field);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use ::sentry::protocol::{Exception, LogEntry};
    use serde_json::json;

    use super::*;
    use crate::config::RedactionConfig;

    const EMAIL: &str = "ada@example.com";
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWFrIn0.c2lnLWxlYWstand0";

    fn redactor() -> Redactor {
        Redactor::new(&RedactionConfig::default()).expect("the defaults")
    }

    #[test]
    fn every_part_of_an_event_is_scrubbed_and_its_neighbours_kept() {
        let mut event = Event {
            message: Some(format!("mail {EMAIL}")),
            logentry: Some(LogEntry {
                message: format!("login of {EMAIL}"),
                params: vec![json!(EMAIL), json!(7)],
            }),
            transaction: Some("GET /orders".to_owned()),
            ..Event::default()
        };
        event.exception = vec![Exception {
            ty: "shop::Declined".to_owned(),
            value: Some(format!("declined for {EMAIL}")),
            ..Exception::default()
        }]
        .into();
        event.tags.insert("password".into(), "hunter2".into());
        event.tags.insert("customer".into(), EMAIL.into());
        event.tags.insert("tier".into(), "gold".into());
        event.extra.insert(
            "order".into(),
            json!({"id": 42, "card_number": "4111 1111 1111 1111", "notes": [format!("to {EMAIL}")]}),
        );
        event.request = Some(Request {
            url: Some(
                format!("https://shop.example/pay?token={JWT}&page=2")
                    .parse()
                    .unwrap(),
            ),
            query_string: Some(format!("email={EMAIL}&page=2")),
            cookies: Some(format!("session={JWT}")),
            data: Some(format!("{{\"contact\":\"{EMAIL}\"}}")),
            headers: [
                ("Authorization".to_owned(), format!("Bearer {JWT}")),
                ("X-Tenant".to_owned(), "acme".to_owned()),
            ]
            .into_iter()
            .collect(),
            ..Request::default()
        });
        event.user = Some(User {
            id: Some("u-42".into()),
            email: Some(EMAIL.into()),
            ip_address: Some("10.0.0.7".parse().unwrap()),
            ..User::default()
        });
        event.breadcrumbs = vec![Breadcrumb {
            message: Some(format!("sent to {EMAIL}")),
            data: [("api_key".to_owned(), json!("AKIALEAKLEAKLEAK1234"))]
                .into_iter()
                .collect(),
            ..Breadcrumb::default()
        }]
        .into();

        let event = super::event(&redactor(), event);
        let json = serde_json::to_string(&event).unwrap();
        for secret in [EMAIL, JWT, "hunter2", "4111 1111", "AKIALEAK", "10.0.0.7"] {
            assert!(!json.contains(secret), "{secret} leaked: {json}");
        }
        assert_eq!(event.message.as_deref(), Some("mail [REDACTED]"));
        assert_eq!(
            event.exception.values[0].value.as_deref(),
            Some("declined for [REDACTED]")
        );
        assert_eq!(event.exception.values[0].ty, "shop::Declined");
        assert_eq!(event.tags["password"], "[REDACTED]");
        assert_eq!(event.tags["customer"], "[REDACTED]");
        assert_eq!(event.tags["tier"], "gold");
        assert_eq!(event.extra["order"]["id"], 42);
        assert_eq!(event.extra["order"]["card_number"], "[REDACTED]");
        assert_eq!(event.extra["order"]["notes"][0], "to [REDACTED]");
        let request = event.request.as_ref().unwrap();
        assert_eq!(
            request.url.as_ref().unwrap().as_str(),
            "https://shop.example/pay?token=REDACTED&page=2"
        );
        assert_eq!(
            request.query_string.as_deref(),
            Some("email=REDACTED&page=2")
        );
        assert_eq!(request.cookies, None);
        assert_eq!(request.headers["Authorization"], "[REDACTED]");
        assert_eq!(request.headers["X-Tenant"], "acme");
        let user = event.user.as_ref().unwrap();
        assert_eq!(user.id.as_deref(), Some("u-42"));
        assert_eq!(user.ip_address, None);
        assert_eq!(event.transaction.as_deref(), Some("GET /orders"));
        assert_eq!(event.breadcrumbs.values[0].data["api_key"], "[REDACTED]");
    }

    #[test]
    fn redaction_off_sends_the_event_as_it_is() {
        let redactor = Redactor::new(&RedactionConfig {
            enabled: false,
            ..RedactionConfig::default()
        })
        .unwrap();
        let event = Event {
            message: Some(format!("mail {EMAIL}")),
            ..Event::default()
        };
        let event = super::event(&redactor, event);
        assert_eq!(event.message, Some(format!("mail {EMAIL}")));
    }
}
