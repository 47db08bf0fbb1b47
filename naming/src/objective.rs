//! Service level objectives: a success ratio, and a latency threshold met
//! by a share of calls, both in percent. `#[observe(objective(..))]`
//! checks them at compile time and `slo.routes` in `o11y.toml` at
//! `init()`, with these functions, so both refuse the same objectives
//! with the same words; the text form of `slo.routes` is parsed here too.
//!
//! A latency objective is measured as the share of a histogram's
//! observations at or under the threshold, which Prometheus can only
//! count at a bucket boundary: a threshold between two buckets is refused,
//! naming the buckets.

/// An objective as written: either part may be absent, not both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectiveSpec {
    /// The share of calls that must succeed, in percent (`99.9`).
    pub success: Option<f64>,
    /// The threshold in seconds and the share of calls, in percent, that
    /// must finish within it.
    pub latency: Option<(f64, f64)>,
}

/// How the text form reads, for error messages.
pub const SYNTAX: &str = "`success = 99.9`, `latency = 250ms at 99` or both, separated by a comma";

/// A percentage of an objective: above 0 and below 100.
pub fn check_percent(what: &str, percent: f64) -> Result<(), String> {
    if percent.is_finite() && percent > 0.0 && percent < 100.0 {
        Ok(())
    } else {
        Err(format!(
            "the {what} objective {percent} is not a percentage above 0 and below 100 \
             (99.9 means 99.9 % of calls; 100 leaves no error budget)"
        ))
    }
}

/// `250ms`, `1s`, `1.5s`, `2m`: a latency threshold in seconds, above 0.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        _ => {
            return Err(format!(
                "the latency threshold `{text}` is not a duration: write a number and a unit \
                 of ms, s or m, like `250ms` or `1s`"
            ));
        }
    };
    match number.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value * scale),
        _ => Err(format!(
            "the latency threshold `{text}` is not a duration above zero, like `250ms` or `1s`"
        )),
    }
}

/// The threshold must be one of `buckets` (of the histogram `metric`).
pub fn check_threshold(metric: &str, seconds: f64, buckets: &[f64]) -> Result<(), String> {
    if buckets.iter().any(|&bound| same_bound(bound, seconds)) {
        return Ok(());
    }
    let listed: Vec<String> = buckets.iter().map(|b| format_seconds(*b)).collect();
    Err(format!(
        "the latency threshold {} is not a bucket boundary of `{metric}`, so the share of \
         calls under it cannot be counted; use one of its buckets: {}",
        format_seconds(seconds),
        listed.join(", ")
    ))
}

/// Bounds compare equal when they differ by rounding only (`0.25` from `250ms`).
pub fn same_bound(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// `0.25` → `250ms`, `2.5` → `2.5s`.
pub fn format_seconds(seconds: f64) -> String {
    if seconds < 1.0 {
        let millis = seconds * 1000.0;
        let rounded = (millis * 1000.0).round() / 1000.0;
        format!("{rounded}ms")
    } else {
        format!("{seconds}s")
    }
}

/// Parses the text form, `success = 99.9, latency = 250ms at 99` (see
/// [`SYNTAX`]), and checks each percentage. A `%` after a percentage is
/// allowed. Bucket boundaries are the caller's to check: it knows the
/// histogram.
pub fn parse(text: &str) -> Result<ObjectiveSpec, String> {
    let mut spec = ObjectiveSpec {
        success: None,
        latency: None,
    };
    for part in text.split(',') {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!(
                "`{}` is not part of an objective: write {SYNTAX}",
                part.trim()
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "success" if spec.success.is_none() => {
                let percent = parse_percent(value)?;
                check_percent("success", percent)?;
                spec.success = Some(percent);
            }
            "latency" if spec.latency.is_none() => {
                let Some((threshold, percent)) = value.split_once(" at ") else {
                    return Err(format!(
                        "`latency = {value}` says no share of calls: write \
                         `latency = {value} at 99` (99 % of calls within {value})"
                    ));
                };
                let seconds = parse_duration(threshold)?;
                let percent = parse_percent(percent)?;
                check_percent("latency", percent)?;
                spec.latency = Some((seconds, percent));
            }
            "success" | "latency" => return Err(format!("`{key}` is given twice")),
            other => {
                return Err(format!(
                    "unknown part `{other}` of an objective: write {SYNTAX}"
                ));
            }
        }
    }
    Ok(spec)
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    number
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a percentage, like 99.9"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_SECONDS_BUCKETS;

    #[test]
    fn the_text_form_reads_both_parts_in_any_order() {
        assert_eq!(
            parse("success = 99.9, latency = 250ms at 99%").unwrap(),
            ObjectiveSpec {
                success: Some(99.9),
                latency: Some((0.25, 99.0)),
            }
        );
        assert_eq!(
            parse(" latency=1s at 95 ").unwrap(),
            ObjectiveSpec {
                success: None,
                latency: Some((1.0, 95.0)),
            }
        );
    }

    #[test]
    fn bad_text_is_refused_with_what_to_write() {
        for (text, said) in [
            ("success = 100", "above 0 and below 100"),
            ("success = 0", "above 0 and below 100"),
            ("success = lots", "not a percentage"),
            ("latency = 250ms", "at 99"),
            ("latency = 250 at 99", "unit of ms, s or m"),
            ("latency = 0ms at 99", "above zero"),
            ("succes = 99", "unknown part `succes`"),
            ("success = 99, success = 98", "given twice"),
            ("99.9", "not part of an objective"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(said), "{text}: {error}");
        }
    }

    #[test]
    fn a_threshold_must_be_a_bucket_boundary() {
        check_threshold(
            "d",
            parse_duration("250ms").unwrap(),
            DEFAULT_SECONDS_BUCKETS,
        )
        .unwrap();
        check_threshold(
            "d",
            parse_duration("2.5s").unwrap(),
            DEFAULT_SECONDS_BUCKETS,
        )
        .unwrap();
        let error = check_threshold("d", 0.3, DEFAULT_SECONDS_BUCKETS).unwrap_err();
        assert_eq!(
            error,
            "the latency threshold 300ms is not a bucket boundary of `d`, so the share of calls \
             under it cannot be counted; use one of its buckets: 5ms, 10ms, 25ms, 50ms, 75ms, \
             100ms, 250ms, 500ms, 750ms, 1s, 2.5s, 5s, 7.5s, 10s"
        );
    }
}
