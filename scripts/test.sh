#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): install the test peers, then
# rustfmt (and shellcheck, when installed), clippy, packaging of the
# published crates, the test suite once per feature set against real peers
# (O11Y_REQUIRE_PEERS=1: a test whose peer is missing fails), and rustdoc.
#
#   scripts/test.sh                 every step
#   scripts/test.sh test doc        only some steps: peers fmt clippy package quickstart test doc
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
  # The integrations together: one more build of every test binary, not one
  # per integration (clippy checks each alone below).
  "axum reqwest sqlx tls sentry"
)
# clippy runs once per entry (default features, everything compiled out, and
# each integration on its own, so that no cfg combination breaks).
CLIPPY_FEATURE_SETS=(
  ""
  "off"
  "axum"
  "sqlx"
  "reqwest"
  "tls"
  "sentry"
)
ALL_STEPS=(peers fmt clippy package quickstart test doc)
# The examples package turns on the integrations it shows (axum, sqlx):
# inside a feature-set run, cargo would unify them into the facade, so the
# sets exclude it and it gets runs of its own.
EXAMPLES=o11y-examples

# Disk, not time, is what a CI machine runs out of: six feature sets of test
# binaries plus trybuild's own target dir. Incremental caches only pay off on
# rebuilds of the same crate, and line tables keep backtraces readable at a
# fraction of full debug info (trybuild's builds inherit both variables).
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=line-tables-only

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
# A full run peaks at about 8 GB under target/: say what the disk has, so a
# "No space left on device" later is not a mystery.
df -h "$root" | awk 'NR == 2 { printf "disk: %s free of %s at %s\n", $4, $2, $6 }'

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

# What an earlier `cargo publish --dry-run` left: the tarballs' builds and
# their extracted sources (local registries are the `-<hash>` directories).
forget_packages() {
  rm -rf target/package target/publish-check
  local src
  for src in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/; do
    [ -d "$src" ] && rm -rf "$src"o11y-*
  done
  return 0
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
  run_step "shellcheck" shellcheck -x scripts/test.sh scripts/fuzz.sh scripts/bench-http.sh scripts/bench-overhead.sh \
    scripts/bench-compile.sh scripts/peers/*.sh .ci/run
  # The runtime's modules refer only to lower layers (the table in its
  # crate doc); also part of every `cargo test` below, run here first
  # because it fails in a second, naming the file, line and arrow.
  run_step "runtime layering" cargo test --quiet -p o11y-runtime --test layers
fi

if want clippy; then
  for set in "${CLIPPY_FEATURE_SETS[@]}"; do
    mapfile -t fa < <(features_args "$set")
    run_step "cargo clippy (${set:-default features})" \
      cargo clippy --workspace --exclude "$EXAMPLES" --all-targets "${fa[@]}" -- -D warnings
  done
  run_step "cargo clippy ($EXAMPLES)" cargo clippy -p "$EXAMPLES" --all-targets -- -D warnings
fi

if want package; then
  # Each published crate as crates.io would get it (o11y-naming, o11y-macros,
  # o11y-runtime, o11y): packaged together, each tarball built on its own
  # against the others' tarballs, nothing uploaded. `cargo publish
  # --workspace --dry-run`, not `cargo package --workspace`: the latter also
  # packages the `publish = false` members (examples, fixtures) and fails on
  # their path-only dependencies. --allow-dirty: what is checked is the tree
  # being tested, committed or not. The builds are plain `cargo build`s of
  # the libraries (about 2 CPU-minutes from cold), in a target directory of
  # their own. Our crates are served to each other as registry crates of
  # one version, which cargo neither re-extracts
  # (CARGO_HOME/registry/src/-<hash>/) nor rebuilds: both go first, or a
  # second run checks the first run's code.
  run_step "forget earlier packages" forget_packages
  run_step "cargo publish --dry-run" \
    env CARGO_TARGET_DIR=target/publish-check cargo publish --workspace --dry-run --allow-dirty
fi

if want quickstart; then
  # The README's main command, as a newcomer runs it (no server needed),
  # touring its own routes instead of serving until Ctrl-C.
  run_step "cargo run --example quickstart -- --demo-traffic" \
    cargo run --quiet --example quickstart -- --demo-traffic
fi

if want test; then
  export O11Y_REQUIRE_PEERS=1
  for set in "${TEST_FEATURE_SETS[@]}"; do
    mapfile -t fa < <(features_args "$set")
    run_step "cargo test (${set:-default features})" \
      cargo test --workspace --exclude "$EXAMPLES" "${fa[@]}"
  done
  run_step "cargo test ($EXAMPLES)" cargo test -p "$EXAMPLES"
fi

if want doc; then
  run_step "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
  # The integrations' documentation (and its links) exists only with them.
  run_step "cargo doc (axum reqwest sqlx tls)" env RUSTDOCFLAGS="-D warnings" \
    cargo doc --workspace --no-deps --features "axum reqwest sqlx tls sentry"
fi

printf '\n==== all steps passed (%s) in %ss\n' "${steps[*]}" "$((SECONDS - total_start))"
