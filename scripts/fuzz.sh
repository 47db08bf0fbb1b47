#!/usr/bin/env bash
# Fuzzes o11y's readers of hostile input: runs the property tests named
# `hostile_*` (o11y-runtime's unit tests) for CASES generated cases each.
#
#   bash scripts/fuzz.sh [CASES] [FILTER]
#
#   CASES    cases per test (PROPTEST_CASES); default 1000000
#   FILTER   which tests, by name; default `hostile_` (all of them), e.g.
#            `hostile_tracestate` or one test's whole name
#
# What they read, and where the tests are:
#   runtime/src/trace/w3c/hostile_tests.rs   `traceparent`, `tracestate`
#   runtime/src/http/hostile_tests.rs        `baggage`, `X-Request-ID` (feature axum)
#   runtime/src/config/hostile_tests.rs      config values, environments, `o11y.toml` files
#   runtime/src/task/hostile_tests.rs        task envelopes (JSON) and message headers
#   runtime/src/redact/hostile_tests.rs      text values: the redaction engine (no panic,
#                                            no planted secret left, time linear in the text)
# Each checks that reading never panics, and the invariants of its reader
# (what is written reads back as written, what is accepted is what was
# sent and stays within its limits, what is refused leaves nothing behind).
#
# Built optimised (the cases are CPU-bound) but with overflow checks and
# debug assertions on, so that an arithmetic overflow panics here as in a
# debug build instead of wrapping unseen. The tests run in parallel, one per
# core. A failure prints the smallest input proptest shrank it to and saves
# its seed under runtime/proptest-regressions/, which every later
# `cargo test` replays first: fix the cause and keep the seed.
#
# Runs from any directory; CARGO_TARGET_DIR is honoured. Prints the time the
# cases took, the build excluded.
set -euo pipefail

cases="${1:-1000000}"
filter="${2:-hostile_}"
case "$cases" in
  '' | *[!0-9]*)
    echo "usage: bash scripts/fuzz.sh [CASES] [FILTER]  (CASES a whole number, got '$cases')" >&2
    exit 2
    ;;
esac
case "$filter" in
  *hostile_*) ;;
  *)
    echo "FILTER must name hostile_* tests (got '$filter'): other property tests set their own case counts" >&2
    exit 2
    ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
test_args=(--release -p o11y-runtime --lib --features axum)

cargo test "${test_args[@]}" --no-run
# A filter that matches nothing would run nothing and pass.
count="$(cargo test "${test_args[@]}" -- --list "$filter" 2>/dev/null | grep -c ': test$' || true)"
if [ "$count" -eq 0 ]; then
  echo "[fuzz] no test matches '$filter'" >&2
  exit 2
fi
echo "[fuzz] $count tests matching '$filter', $cases cases each" >&2
start=$SECONDS
PROPTEST_CASES="$cases" cargo test "${test_args[@]}" "$filter"
echo "[fuzz] $cases cases per test: $((SECONDS - start))s" >&2
