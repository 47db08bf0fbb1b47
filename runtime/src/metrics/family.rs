//! A labelled metric's series: one cell per distinct label set, created on
//! first use and handed out as a cheap `Arc` handle that callers keep, so
//! the hot path never hashes labels.
//!
//! The cardinality guard lives here: past the metric's series cap, a new
//! label set gets the one overflow series (every label `__overflow__`),
//! `o11y_metric_series_overflow_total{metric}` counts it, and a warning is
//! logged once per metric. Memory stays bounded whatever the label values.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use super::cell::Cell;
use super::desc::MetricDesc;

/// The label value of the overflow series.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

pub use crate::config::DEFAULT_SERIES_CAP;

static GLOBAL_SERIES_CAP: AtomicUsize = AtomicUsize::new(DEFAULT_SERIES_CAP);

/// Sets the cap of every metric that has none of its own (done by `init()`).
pub fn set_global_series_cap(cap: usize) {
    GLOBAL_SERIES_CAP.store(cap.max(1), Ordering::Relaxed);
}

struct Series<C> {
    /// The label set's hash, kept for when the index grows.
    hash: u64,
    labels: Box<[Box<str>]>,
    cell: Arc<C>,
}

struct Table<C> {
    /// In creation order, which is the exposition order.
    series: Vec<Series<C>>,
    /// Indexes into `series`, found by the label set's hash (computed once
    /// per lookup, not hashed again by a map).
    index: HashTable<u32>,
}

/// The series of one labelled metric.
pub(crate) struct Family<C> {
    state: OnceLock<State<C>>,
}

struct State<C> {
    hasher: RandomState,
    table: RwLock<Table<C>>,
    overflow: OnceLock<Arc<C>>,
    warned: AtomicBool,
}

impl<C: Cell> Family<C> {
    pub(crate) const fn new() -> Self {
        Family {
            state: OnceLock::new(),
        }
    }

    fn state(&self) -> &State<C> {
        self.state.get_or_init(|| State {
            hasher: RandomState::default(),
            table: RwLock::new(Table {
                series: Vec::new(),
                index: HashTable::new(),
            }),
            overflow: OnceLock::new(),
            warned: AtomicBool::new(false),
        })
    }

    /// The cell of this label set, created if new (or the overflow cell past the cap).
    pub(crate) fn get_or_create(&self, desc: &MetricDesc, values: &[&str]) -> Arc<C> {
        debug_assert_eq!(
            values.len(),
            desc.labels.len(),
            "label arity of {}",
            desc.name
        );
        let state = self.state();
        let hash = state.hasher.hash_one(values);
        let cap = desc
            .series_cap
            .unwrap_or_else(|| GLOBAL_SERIES_CAP.load(Ordering::Relaxed));
        {
            let table = state.table.read().unwrap_or_else(|e| e.into_inner());
            if let Some(cell) = table.find(hash, values) {
                return cell;
            }
            // Full: a flood of new label sets must not queue on the write lock.
            if table.series.len() >= cap {
                drop(table);
                return self.overflow(desc, state, cap);
            }
        }
        // The overflow series' own label set, recorded by the application:
        // that series, or the exposition would list the label set twice.
        if !values.is_empty() && values.iter().all(|value| *value == OVERFLOW_LABEL_VALUE) {
            return state
                .overflow
                .get_or_init(|| Arc::new(C::new(desc)))
                .clone();
        }
        let mut table = state.table.write().unwrap_or_else(|e| e.into_inner());
        if let Some(cell) = table.find(hash, values) {
            return cell; // created by another thread meanwhile
        }
        if table.series.len() >= cap {
            drop(table);
            return self.overflow(desc, state, cap);
        }
        let cell = Arc::new(C::new(desc));
        let labels = values.iter().map(|v| Box::<str>::from(*v)).collect();
        let position = table.series.len() as u32;
        table.series.push(Series {
            hash,
            labels,
            cell: cell.clone(),
        });
        let Table { series, index } = &mut *table;
        index.insert_unique(hash, position, |&i| series[i as usize].hash);
        cell
    }

    fn overflow(&self, desc: &MetricDesc, state: &State<C>, cap: usize) -> Arc<C> {
        super::own::SERIES_OVERFLOW.labels([desc.name]).inc();
        if !state.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "o11y::metrics",
                metric = desc.name,
                series_cap = cap,
                "metric {} reached its cap of {cap} label sets; new label sets are counted in one \
                 series whose labels are {OVERFLOW_LABEL_VALUE} (raise metrics.series_cap or \
                 remove the unbounded label)",
                desc.name
            );
        }
        state
            .overflow
            .get_or_init(|| Arc::new(C::new(desc)))
            .clone()
    }

    /// Visits every series: label values and cell, the overflow series last.
    pub(crate) fn for_each(&self, desc: &MetricDesc, mut f: impl FnMut(&[&str], &C)) {
        let Some(state) = self.state.get() else {
            return;
        };
        let mut values: Vec<&str> = Vec::with_capacity(desc.labels.len());
        {
            let table = state.table.read().unwrap_or_else(|e| e.into_inner());
            for series in &table.series {
                values.clear();
                values.extend(series.labels.iter().map(|v| &**v));
                f(&values, &series.cell);
            }
        }
        if let Some(overflow) = state.overflow.get() {
            let values = vec![OVERFLOW_LABEL_VALUE; desc.labels.len()];
            f(&values, overflow);
        }
    }

    /// How many label sets are kept (the overflow series not included).
    pub(crate) fn len(&self) -> usize {
        self.state.get().map_or(0, |s| {
            s.table
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .series
                .len()
        })
    }
}

impl<C> Table<C> {
    fn find(&self, hash: u64, values: &[&str]) -> Option<Arc<C>> {
        let position = self.index.find(hash, |&i| {
            let labels = &self.series[i as usize].labels;
            labels.len() == values.len() && labels.iter().zip(values).all(|(a, b)| **a == **b)
        })?;
        Some(self.series[*position as usize].cell.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::cell::CounterCell;

    const DESC: MetricDesc = MetricDesc::counter("family_test_total", "T")
        .labels(&["a", "b"])
        .series_cap(3);

    #[test]
    fn same_labels_same_cell() {
        let family = Family::<CounterCell>::new();
        let x = family.get_or_create(&DESC, &["1", "2"]);
        let y = family.get_or_create(&DESC, &["1", "2"]);
        assert!(Arc::ptr_eq(&x, &y));
        let z = family.get_or_create(&DESC, &["2", "1"]);
        assert!(!Arc::ptr_eq(&x, &z));
        assert_eq!(family.len(), 2);
    }

    #[test]
    fn past_the_cap_label_sets_share_the_overflow_series() {
        let family = Family::<CounterCell>::new();
        for i in 0..10 {
            family
                .get_or_create(&DESC, &[&i.to_string(), "x"])
                .inc_by(1);
        }
        assert_eq!(family.len(), 3);
        let mut seen = Vec::new();
        family.for_each(&DESC, |labels, cell| {
            seen.push((labels.join(","), cell.get()))
        });
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[3], ("__overflow__,__overflow__".to_owned(), 7));
    }

    #[test]
    fn the_overflow_label_set_is_the_overflow_series_even_under_the_cap() {
        let family = Family::<CounterCell>::new();
        family
            .get_or_create(&DESC, &[OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE])
            .inc_by(2);
        family
            .get_or_create(&DESC, &[OVERFLOW_LABEL_VALUE, "x"])
            .inc_by(1);
        let mut seen = Vec::new();
        family.for_each(&DESC, |labels, cell| {
            seen.push((labels.join(","), cell.get()))
        });
        assert_eq!(
            seen,
            [
                ("__overflow__,x".to_owned(), 1),
                ("__overflow__,__overflow__".to_owned(), 2)
            ],
            "listed once"
        );
    }
}
