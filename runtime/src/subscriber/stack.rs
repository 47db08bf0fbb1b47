//! The spans a thread is inside, innermost last: where `current_span` and
//! contextual parents come from.

use tracing_core::span::Id;

/// One thread's entered spans, in the order entered. A span entered again
/// while inside itself is on the stack twice.
#[derive(Debug, Default)]
pub(super) struct SpanStack(Vec<Id>);

impl SpanStack {
    pub(super) fn push(&mut self, id: Id) {
        self.0.push(id);
    }

    /// Takes `id` off the stack: its innermost entry, which is the last
    /// unless spans were exited out of order.
    pub(super) fn pop(&mut self, id: &Id) {
        if let Some(at) = self.0.iter().rposition(|entered| entered == id) {
            self.0.remove(at);
        }
    }

    /// The span entered last.
    pub(super) fn current(&self) -> Option<&Id> {
        self.0.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_exits_leave_the_rest_in_place() {
        let mut stack = SpanStack::default();
        let (a, b, c) = (Id::from_u64(1), Id::from_u64(2), Id::from_u64(3));
        stack.push(a.clone());
        stack.push(b.clone());
        stack.push(c.clone());
        stack.pop(&b);
        assert_eq!(stack.current(), Some(&c));
        stack.pop(&c);
        assert_eq!(stack.current(), Some(&a));
        stack.pop(&c);
        assert_eq!(
            stack.current(),
            Some(&a),
            "an id not on the stack changes nothing"
        );
    }

    #[test]
    fn a_span_entered_twice_stays_current_until_exited_twice() {
        let mut stack = SpanStack::default();
        let (a, b) = (Id::from_u64(1), Id::from_u64(2));
        stack.push(a.clone());
        stack.push(b.clone());
        stack.push(a.clone());
        assert_eq!(stack.current(), Some(&a));
        stack.pop(&a);
        assert_eq!(stack.current(), Some(&b));
        stack.pop(&b);
        assert_eq!(stack.current(), Some(&a));
    }
}
