#!/usr/bin/env bash
# Runs benches/overhead.rs (criterion group `observe`) and prints every
# median with the ratios the macros issue sets as bars. Each ratio compares
# cases of the same run; with --runs N (default 3) the group runs N times
# back to back and the summary gives each run's ratios and their median,
# since one run on a shared, noisy machine can land on either side of a bar.
#
#   bash scripts/bench-overhead.sh [--runs N] [criterion args, e.g. --measurement-time 3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

runs=3
if [ "${1:-}" = "--runs" ]; then
  runs="$2"
  shift 2
fi
[ "$runs" -ge 1 ] 2>/dev/null || { echo "--runs must be a positive number" >&2; exit 2; }

results="$root/target/criterion/overhead-runs"
rm -rf "$results"
mkdir -p "$results"
for run in $(seq 1 "$runs"); do
  echo "[bench-overhead] run $run of $runs" >&2
  cargo bench --bench overhead -- "$@"
  cp -r "$root/target/criterion/observe" "$results/$run"
done

python3 - "$results" "$runs" <<'PY'
import json, os, statistics, sys
base, runs = sys.argv[1], int(sys.argv[2])
cases = ["bare", "observe_off", "observe_metrics_only", "observe_metrics_only_2_threads",
         "observe_sampled_out", "observe_recorded", "observe_recorded_async", "observe_tail_dropped",
         "instrument_otel_off", "instrument_otel_recorded", "fastrace_recorded", "metrics_floor"]
def medians(run):
    out = {}
    for case in cases:
        with open(os.path.join(base, str(run), case, "new", "estimates.json")) as f:
            out[case] = json.load(f)["median"]["point_estimate"]
    return out
ms = [medians(run) for run in range(1, runs + 1)]
# (name, value of one run's medians, bar, passes)
bars = [
    ("observe_off - bare", lambda m: m["observe_off"] - m["bare"], "<= 5 ns", lambda v: v <= 5),
    ("observe_metrics_only / metrics_floor", lambda m: m["observe_metrics_only"] / m["metrics_floor"],
     "<= 1.25", lambda v: v <= 1.25),
    ("observe_sampled_out / instrument_otel_off", lambda m: m["observe_sampled_out"] / m["instrument_otel_off"],
     "<= 0.2", lambda v: v <= 0.2),
    ("observe_recorded / instrument_otel_recorded",
     lambda m: m["observe_recorded"] / m["instrument_otel_recorded"], "<= 0.33", lambda v: v <= 0.33),
    ("observe_recorded / (fastrace_recorded + metrics_floor)",
     lambda m: m["observe_recorded"] / (m["fastrace_recorded"] + m["metrics_floor"]), "goal <= 1.0", None),
    ("observe_tail_dropped / (fastrace_recorded + metrics_floor)",
     lambda m: m["observe_tail_dropped"] / (m["fastrace_recorded"] + m["metrics_floor"]),
     "<= 1.3, goal <= 1.0", lambda v: v <= 1.3),
    ("2 threads / 1 thread (metrics only)",
     lambda m: m["observe_metrics_only_2_threads"] / m["observe_metrics_only"], "<= 2", lambda v: v <= 2),
]
header = "".join(f"{'run ' + str(r):>10}" for r in range(1, runs + 1))
print(f"\nmedians (ns per call):\n  {'case':34}{header}")
for case in cases:
    print(f"  {case:34}" + "".join(f"{m[case]:10.1f}" for m in ms))
print(f"\nbars (each run's ratio, then their median):\n  {'':55}{header}{'median':>10}")
for name, value, bar, passes in bars:
    values = [value(m) for m in ms]
    mid = statistics.median(values)
    verdict = "" if passes is None else (
        "ok" if passes(mid) and all(passes(v) for v in values)
        else "ok (median)" if passes(mid) else "MISSED")
    print(f"  {name:55}" + "".join(f"{v:10.3f}" for v in values) + f"{mid:10.3f}  ({bar}) {verdict}")
PY
