#!/usr/bin/env bash
# What the attributes cost at compile time, which users pay on every edit.
#
# Generates five crates in a temporary directory, each the same 300
# functions over 10 files (152 sync, 148 `async`, 1–3 `u64` arguments,
# `Result<u64, String>` with an early `return Err`), each file ending in a
# function that calls all of its functions (the async ones polled once), so
# that every body is compiled in both profiles:
#
#   plain      no attribute
#   o11y       #[o11y::observe]                (this workspace's o11y, by path)
#   o11y-off   #[o11y::observe], feature `off`
#   tracing    #[tracing::instrument(skip_all)] (crates.io)
#   fastrace   #[fastrace::trace]              (crates.io, feature `enable`:
#              without it the attribute returns the item as written)
#
# Each crate is built once, then, for N interleaved rounds, all its .rs
# files are touched and the rebuild (only that crate) is timed. Prints each
# crate's median rebuild time and its ratio to `plain`, per profile.
# Rebuilds are not incremental (CARGO_INCREMENTAL=0): a touch leaves every
# file's text as it was, so incremental compilation would replay its cache
# and hide what the expansion costs; this measures the whole crate built
# again. The generated crates share one target directory per profile, so
# their dependencies are built once.
#
#   bash scripts/bench-compile.sh [--rounds N] [--profiles debug|release|both]
#                                 [--target-dir DIR] [--keep]
#
# --rounds N        timed rebuilds of each crate per profile (default 3)
# --profiles        which profiles to time (default both)
# --target-dir DIR  build there (DIR/debug, DIR/release) instead of in the
#                   temporary directory: a second run reuses the dependencies
# --keep            leave the generated crates (the directory is printed)
#
# The machine should be otherwise idle: on a shared one, compare ratios of
# the same run, not seconds across runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

rounds=3
profiles=both
keep=false
target_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:-}"; shift 2 ;;
    --profiles) profiles="${2:-}"; shift 2 ;;
    --target-dir) target_dir="${2:-}"; shift 2 ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$rounds" -ge 1 ] 2>/dev/null || { echo "--rounds must be a positive number" >&2; exit 2; }
case "$profiles" in
  debug) profile_list=(debug) ;;
  release) profile_list=(release) ;;
  both) profile_list=(debug release) ;;
  *) echo "--profiles is debug, release or both" >&2; exit 2 ;;
esac

crates=(plain o11y o11y-off tracing fastrace)
files=10
per_file=30

work="$(mktemp -d "${TMPDIR:-/tmp}/o11y-bench-compile.XXXXXX")"
cleanup() {
  if [ "$keep" = true ]; then
    echo "[bench-compile] kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
[ -n "$target_dir" ] || target_dir="$work/target"
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd)"

# The attribute and the dependency line of each crate.
attribute() {
  case "$1" in
    plain) ;;
    o11y | o11y-off) echo "#[o11y::observe]" ;;
    tracing) echo "#[tracing::instrument(skip_all)]" ;;
    fastrace) echo "#[fastrace::trace]" ;;
  esac
}
dependency() {
  case "$1" in
    plain) ;;
    o11y) echo "o11y = { path = \"$root\" }" ;;
    o11y-off) echo "o11y = { path = \"$root\", features = [\"off\"] }" ;;
    tracing) echo 'tracing = "0.1"' ;;
    fastrace) echo 'fastrace = { version = "0.7", features = ["enable"] }' ;;
  esac
}

# One file of functions: function i is async when odd and below 296 (148
# of them), sync otherwise (152); it takes 1 + i % 3 arguments.
generate_file() {
  local crate="$1" file="$2" attr i n args call_args sum async await
  attr="$(attribute "$crate")"
  echo "use core::task::Poll;"
  echo
  for ((n = 0; n < per_file; n++)); do
    i=$((file * per_file + n))
    case $((i % 3)) in
      0) args="a: u64"; sum="a" ;;
      1) args="a: u64, b: u64"; sum="a.wrapping_add(b)" ;;
      *) args="a: u64, b: u64, c: u64"; sum="a.wrapping_add(b).wrapping_mul(c)" ;;
    esac
    if ((i % 2 == 1 && i < 296)); then async="async "; else async=""; fi
    [ -n "$attr" ] && echo "$attr"
    cat <<EOF
pub ${async}fn f${i}(${args}) -> Result<u64, String> {
    if a == ${i} {
        return Err(format!("f${i} refused {a}"));
    }
    Ok(${sum}.wrapping_add(${i}))
}

EOF
  done
  echo "pub fn call_all(x: u64) -> u64 {"
  echo "    let mut total = 0_u64;"
  for ((n = 0; n < per_file; n++)); do
    i=$((file * per_file + n))
    case $((i % 3)) in
      0) call_args="x" ;;
      1) call_args="x, 1" ;;
      *) call_args="x, 1, 2" ;;
    esac
    if ((i % 2 == 1 && i < 296)); then
      await="if let Poll::Ready(Ok(v)) = crate::poll_once(f${i}(${call_args})) { total = total.wrapping_add(v); }"
    else
      await="if let Ok(v) = f${i}(${call_args}) { total = total.wrapping_add(v); }"
    fi
    echo "    ${await}"
  done
  echo "    total"
  echo "}"
}

generate_crate() {
  local crate="$1" dir="$work/$1" file dep
  mkdir -p "$dir/src"
  dep="$(dependency "$crate")"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "bench-compile-${crate}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
${dep}

[workspace]
EOF
  # The workspace's versions of what the crates share (resolved offline).
  cp "$root/Cargo.lock" "$dir/Cargo.lock"
  {
    for ((file = 0; file < files; file++)); do echo "pub mod m${file};"; done
    cat <<'EOF'

/// Polls a future once with a waker that does nothing.
pub fn poll_once<F: core::future::Future>(future: F) -> core::task::Poll<F::Output> {
    let mut future = core::pin::pin!(future);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    future.as_mut().poll(&mut cx)
}

pub fn call_all(x: u64) -> u64 {
    let mut total = 0_u64;
EOF
    for ((file = 0; file < files; file++)); do
      echo "    total = total.wrapping_add(m${file}::call_all(x));"
    done
    echo "    total"
    echo "}"
  } >"$dir/src/lib.rs"
  for ((file = 0; file < files; file++)); do
    generate_file "$crate" "$file" >"$dir/src/m${file}.rs"
  done
}

cargo_build() {
  local crate="$1" profile="$2" flags=()
  [ "$profile" = release ] && flags=(--release)
  CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$target_dir/$profile" \
    cargo build -q "${flags[@]}" --manifest-path "$work/$crate/Cargo.toml"
}

now() { date +%s.%N; }

echo "[bench-compile] generating ${crates[*]} in $work" >&2
for crate in "${crates[@]}"; do generate_crate "$crate"; done

for profile in "${profile_list[@]}"; do
  for crate in "${crates[@]}"; do
    echo "[bench-compile] first $profile build of $crate (dependencies)" >&2
    cargo_build "$crate" "$profile"
  done
done

# times/<profile>/<crate>: one rebuild time a line.
mkdir -p "$work/times"
for round in $(seq 1 "$rounds"); do
  for profile in "${profile_list[@]}"; do
    mkdir -p "$work/times/$profile"
    for crate in "${crates[@]}"; do
      touch "$work/$crate"/src/*.rs
      start="$(now)"
      cargo_build "$crate" "$profile"
      end="$(now)"
      elapsed="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')"
      echo "$elapsed" >>"$work/times/$profile/$crate"
      echo "[bench-compile] round $round/$rounds $profile $crate: ${elapsed} s" >&2
    done
  done
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
echo "touch-rebuild of 300 functions, median of $rounds round(s), CARGO_INCREMENTAL=0"
printf "%-10s %10s %7s %11s %7s\n" crate "debug s" ratio "release s" ratio
for crate in "${crates[@]}"; do
  row=("$crate")
  for profile in debug release; do
    if [ -f "$work/times/$profile/$crate" ]; then
      value="$(median "$work/times/$profile/$crate")"
      base="$(median "$work/times/$profile/plain")"
      ratio="$(awk -v v="$value" -v b="$base" 'BEGIN { printf "%.1fx", v / b }')"
      row+=("$value" "$ratio")
    else
      row+=("-" "-")
    fi
  done
  printf "%-10s %10s %7s %11s %7s\n" "${row[@]}"
done
