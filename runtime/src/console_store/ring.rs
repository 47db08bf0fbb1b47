//! The ring itself: traces by id in arrival order, log lines outside any
//! trace, and the two bounds (`dev_console.max_traces`,
//! `dev_console.max_bytes`) enforced after every addition by evicting the
//! oldest trace (or, with none left, the oldest untraced line).

use std::collections::{HashMap, HashSet, VecDeque};

use super::summary::{self, TraceSummary};
use super::{SpanId, StoredLog, StoredSpan, TraceId, TraceView};

/// Spans one trace keeps; later ones are counted, not kept. A worker's
/// loop that is one long trace must not take the whole byte budget.
const MAX_SPANS_PER_TRACE: usize = 5_000;
/// Log lines one trace keeps.
const MAX_LOGS_PER_TRACE: usize = 5_000;

/// What the store may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Traces kept.
    pub(crate) max_traces: usize,
    /// Estimated bytes of every kept span and line.
    pub(crate) max_bytes: usize,
}

#[derive(Debug, Default)]
struct Trace {
    spans: Vec<StoredSpan>,
    /// The ids of `spans`: a span that arrives twice (a process exporting
    /// to its own console's receiver) is kept once.
    span_ids: HashSet<SpanId>,
    logs: Vec<StoredLog>,
    bytes: usize,
    /// Spans and lines past the per-trace caps.
    dropped: usize,
}

#[derive(Debug)]
pub(super) struct Ring {
    bounds: Bounds,
    traces: HashMap<TraceId, Trace>,
    /// Trace ids, oldest first arrival first.
    order: VecDeque<TraceId>,
    /// Lines written outside any trace, oldest first; at most `max_traces`.
    untraced: VecDeque<StoredLog>,
    bytes: usize,
    generation: u64,
}

impl Ring {
    pub(super) fn new(bounds: Bounds) -> Ring {
        Ring {
            bounds,
            traces: HashMap::new(),
            order: VecDeque::new(),
            untraced: VecDeque::new(),
            bytes: 0,
            generation: 0,
        }
    }

    fn trace_mut(&mut self, id: TraceId) -> &mut Trace {
        if !self.traces.contains_key(&id) {
            self.order.push_back(id);
        }
        self.traces.entry(id).or_default()
    }

    pub(super) fn add_spans(&mut self, spans: Vec<StoredSpan>) {
        if spans.is_empty() {
            return;
        }
        for span in spans {
            let bytes = span.bytes();
            let trace = self.trace_mut(span.trace_id);
            if trace.spans.len() >= MAX_SPANS_PER_TRACE {
                trace.dropped += 1;
                continue;
            }
            if !trace.span_ids.insert(span.span_id) {
                continue;
            }
            trace.spans.push(span);
            trace.bytes += bytes;
            self.bytes += bytes;
        }
        self.settle();
    }

    pub(super) fn add_logs(&mut self, logs: Vec<StoredLog>) {
        if logs.is_empty() {
            return;
        }
        for log in logs {
            let bytes = log.bytes();
            match log.trace_id {
                Some(id) => {
                    let trace = self.trace_mut(id);
                    if trace.logs.len() >= MAX_LOGS_PER_TRACE {
                        trace.dropped += 1;
                        continue;
                    }
                    trace.logs.push(log);
                    trace.bytes += bytes;
                }
                None => {
                    self.untraced.push_back(log);
                    if self.untraced.len() > self.bounds.max_traces
                        && let Some(old) = self.untraced.pop_front()
                    {
                        self.bytes -= old.bytes();
                    }
                }
            }
            self.bytes += bytes;
        }
        self.settle();
    }

    /// Evicts the oldest until both bounds hold.
    fn settle(&mut self) {
        self.generation += 1;
        while self.traces.len() > self.bounds.max_traces {
            self.evict_oldest_trace();
        }
        while self.bytes > self.bounds.max_bytes {
            if !self.order.is_empty() {
                self.evict_oldest_trace();
            } else if let Some(old) = self.untraced.pop_front() {
                self.bytes -= old.bytes();
            } else {
                break;
            }
        }
    }

    fn evict_oldest_trace(&mut self) {
        if let Some(id) = self.order.pop_front()
            && let Some(trace) = self.traces.remove(&id)
        {
            self.bytes -= trace.bytes;
        }
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    pub(super) fn summaries(&self) -> Vec<TraceSummary> {
        let mut summaries: Vec<TraceSummary> = self
            .traces
            .iter()
            .filter(|(_, trace)| !trace.spans.is_empty())
            .map(|(id, trace)| summary::summarize(*id, &trace.spans, &trace.logs))
            .collect();
        summaries.sort_by(|a, b| b.start.cmp(&a.start).then(a.trace_id.cmp(&b.trace_id)));
        summaries
    }

    pub(super) fn trace(&self, id: &TraceId) -> Option<TraceView> {
        let trace = self.traces.get(id)?;
        let mut spans = trace.spans.clone();
        spans.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
        let mut logs = trace.logs.clone();
        logs.sort_by_key(|log| log.time);
        Some(TraceView { spans, logs })
    }

    pub(super) fn logs(&self, limit: usize) -> Vec<StoredLog> {
        let mut all: Vec<&StoredLog> = self
            .traces
            .values()
            .flat_map(|trace| &trace.logs)
            .chain(&self.untraced)
            .collect();
        all.sort_by_key(|log| std::cmp::Reverse(log.time));
        all.into_iter().take(limit).cloned().collect()
    }

    pub(super) fn usage(&self) -> (usize, usize) {
        (self.traces.len(), self.bytes)
    }

    /// Spans and lines the per-trace caps left out, over every kept trace.
    #[cfg(test)]
    fn dropped(&self) -> usize {
        self.traces.values().map(|trace| trace.dropped).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{Level, SpanKind};
    use super::*;

    fn span(trace: u8, span: u8, start: u64, attribute_len: usize) -> StoredSpan {
        StoredSpan {
            trace_id: [trace; 16],
            span_id: [span; 8],
            parent_span_id: None,
            service: Arc::from("svc"),
            name: "GET /orders".into(),
            kind: SpanKind::Server,
            start,
            end: start + 1_000,
            attributes: vec![("k".into(), "x".repeat(attribute_len))],
            events: Vec::new(),
            error: None,
        }
    }

    fn line(trace: Option<u8>, time: u64) -> StoredLog {
        StoredLog {
            time,
            level: Level::Info,
            target: "app".into(),
            message: "hello".into(),
            attributes: Vec::new(),
            trace_id: trace.map(|t| [t; 16]),
            span_id: None,
            service: Arc::from("svc"),
        }
    }

    const ROOMY: Bounds = Bounds {
        max_traces: 1000,
        max_bytes: usize::MAX,
    };

    #[test]
    fn the_count_bound_evicts_the_oldest_traces() {
        let mut ring = Ring::new(Bounds {
            max_traces: 3,
            ..ROOMY
        });
        for t in 1..=5 {
            ring.add_spans(vec![span(t, 1, u64::from(t), 0)]);
        }
        assert_eq!(ring.usage().0, 3);
        assert!(ring.trace(&[1; 16]).is_none() && ring.trace(&[2; 16]).is_none());
        assert!(ring.trace(&[3; 16]).is_some() && ring.trace(&[5; 16]).is_some());
        // Newest first.
        let order: Vec<u8> = ring.summaries().iter().map(|s| s.trace_id[0]).collect();
        assert_eq!(order, [5, 4, 3]);
    }

    #[test]
    fn the_byte_bound_evicts_the_oldest_traces_and_keeps_the_count_right() {
        let one = span(0, 0, 0, 10_000).bytes();
        let mut ring = Ring::new(Bounds {
            max_traces: 1000,
            max_bytes: one * 2 + one / 2,
        });
        for t in 1..=4 {
            ring.add_spans(vec![span(t, 1, u64::from(t), 10_000)]);
            assert!(ring.usage().1 <= one * 2 + one / 2, "{:?}", ring.usage());
        }
        assert_eq!(ring.usage(), (2, one * 2));
        assert!(ring.trace(&[3; 16]).is_some() && ring.trace(&[4; 16]).is_some());
    }

    #[test]
    fn a_trace_bigger_than_the_budget_is_not_kept() {
        let mut ring = Ring::new(Bounds {
            max_traces: 10,
            max_bytes: 1_000,
        });
        ring.add_spans(vec![span(1, 1, 1, 5_000)]);
        assert_eq!(ring.usage(), (0, 0));
    }

    #[test]
    fn lines_join_their_trace_and_untraced_lines_are_bounded_too() {
        let mut ring = Ring::new(Bounds {
            max_traces: 2,
            ..ROOMY
        });
        ring.add_spans(vec![span(1, 1, 10, 0)]);
        ring.add_logs(vec![line(Some(1), 20), line(Some(1), 15)]);
        let view = ring.trace(&[1; 16]).unwrap();
        let times: Vec<u64> = view.logs.iter().map(|l| l.time).collect();
        assert_eq!(times, [15, 20], "by time");
        for time in 0..5 {
            ring.add_logs(vec![line(None, 100 + time)]);
        }
        assert_eq!(ring.untraced.len(), 2, "at most max_traces untraced lines");
        let newest: Vec<u64> = ring.logs(3).iter().map(|l| l.time).collect();
        assert_eq!(newest, [104, 103, 20]);
        // Evicting the trace takes its lines and bytes with it.
        ring.add_spans(vec![span(2, 1, 30, 0)]);
        ring.add_spans(vec![span(3, 1, 40, 0)]);
        assert!(ring.trace(&[1; 16]).is_none());
        let expected: usize = ring.untraced.iter().map(StoredLog::bytes).sum::<usize>()
            + span(2, 1, 30, 0).bytes()
            + span(3, 1, 40, 0).bytes();
        assert_eq!(ring.usage().1, expected);
    }

    #[test]
    fn a_span_that_arrives_twice_is_kept_once() {
        let mut ring = Ring::new(ROOMY);
        ring.add_spans(vec![span(1, 1, 1, 0)]);
        let bytes = ring.usage().1;
        ring.add_spans(vec![span(1, 1, 1, 0), span(1, 2, 2, 0)]);
        assert_eq!(ring.trace(&[1; 16]).unwrap().spans.len(), 2);
        assert_eq!(ring.usage().1, bytes * 2);
    }

    #[test]
    fn a_trace_keeps_a_bounded_number_of_spans() {
        let mut ring = Ring::new(ROOMY);
        let spans = (0..MAX_SPANS_PER_TRACE + 10)
            .map(|i| {
                let mut span = span(1, 1, i as u64, 0);
                span.span_id = (i as u64).to_be_bytes();
                span
            })
            .collect();
        ring.add_spans(spans);
        assert_eq!(
            ring.trace(&[1; 16]).unwrap().spans.len(),
            MAX_SPANS_PER_TRACE
        );
        assert_eq!(ring.dropped(), 10);
    }

    #[test]
    fn every_addition_changes_the_generation() {
        let mut ring = Ring::new(ROOMY);
        let before = ring.generation();
        ring.add_spans(vec![span(1, 1, 1, 0)]);
        let after_span = ring.generation();
        ring.add_logs(vec![line(None, 1)]);
        assert!(before < after_span && after_span < ring.generation());
        ring.add_logs(Vec::new());
        assert_eq!(
            ring.generation(),
            after_span + 1,
            "nothing added, nothing changed"
        );
    }
}
