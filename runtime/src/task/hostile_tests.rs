//! Property tests of what a worker reads from a message, against hostile
//! input: envelopes (JSON, whatever a queue delivers) and headers maps.
//! Reading never panics; what o11y writes (an envelope's JSON, its
//! headers) reads back as written; the trace a worker continues is exactly
//! the one the message names, and a `tracestate` refused leaves nothing of
//! itself. Named `hostile_*` for `scripts/fuzz.sh`.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use proptest::prelude::*;

use super::{Envelope, TaskContext, TraceContext, extract};
use crate::trace::w3c::TraceState;

/// The headers a worker reads.
const HEADERS: [&str; 7] = [
    "traceparent",
    "tracestate",
    "baggage",
    "o11y-enqueued-at-ms",
    "o11y-task-id",
    "o11y-messaging-system",
    "o11y-messaging-destination",
];

/// Text a message may carry where a `traceparent` goes: one, nearly one, or
/// anything.
fn traceparent_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}",
        1 => "[0-9a-fA-F]{2}-[0-9a-fA-F]{30,33}-[0-9a-fA-F]{15,17}-[0-9a-fA-F]{1,3}(-[ -~]{0,4})?",
        1 => any::<String>(),
    ]
}

/// Text where a `tracestate` goes: a list, nearly one, or anything.
fn tracestate_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "([a-z0-9][a-z0-9_*/@-]{0,8}=[!-+\\--<>-~]{1,6} ?, ?){0,5}",
        1 => "[ -~]{0,40}",
        1 => any::<String>(),
    ]
}

fn trace_context() -> impl Strategy<Value = TraceContext> {
    (
        prop::option::of(traceparent_like()),
        prop::option::of(tracestate_like()),
        prop::option::of(any::<String>()),
    )
        .prop_map(|(traceparent, tracestate, baggage)| TraceContext {
            traceparent,
            tracestate,
            baggage,
        })
}

fn envelope() -> impl Strategy<Value = Envelope<String>> {
    (
        any::<String>(),
        any::<String>(),
        any::<u64>(),
        trace_context(),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        any::<String>(),
    )
        .prop_map(
            |(task_id, task_name, enqueued_at_ms, trace, system, destination, payload)| Envelope {
                task_id,
                task_name,
                enqueued_at_ms,
                trace,
                system,
                destination,
                payload,
            },
        )
}

/// What a queue may deliver as an envelope: one o11y wrote, with a
/// character replaced or cut short; JSON of the right shape with values of
/// any type; or anything.
fn delivered_json() -> impl Strategy<Value = String> {
    let mutated = (
        envelope(),
        any::<prop::sample::Index>(),
        any::<char>(),
        any::<bool>(),
    )
        .prop_map(|(envelope, at, replacement, cut)| {
            let json = serde_json::to_string(&envelope).expect("serialisable");
            let mut chars: Vec<char> = json.chars().collect();
            let at = at.index(chars.len());
            if cut {
                chars.truncate(at);
            } else {
                chars[at] = replacement;
            }
            chars.into_iter().collect::<String>()
        });
    let any_json = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
        traceparent_like().prop_map(serde_json::Value::from),
    ];
    let shaped = prop::collection::vec(any_json, 9).prop_map(|values| {
        serde_json::json!({
            "task_id": values[0],
            "task_name": values[1],
            "enqueued_at_ms": values[2],
            "trace": { "traceparent": values[3], "tracestate": values[4], "baggage": values[5] },
            "system": values[6],
            "destination": values[7],
            "payload": values[8],
        })
        .to_string()
    });
    prop_oneof![3 => mutated, 2 => shaped, 1 => any::<String>()]
}

/// A headers map as a broker may hand it over: the headers o11y reads,
/// with any values, among others.
fn delivered_headers() -> impl Strategy<Value = HashMap<String, String>> {
    let name = prop_oneof![
        3 => prop::sample::select(HEADERS.to_vec()).prop_map(str::to_owned),
        1 => "[a-z-]{1,12}",
    ];
    let value = prop_oneof![
        traceparent_like(),
        tracestate_like(),
        "[ 0-9]{0,22}",
        any::<String>(),
    ];
    prop::collection::hash_map(name, value, 0..8)
}

/// What a worker continues from `context`: the trace its `traceparent`
/// names, with the `tracestate` only when the list is valid as a whole.
fn assert_continues_exactly(context: &TraceContext) -> Result<(), TestCaseError> {
    let parent = context.remote_parent();
    let sdk = context.span_context();
    prop_assert_eq!(parent.is_some(), sdk.is_some());
    let (Some(parent), Some(sdk)) = (parent, sdk) else {
        return Ok(());
    };
    let traceparent = context.traceparent.as_deref().unwrap_or_default().trim();
    prop_assert_eq!(&traceparent[3..35], parent.ids.trace_id.to_string());
    prop_assert_eq!(&traceparent[36..52], parent.ids.span_id.to_string());
    prop_assert_eq!(sdk.trace_id(), parent.ids.trace_id);
    prop_assert_eq!(sdk.trace_flags(), parent.ids.trace_flags());
    let expected_state = context
        .tracestate
        .as_deref()
        .and_then(TraceState::parse)
        .unwrap_or_default();
    prop_assert_eq!(parent.trace_state, expected_state);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_envelopes_written_are_read_back(envelope in envelope()) {
        let json = serde_json::to_string(&envelope).expect("serialisable");
        let back: Envelope<String> = serde_json::from_str(&json).expect("o11y reads what it writes");
        prop_assert_eq!(&back, &envelope);
        let mut hash_map: HashMap<String, String> = HashMap::new();
        envelope.inject(&mut hash_map);
        prop_assert_eq!(extract(&hash_map), envelope.context());
        let mut btree_map: BTreeMap<String, String> = BTreeMap::new();
        envelope.inject(&mut btree_map);
        prop_assert_eq!(extract(&btree_map), envelope.context());
    }

    #[test]
    fn hostile_envelopes_delivered_are_read_without_panicking(json in delivered_json()) {
        let Ok(envelope) = serde_json::from_str::<Envelope<serde_json::Value>>(&json) else {
            return Ok(());
        };
        let context: TaskContext = envelope.context();
        let _ = context.queue_wait(SystemTime::now());
        assert_continues_exactly(&envelope.trace)?;
        // Written again, it reads back the same (the payload aside: JSON
        // numbers need not survive a round trip bit for bit).
        let again = serde_json::to_string(&envelope).expect("serialisable");
        let back: Envelope<serde_json::Value> = serde_json::from_str(&again).expect("read back");
        prop_assert_eq!(back.context(), context);
        prop_assert_eq!(back.task_name, envelope.task_name);
    }

    #[test]
    fn hostile_headers_delivered_are_read_as_they_are(headers in delivered_headers()) {
        let context = extract(&headers);
        let header = |name: &str| headers.get(name).cloned();
        prop_assert_eq!(&context.trace.traceparent, &header("traceparent"));
        prop_assert_eq!(&context.trace.tracestate, &header("tracestate"));
        prop_assert_eq!(&context.trace.baggage, &header("baggage"));
        prop_assert_eq!(&context.task_id, &header("o11y-task-id"));
        prop_assert_eq!(
            context.enqueued_at_ms,
            header("o11y-enqueued-at-ms").and_then(|ms| ms.trim().parse().ok())
        );
        let _ = context.queue_wait(SystemTime::now());
        assert_continues_exactly(&context.trace)?;
    }
}
