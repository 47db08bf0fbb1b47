#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): install the test peers, then
# rustfmt (and shellcheck, when installed), clippy, the test suite once per
# feature set against real peers (O11Y_REQUIRE_PEERS=1: a test whose peer is
# missing fails), and rustdoc.
#
#   scripts/test.sh                 every step
#   scripts/test.sh test doc        only some steps: peers fmt clippy quickstart test doc
#
# Runs from any directory. Stops at the first failure, non-zero exit.
set -euo pipefail

# `cargo test --workspace` runs once per entry, each its own run (never
# --all-features): "" is the default feature set. Add sets here (e.g. an
# "all integrations" set) as the crate grows.
TEST_FEATURE_SETS=(
  ""
  "profile-dev"
  "profile-prod"
  "profile-test"
  "off"
  "axum reqwest"
)
# clippy runs once per entry (default features, everything compiled out, and
# the integrations).
CLIPPY_FEATURE_SETS=(
  ""
  "off"
  "axum reqwest"
)
ALL_STEPS=(peers fmt clippy quickstart test doc)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=("${ALL_STEPS[@]}")
for s in "${steps[@]}"; do
  case " ${ALL_STEPS[*]} " in
    *" $s "*) ;;
    *)
      echo "unknown step '$s' (steps: ${ALL_STEPS[*]})" >&2
      exit 2
      ;;
  esac
done

total_start=$SECONDS

# run_step NAME CMD...: a header, the command, its elapsed time; exit on failure.
run_step() {
  local name="$1" start=$SECONDS rc=0
  shift
  printf '\n==== %s\n' "$name"
  printf '+ %s\n' "$*"
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '==== FAILED: %s (exit %s, %ss; total %ss)\n' "$name" "$rc" "$((SECONDS - start))" "$((SECONDS - total_start))"
    exit "$rc"
  fi
  printf '==== ok: %s (%ss)\n' "$name" "$((SECONDS - start))"
}

features_args() {
  # Print one argument per line: nothing for the default set.
  [ -z "$1" ] || printf '%s\n' --features "$1"
}

ensure_components() {
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "rustup component add ${missing[*]}"
    rustup component add "${missing[@]}"
  fi
}

# The fmt step lints the scripts with ShellCheck (a Debian package).
ensure_shellcheck() {
  command -v shellcheck >/dev/null 2>&1 && return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
}

want() {
  case " ${steps[*]} " in *" $1 "*) return 0 ;; esac
  return 1
}

if want peers; then
  run_step "install peers" bash scripts/peers/install-all.sh
  run_step "rust components" ensure_components
  run_step "shellcheck" ensure_shellcheck
fi

if want fmt; then
  run_step "cargo fmt --check" cargo fmt --all -- --check
  # The benchmark servers are a workspace of their own (never built here).
  run_step "cargo fmt --check (benches/http)" cargo fmt --manifest-path benches/http/Cargo.toml -- --check
  run_step "shellcheck" shellcheck -x scripts/test.sh scripts/bench-http.sh scripts/peers/*.sh .ci/run
fi

if want clippy; then
  for set in "${CLIPPY_FEATURE_SETS[@]}"; do
    mapfile -t fa < <(features_args "$set")
    run_step "cargo clippy (${set:-default features})" \
      cargo clippy --workspace --all-targets "${fa[@]}" -- -D warnings
  done
fi

if want quickstart; then
  # The README's main command, as a newcomer runs it: no server, exit 0.
  run_step "cargo run --example quickstart" cargo run --quiet --example quickstart
fi

if want test; then
  export O11Y_REQUIRE_PEERS=1
  for set in "${TEST_FEATURE_SETS[@]}"; do
    mapfile -t fa < <(features_args "$set")
    run_step "cargo test (${set:-default features})" cargo test --workspace "${fa[@]}"
  done
fi

if want doc; then
  run_step "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
  # The integrations' documentation (and its links) exists only with them.
  run_step "cargo doc (axum reqwest)" env RUSTDOCFLAGS="-D warnings" \
    cargo doc --workspace --no-deps --features "axum reqwest"
fi

printf '\n==== all steps passed (%s) in %ss\n' "${steps[*]}" "$((SECONDS - total_start))"
