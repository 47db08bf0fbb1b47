//! What the requests page shows of a trace, in one line: its entry span
//! (the first SERVER span, else the earliest root), method, route, status,
//! duration, how many queries it ran, and whether it holds an N+1 or an
//! error.

use std::sync::Arc;

use super::{SpanKind, StoredLog, StoredSpan, TraceId};

/// The message of the detector's warning (`db::detector`), which carries
/// the detection's fields.
pub(crate) const N_PLUS_ONE_EVENT: &str = "n_plus_one_detected";

/// One line of the requests page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TraceSummary {
    pub(crate) trace_id: TraceId,
    /// Unix nanoseconds of the entry span's start.
    pub(crate) start: u64,
    /// The entry span's duration, in nanoseconds.
    pub(crate) duration: u64,
    /// The entry span's name.
    pub(crate) name: String,
    pub(crate) service: Arc<str>,
    /// `http.request.method`, for a request.
    pub(crate) method: Option<String>,
    /// `http.route`, else `url.path`, for a request.
    pub(crate) route: Option<String>,
    /// `url.path`, with `?url.query` when there is one, for a request.
    pub(crate) url: Option<String>,
    /// `http.response.status_code`, for a request.
    pub(crate) status: Option<u16>,
    /// Spans of database queries (`db.system` set).
    pub(crate) queries: usize,
    pub(crate) spans: usize,
    /// A scope of the trace detected an N+1.
    pub(crate) n_plus_one: bool,
    /// A span ended in error, or the status is 5xx.
    pub(crate) error: bool,
}

/// Whether `span` is a database query.
pub(crate) fn is_query(span: &StoredSpan) -> bool {
    span.attribute("db.system").is_some()
}

/// Whether `log` is the detector's N+1 warning.
pub(crate) fn is_n_plus_one(log: &StoredLog) -> bool {
    log.message == N_PLUS_ONE_EVENT
}

/// The line of a trace that has at least one span.
pub(super) fn summarize(
    trace_id: TraceId,
    spans: &[StoredSpan],
    logs: &[StoredLog],
) -> TraceSummary {
    let has_parent_here = |span: &StoredSpan| {
        span.parent_span_id
            .is_some_and(|parent| spans.iter().any(|other| other.span_id == parent))
    };
    let entry = spans
        .iter()
        .filter(|span| span.kind == SpanKind::Server)
        .min_by_key(|span| span.start)
        .or_else(|| {
            spans
                .iter()
                .filter(|span| !has_parent_here(span))
                .min_by_key(|span| span.start)
        })
        .or_else(|| spans.iter().min_by_key(|span| span.start))
        .expect("a trace with spans");
    let status = entry
        .attribute("http.response.status_code")
        .and_then(|code| code.parse::<u16>().ok());
    TraceSummary {
        trace_id,
        start: entry.start,
        duration: entry.duration(),
        name: entry.name.clone(),
        service: entry.service.clone(),
        method: entry.attribute("http.request.method").map(str::to_owned),
        route: entry
            .attribute("http.route")
            .or_else(|| entry.attribute("url.path"))
            .map(str::to_owned),
        url: entry
            .attribute("url.path")
            .map(|path| match entry.attribute("url.query") {
                Some(query) => format!("{path}?{query}"),
                None => path.to_owned(),
            }),
        status,
        queries: spans.iter().filter(|span| is_query(span)).count(),
        spans: spans.len(),
        n_plus_one: logs.iter().any(is_n_plus_one)
            || spans
                .iter()
                .any(|span| span.attribute("db.n_plus_one.detected") == Some("true")),
        error: spans.iter().any(|span| span.error.is_some()) || status.is_some_and(|s| s >= 500),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Level;
    use super::*;

    fn span(
        id: u8,
        parent: Option<u8>,
        kind: SpanKind,
        start: u64,
        attributes: &[(&str, &str)],
    ) -> StoredSpan {
        StoredSpan {
            trace_id: [1; 16],
            span_id: [id; 8],
            parent_span_id: parent.map(|p| [p; 8]),
            service: Arc::from("svc"),
            name: format!("span {id}"),
            kind,
            start,
            end: start + 100,
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            events: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn a_request_is_summarised_from_its_server_span() {
        let spans = [
            span(2, Some(1), SpanKind::Internal, 20, &[]),
            span(
                1,
                Some(9),
                SpanKind::Server,
                10,
                &[
                    ("http.request.method", "GET"),
                    ("http.route", "/orders"),
                    ("http.response.status_code", "200"),
                ],
            ),
            span(3, Some(2), SpanKind::Client, 30, &[("db.system", "sqlite")]),
            span(4, Some(2), SpanKind::Client, 40, &[("db.system", "sqlite")]),
        ];
        let summary = summarize([1; 16], &spans, &[]);
        assert_eq!(summary.name, "span 1");
        assert_eq!(summary.method.as_deref(), Some("GET"));
        assert_eq!(summary.route.as_deref(), Some("/orders"));
        assert_eq!(summary.status, Some(200));
        assert_eq!(summary.url, None, "no url.path");
        assert_eq!((summary.queries, summary.spans), (2, 4));
        assert!(!summary.n_plus_one && !summary.error);
    }

    #[test]
    fn without_a_server_span_the_earliest_root_is_the_entry() {
        let spans = [
            span(2, Some(1), SpanKind::Internal, 5, &[]),
            span(1, None, SpanKind::Consumer, 10, &[]),
        ];
        let summary = summarize([1; 16], &spans, &[]);
        assert_eq!(summary.name, "span 1");
        assert_eq!(summary.method, None);
    }

    #[test]
    fn n_plus_one_and_errors_are_flagged() {
        let mut failed = span(
            1,
            None,
            SpanKind::Server,
            0,
            &[("http.response.status_code", "500")],
        );
        let summary = summarize([1; 16], std::slice::from_ref(&failed), &[]);
        assert!(summary.error, "5xx");
        failed.attributes.clear();
        failed.error = Some("boom".into());
        assert!(summarize([1; 16], std::slice::from_ref(&failed), &[]).error);

        let flagged = span(
            1,
            None,
            SpanKind::Server,
            0,
            &[("db.n_plus_one.detected", "true")],
        );
        assert!(summarize([1; 16], &[flagged], &[]).n_plus_one);
        let warning = StoredLog {
            time: 1,
            level: Level::Warn,
            target: "o11y::db".into(),
            message: N_PLUS_ONE_EVENT.into(),
            attributes: Vec::new(),
            trace_id: Some([1; 16]),
            span_id: None,
            service: Arc::from("svc"),
        };
        let plain = span(1, None, SpanKind::Server, 0, &[]);
        assert!(summarize([1; 16], &[plain], &[warning]).n_plus_one);
    }
}
