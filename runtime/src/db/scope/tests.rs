use super::*;

fn is_send<T: Send>() {}

/// A query that took no time and just ended.
fn instant() -> QueryTime {
    QueryTime {
        elapsed: std::time::Duration::ZERO,
        end: std::time::SystemTime::now(),
    }
}

#[test]
fn scopes_travel_with_their_futures() {
    // An observed async fn's future holds its CallScope across awaits.
    is_send::<CallScope<'static>>();
    is_send::<Scope>();
    is_send::<Scoped<std::future::Ready<()>>>();
}

#[test]
fn scopes_nest_and_the_innermost_owns_a_query() {
    let statement = super::super::statement::lookup("SELECT * FROM nest WHERE id = 1");
    let mut outer = Scope::new("outer");
    outer.in_scope(|| {
        enter_call();
        for _ in 0..5 {
            assert!(record(&statement, instant(), None));
        }
        // The inner scope reports; the outer one does not report it again.
        assert!(leave_call("inner", None).is_none());
        assert!(record(&statement, instant(), None));
    });
    let report = outer.finish();
    assert_eq!(report.detections().len(), 1, "{report}");
    assert_eq!(report.detections()[0].scope, "inner");
    assert_eq!(report.detections()[0].count, 5);
    // No scope current any more: not counted.
    assert!(!record(&statement, instant(), None));
}

#[test]
fn repetitions_spread_over_inner_scopes_are_seen_by_the_outer_one() {
    let statement = super::super::statement::lookup("SELECT * FROM spread WHERE id = 1");
    let mut outer = Scope::new("loops");
    outer.in_scope(|| {
        for _ in 0..6 {
            enter_call();
            record(&statement, instant(), None);
            assert!(leave_call("helper", None).is_none());
        }
    });
    let report = outer.finish();
    assert_eq!(report.detections().len(), 1, "{report}");
    assert_eq!(report.detections()[0].scope, "loops");
    assert_eq!(report.detections()[0].count, 6);
}
