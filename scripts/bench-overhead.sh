#!/usr/bin/env bash
# Runs benches/overhead.rs (criterion group `observe`) and prints every
# median with the ratios the macros issue sets as bars, from the same run.
#
#   bash scripts/bench-overhead.sh [criterion args, e.g. --measurement-time 3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo bench --bench overhead -- "$@"
python3 - "$root/target/criterion/observe" <<'PY'
import json, os, sys
base = sys.argv[1]
def median(case):
    with open(os.path.join(base, case, "new", "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"]
cases = ["bare", "observe_off", "observe_metrics_only", "observe_metrics_only_2_threads",
         "observe_sampled_out", "observe_recorded", "observe_recorded_async",
         "instrument_otel_off", "instrument_otel_recorded", "fastrace_recorded", "metrics_floor"]
m = {c: median(c) for c in cases}
print("\nmedians (ns per call):")
for c in cases:
    print(f"  {c:34} {m[c]:9.1f}")
checks = [
    ("observe_off - bare", m["observe_off"] - m["bare"], "<= 5 ns", m["observe_off"] - m["bare"] <= 5),
    ("observe_metrics_only / metrics_floor", m["observe_metrics_only"] / m["metrics_floor"], "<= 1.25",
     m["observe_metrics_only"] / m["metrics_floor"] <= 1.25),
    ("observe_sampled_out / instrument_otel_off", m["observe_sampled_out"] / m["instrument_otel_off"], "<= 0.2",
     m["observe_sampled_out"] / m["instrument_otel_off"] <= 0.2),
    ("observe_recorded / instrument_otel_recorded", m["observe_recorded"] / m["instrument_otel_recorded"], "<= 0.33",
     m["observe_recorded"] / m["instrument_otel_recorded"] <= 0.33),
    ("observe_recorded / (fastrace_recorded + metrics_floor)",
     m["observe_recorded"] / (m["fastrace_recorded"] + m["metrics_floor"]), "goal <= 1.0", None),
    ("2 threads / 1 thread (metrics only)", m["observe_metrics_only_2_threads"] / m["observe_metrics_only"], "<= 2",
     m["observe_metrics_only_2_threads"] / m["observe_metrics_only"] <= 2),
]
print("\nbars:")
for name, value, bar, ok in checks:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {name:55} {value:8.3f}  ({bar}) {verdict}")
PY
