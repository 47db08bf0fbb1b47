use super::*;

static CALLSITE: tracing_core::callsite::DefaultCallsite =
    tracing_core::callsite::DefaultCallsite::new(&META);
static META: tracing_core::Metadata<'static> = tracing::metadata! {
    name: "worker_loop",
    target: "o11y::trace::tests",
    level: tracing::Level::INFO,
    fields: &[],
    callsite: &CALLSITE,
    kind: tracing_core::metadata::Kind::SPAN,
};

#[test]
fn limits_keep_the_first_and_count_the_rest() {
    // The defaults: nothing in a unit test process sets others.
    let (attribute_limit, event_limit) = (
        crate::limits::span_attributes(),
        crate::limits::span_events(),
    );
    assert_eq!((attribute_limit, event_limit), (128, 128));
    let now = SystemTime::now();
    let mut span = Recording::new_for_test(TraceId::from(1), SpanId::from(2), &META, now, now);
    for i in 0..attribute_limit + 5 {
        span.set_attribute(KeyValue::new(format!("row.{i}"), i as i64));
    }
    // An existing key is still replaced at the limit.
    span.set_attribute(KeyValue::new("row.0", -1_i64));
    for _ in 0..event_limit + 7 {
        span.add_event(Event::new("queue slow", now, Vec::new(), 0));
    }
    span.add_link(Link::with_context(SpanContext::empty_context()));
    assert_eq!(span.attributes.len(), attribute_limit);
    assert_eq!(span.attributes[0].value, opentelemetry::Value::I64(-1));
    assert_eq!(span.events.len(), event_limit);
    assert_eq!(
        span.dropped,
        Dropped {
            attributes: 5,
            events: 7,
            links: 0
        }
    );
    let data = span.take_span_data();
    assert_eq!(data.dropped_attributes_count, 5);
    assert_eq!(data.events.dropped_count, 7);
    span.clear_for_reuse();
    assert_eq!(
        span.dropped,
        Dropped::default(),
        "a reused box starts afresh"
    );
}
