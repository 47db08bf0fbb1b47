use std::sync::Mutex;
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use super::*;
use crate::metrics::own::spans_dropped;

static CALLSITE: tracing_core::callsite::DefaultCallsite =
    tracing_core::callsite::DefaultCallsite::new(&META);
static META: tracing_core::Metadata<'static> = tracing::metadata! {
    name: "held",
    target: "o11y::trace::tail::tests",
    level: tracing::Level::INFO,
    fields: &[],
    callsite: &CALLSITE,
    kind: tracing_core::metadata::Kind::SPAN,
};

/// The export queue, as far as the tail sees it: what was pushed, what
/// came back to the pool.
#[derive(Debug, Default)]
struct Queue {
    pushed: Mutex<Vec<Recording>>,
    recycled: Mutex<usize>,
}

impl SpanSink for Queue {
    fn recycled(&self) -> Option<Box<Recording>> {
        None
    }
    fn push(&self, recording: Box<Recording>) {
        self.pushed.lock().unwrap().push(*recording);
    }
    fn recycle(&self, _: Box<Recording>) {
        *self.recycled.lock().unwrap() += 1;
    }
}

impl Queue {
    /// The span ids pushed so far, each with its reason.
    fn exported(&self) -> Vec<(u64, Option<String>)> {
        let pushed = self.pushed.lock().unwrap();
        pushed
            .iter()
            .map(|span| {
                let reason = span
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == REASON_KEY)
                    .map(|kv| kv.value.as_str().into_owned());
                (u64::from_be_bytes(span.span_id.to_bytes()), reason)
            })
            .collect()
    }
}

const RULES: TailRules = TailRules {
    keep_errors: true,
    keep_slower_than: Some(Duration::from_millis(100)),
    max_spans_per_trace: 1000,
    max_bytes: 1 << 20,
};

fn tail(rules: TailRules) -> (Arc<Queue>, TailSink) {
    let queue = Arc::new(Queue::default());
    let sink = TailSink::new(queue.clone(), rules);
    (queue, sink)
}

/// A span `id` of `trace` that ran for `millis`, held unless `trace` is
/// `None` (head-sampled); the trace's root with `root`.
fn span(id: u64, trace: Option<&Arc<LocalTrace>>, root: bool, millis: u64) -> Box<Recording> {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
    let mut span = Box::new(Recording::new_for_test(
        TraceId::from(7),
        SpanId::from(id),
        &META,
        start,
        start + Duration::from_millis(millis),
    ));
    span.hold = match (trace, root) {
        (None, _) => Hold::No,
        (Some(trace), true) => Hold::Root(OnceLock::from(trace.clone())),
        (Some(trace), false) => Hold::In(trace.clone()),
    };
    span
}

fn reason(reason: &str) -> Option<String> {
    Some(reason.to_owned())
}

#[test]
fn head_sampled_spans_pass_through_with_reason_head() {
    let (queue, sink) = tail(RULES);
    sink.push(span(1, None, false, 5_000));
    assert_eq!(queue.exported(), [(1, reason("head"))]);
}

#[test]
fn a_failed_span_keeps_its_whole_trace_root_last() {
    let (queue, sink) = tail(RULES);
    let trace = LocalTrace::new_shared();
    sink.push(span(2, Some(&trace), false, 1));
    let mut failed = span(3, Some(&trace), false, 1);
    failed.set_error("io".into(), None);
    sink.push(failed);
    assert!(queue.exported().is_empty(), "held until the root closes");
    sink.push(span(1, Some(&trace), true, 1));
    assert_eq!(
        queue.exported(),
        [
            (2, reason("error")),
            (3, reason("error")),
            (1, reason("error"))
        ]
    );
    assert_eq!(sink.held_now(), 0);
}

#[test]
fn a_slow_root_keeps_its_trace_and_a_fast_one_drops_it_into_the_pool() {
    let (queue, sink) = tail(RULES);
    let slow = LocalTrace::new_shared();
    sink.push(span(2, Some(&slow), false, 1));
    sink.push(span(1, Some(&slow), true, 150));
    assert_eq!(queue.exported(), [(2, reason("slow")), (1, reason("slow"))]);

    let (queue, sink) = tail(RULES);
    let fast = LocalTrace::new_shared();
    sink.push(span(2, Some(&fast), false, 1));
    sink.push(span(1, Some(&fast), true, 99));
    assert!(queue.exported().is_empty());
    assert_eq!(*queue.recycled.lock().unwrap(), 2, "both boxes reused");
}

#[test]
fn an_error_is_the_reason_of_a_trace_both_failed_and_slow_and_only_with_keep_errors() {
    let (queue, sink) = tail(RULES);
    let trace = LocalTrace::new_shared();
    let mut root = span(1, Some(&trace), true, 500);
    root.set_error("timeout".into(), None);
    sink.push(root);
    assert_eq!(queue.exported(), [(1, reason("error"))]);

    let (queue, sink) = tail(TailRules {
        keep_errors: false,
        keep_slower_than: None,
        ..RULES
    });
    let trace = LocalTrace::new_shared();
    let mut root = span(1, Some(&trace), true, 500);
    root.set_error("timeout".into(), None);
    sink.push(root);
    assert!(queue.exported().is_empty());
}

#[test]
fn a_span_arriving_after_its_root_follows_the_fate_decided() {
    let (queue, sink) = tail(RULES);
    let kept = LocalTrace::new_shared();
    sink.push(span(1, Some(&kept), true, 200));
    sink.push(span(2, Some(&kept), false, 1));
    assert_eq!(queue.exported(), [(1, reason("slow")), (2, reason("slow"))]);

    let (queue, sink) = tail(RULES);
    let dropped = LocalTrace::new_shared();
    sink.push(span(1, Some(&dropped), true, 1));
    let mut late = span(2, Some(&dropped), false, 1);
    late.set_error("late".into(), None);
    sink.push(late);
    assert!(queue.exported().is_empty(), "decided already");
    assert_eq!(*queue.recycled.lock().unwrap(), 2);
}

#[test]
fn the_caps_drop_and_count_but_never_the_root() {
    let (queue, sink) = tail(TailRules {
        max_spans_per_trace: 3,
        ..RULES
    });
    let before = spans_dropped(SpanDrop::TailTraceCap);
    let trace = LocalTrace::new_shared();
    for id in 2..12 {
        sink.push(span(id, Some(&trace), false, 1));
    }
    sink.push(span(1, Some(&trace), true, 200));
    let exported: Vec<u64> = queue.exported().into_iter().map(|(id, _)| id).collect();
    assert_eq!(exported, [2, 3, 4, 1], "the first three, then the root");
    assert_eq!(spans_dropped(SpanDrop::TailTraceCap) - before, 7);

    // Room for about three spans in all, whatever the trace.
    let one = span(0, None, false, 1).held_bytes();
    let (queue, sink) = tail(TailRules {
        max_bytes: one * 3,
        ..RULES
    });
    let before = spans_dropped(SpanDrop::TailBytesCap);
    let traces: Vec<_> = (0..4).map(|_| LocalTrace::new_shared()).collect();
    for (i, trace) in traces.iter().enumerate() {
        sink.push(span(10 + i as u64, Some(trace), false, 1));
        sink.push(span(20 + i as u64, Some(trace), false, 1));
        assert!(sink.held_now() <= one * 3);
    }
    assert_eq!(spans_dropped(SpanDrop::TailBytesCap) - before, 5);
    for (i, trace) in traces.iter().enumerate() {
        sink.push(span(1 + i as u64, Some(trace), true, 200));
    }
    assert_eq!(
        sink.held_now(),
        0,
        "every trace settled gives its bytes back"
    );
    assert_eq!(
        queue.exported().len(),
        3 + 4,
        "three held spans and four roots"
    );
}

#[test]
fn a_root_without_children_is_decided_alone_and_its_first_child_makes_the_trace() {
    let (queue, sink) = tail(RULES);
    let mut alone = span(1, None, false, 1);
    alone.hold = Hold::under(None);
    sink.push(alone);
    assert_eq!(*queue.recycled.lock().unwrap(), 1, "fast: back to the pool");
    let mut slow = span(2, None, false, 300);
    slow.hold = Hold::under(None);
    sink.push(slow);
    assert_eq!(queue.exported(), [(2, reason("slow"))]);

    let root = Hold::under(None);
    let first = root.trace().expect("a root's trace");
    let second = root.trace().expect("the same trace");
    assert!(Arc::ptr_eq(&first, &second));
    assert!(
        Hold::No.trace().is_none(),
        "a head-sampled span holds nothing"
    );
}
