//! A lenient reader of the Prometheus text exposition, for tests that check
//! the values o11y renders rather than the format: [`samples`] reads every
//! sample line (comments and blank lines skipped, nothing validated), and the
//! lookups find series by name and labels. The strict reader that checks the
//! format itself (families, escapes, histograms, OpenMetrics) stays in
//! `tests/metrics_exposition.rs`; it shares [`labels_are`].

/// One sample line: the metric name, its labels as written, its value.
pub struct Sample {
    /// The metric name (with its `_bucket`/`_sum`/`_count` suffix).
    pub name: String,
    /// The labels, in the order written, values unescaped.
    pub labels: Vec<(String, String)>,
    /// The sample's value.
    pub value: f64,
}

impl Sample {
    /// The value of label `key`; panics when the sample has no such label.
    pub fn label(&self, key: &str) -> &str {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no label {key} in {:?}", self.labels))
    }

    /// True when label `key` is there with value `value`.
    pub fn has_label(&self, key: &str, value: &str) -> bool {
        self.labels.iter().any(|(k, v)| k == key && v == value)
    }
}

/// True when `labels` are exactly `wanted`, in any order.
pub fn labels_are(labels: &[(String, String)], wanted: &[(&str, &str)]) -> bool {
    labels.len() == wanted.len()
        && wanted
            .iter()
            .all(|(k, v)| labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
}

/// Every sample of a Prometheus text exposition, in order.
pub fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (name, mut rest) = match line.find('{') {
            Some(brace) => (&line[..brace], &line[brace + 1..]),
            None => line.split_once(' ').expect("a sample line"),
        };
        let mut labels = Vec::new();
        if line.contains('{') {
            loop {
                if let Some(after) = rest.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let (key, after) = rest.split_once("=\"").expect("label=\"value\"");
                let mut value = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next().expect("closing quote") {
                        (_, '\\') => value.push(chars.next().expect("escaped char").1),
                        (i, '"') => break i,
                        (_, c) => value.push(c),
                    }
                };
                labels.push((key.to_string(), value));
                rest = after[end + 1..].trim_start_matches(',');
            }
        }
        let value = rest.split_whitespace().next().expect("a value");
        out.push(Sample {
            name: name.to_string(),
            labels,
            value: value.parse().expect("a number"),
        });
    }
    out
}

/// The value of the sample `name` whose labels are exactly `labels` (in any
/// order), if there is one; panics if there are several.
pub fn sample_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = samples(text)
        .into_iter()
        .filter(|s| s.name == name && labels_are(&s.labels, labels))
        .map(|s| s.value)
        .collect();
    assert!(
        found.len() <= 1,
        "{name}{labels:?} appears {} times",
        found.len()
    );
    found.first().copied()
}

/// Every sample of `name` whose `function` label is `function`.
pub fn series_of<'a>(all: &'a [Sample], name: &str, function: &str) -> Vec<&'a Sample> {
    all.iter()
        .filter(|s| s.name == name && s.has_label("function", function))
        .collect()
}
