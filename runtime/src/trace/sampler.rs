//! Trace and span ids, and the head sampler.
//!
//! Ids come from a thread-local wyrand generator (`fastrand`): a few
//! nanoseconds, no lock, and no cryptographic strength needed. The ratio test
//! is the OpenTelemetry `TraceIdRatioBased` one (the low 63 bits of the trace
//! id against the ratio), so every SDK in a trace agrees on the decision.

use opentelemetry::trace::{SpanId, TraceId};

pub(crate) fn new_trace_id() -> TraceId {
    loop {
        let id = fastrand::u128(..);
        if id != 0 {
            return TraceId::from(id);
        }
    }
}

pub(crate) fn new_span_id() -> SpanId {
    loop {
        let id = fastrand::u64(..);
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

/// Decides whether a new span is recorded and exported.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sampler {
    enabled: bool,
    parent_based: bool,
    /// Sampled when the trace id's low 63 bits are below this.
    threshold: u64,
}

impl Sampler {
    pub(crate) fn new(enabled: bool, ratio: f64, parent_based: bool) -> Self {
        let ratio = ratio.clamp(0.0, 1.0);
        let threshold = if ratio >= 1.0 {
            u64::MAX
        } else {
            (ratio * (1u64 << 63) as f64) as u64
        };
        Sampler {
            enabled,
            parent_based,
            threshold,
        }
    }

    /// `parent`: the sampled flag of the parent span, local or remote, if any.
    pub(crate) fn should_sample(&self, trace_id: TraceId, parent: Option<bool>) -> bool {
        if !self.enabled {
            return false;
        }
        match parent {
            Some(sampled) if self.parent_based => sampled,
            _ => self.ratio_allows(trace_id),
        }
    }

    fn ratio_allows(&self, trace_id: TraceId) -> bool {
        let bytes = trace_id.to_bytes();
        let low = u64::from_be_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
        (low >> 1) < self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_zero_and_vary() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_ne!(a, TraceId::INVALID);
        assert_ne!(a, b);
        assert_ne!(new_span_id(), SpanId::INVALID);
    }

    #[test]
    fn ratio_extremes() {
        let all = Sampler::new(true, 1.0, true);
        let none = Sampler::new(true, 0.0, true);
        for _ in 0..1000 {
            let id = new_trace_id();
            assert!(all.should_sample(id, None));
            assert!(!none.should_sample(id, None));
        }
    }

    #[test]
    fn ratio_is_roughly_respected() {
        let tenth = Sampler::new(true, 0.1, true);
        let kept = (0..100_000)
            .filter(|_| tenth.should_sample(new_trace_id(), None))
            .count();
        assert!(
            (8_000..12_000).contains(&kept),
            "kept {kept} of 100000 at ratio 0.1"
        );
    }

    #[test]
    fn parent_decision_wins_when_parent_based() {
        let none = Sampler::new(true, 0.0, true);
        assert!(none.should_sample(new_trace_id(), Some(true)));
        let all = Sampler::new(true, 1.0, true);
        assert!(!all.should_sample(new_trace_id(), Some(false)));
        let not_parent_based = Sampler::new(true, 1.0, false);
        assert!(not_parent_based.should_sample(new_trace_id(), Some(false)));
    }

    #[test]
    fn disabled_samples_nothing() {
        let off = Sampler::new(false, 1.0, true);
        assert!(!off.should_sample(new_trace_id(), Some(true)));
    }
}
