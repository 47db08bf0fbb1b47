#!/usr/bin/env bash
# HTTP overhead benchmark (issue 5): five servers of one route,
# GET /orders/{id} answering a small JSON object (benches/http/):
#   bare      axum alone
#   o11y      o11y::init(), o11y::http::layer(), the metrics route, an #[observe] handler
#   standard  tower-http TraceLayer + tracing-subscriber JSON lines through
#             tracing-appender (non-blocking file writer) + tracing-opentelemetry
#             (OTLP gRPC batch exporter) + axum-prometheus, an #[instrument] handler
#   floor     bare axum plus the two spans o11y keeps per request, under a bare
#             tracing-subscriber Registry with no layer (prod configuration only):
#             what a request context made of `tracing` spans costs by itself
#   required  the floor plus the rest of what the prod configuration requires
#             (request id in both headers, ids and a 1% decision, the duration
#             histogram and in-flight gauge, one JSON access-log line on stdout),
#             hand-written for this one route with no library (prod only): how
#             fast the required work can be, to read o11y's ratio against
# and, in the prod configuration only, o11y once more as "o11y-quiet", with
# O11Y_HTTP_ACCESS_LOG=false: what the access-log line costs; and as
# "o11y-unredacted", with O11Y_REDACTION_ENABLED=false: what redaction costs
# (bar: o11y/o11y-unredacted >= 0.97).
# in three configurations:
#   prod  JSON access log to a file, 1% sampling, metrics on, no tail rules
#                                                                 bar: o11y/bare >= 0.85
#   full  the same with 100% sampling, spans exported to rotel    bar: o11y/bare >= 0.65,
#         and no span lost (exported vs received by rotel)
#   prod-tail  prod with tail rules on (keep_errors, keep_slower_than 20ms), where
#         1 request in 100 answers 500 and 1 in 100 sleeps 25 ms first (every
#         server, BENCH_FAULT_EVERY=100): bare, floor, required, o11y, and
#         "o11y-headonly" (the same workload with the tail rules off). Its line
#         reports, from what rotel received, that every failed and every slow
#         request's trace arrived whole (both spans) and how many head-sampled
#         ones came along. Bars: o11y/required >= 0.90, o11y/o11y-headonly >= 0.95.
# Both export to one rotel collector (counting spans by service.name).
#
# The server runs on core 0 (taskset -c 0), wrk and rotel on core 1
# (taskset -c 1 wrk -t1 -cC -dD --latency), after a warm-up run; the
# servers alternate, ROUNDS times per configuration; the summary gives
# medians over the rounds. Server CPU per request comes from /proc (user +
# system time of the whole server process, its export threads included;
# user time alone too, the steadier half on a shared VM). Each run's log
# file is counted (lines per request) and deleted when its server stops.
#
#   bash scripts/bench-http.sh [--rounds N] [--duration 10s] [--connections 32] [--warmup 2s]
#   bash scripts/bench-http.sh --redaction-only [...]   # o11y and o11y-unredacted alone,
#                                                       # prod, alternating: the redaction bar
#
# Installs wrk (Debian) and rotel (scripts/peers/rotel.sh) when missing,
# builds benches/http in release mode into target/bench-http (under
# $CARGO_TARGET_DIR when set). Needs 2 cores.
set -euo pipefail

ROUNDS=3
DURATION=10s
CONNECTIONS=32
WARMUP=2s
REDACTION_ONLY=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --redaction-only) REDACTION_ONLY=1; shift ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    -h | --help) sed -n '2,51p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$ROUNDS" -ge 1 ] 2>/dev/null || { echo "--rounds must be a positive number" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '[bench-http] %s\n' "$*" >&2; }

if [ "$(nproc)" -lt 2 ]; then
  say "needs 2 cores (server on one, wrk on the other); this machine has $(nproc)"
  exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends wrk >/dev/null
fi
bash scripts/peers/rotel.sh install >&2
peers_dir="${O11Y_PEERS_DIR:-${HOME:-/root}/.cache/o11y-peers}"
agent="$peers_dir/bin/rotel-agent"

say "building the servers (release)"
target="${CARGO_TARGET_DIR:-$root/target}/bench-http"
cargo build --quiet --release --manifest-path benches/http/Cargo.toml --target-dir "$target"
bin="$target/release"

work="$(mktemp -d "${TMPDIR:-/tmp}/o11y-bench-http.XXXXXX")"
server_pid=""
rotel_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ -n "$rotel_pid" ]; then kill "$rotel_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  local port="$1" pid="$2"
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# Clock ticks (user + system) the process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Clock ticks of user time alone: steadier than the system time of a
# loopback benchmark on a shared VM.
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }
# Clock ticks the process's thread named NAME has used (0 without one).
thread_ticks() {
  local task
  for task in /proc/"$1"/task/*; do
    if [ "$(cat "$task/comm" 2>/dev/null)" = "$2" ]; then
      awk '{print $14 + $15}' "$task/stat"
      return
    fi
  done
  echo 0
}

grpc_port="$(free_port)"
http_port="$(free_port)"
counts="$work/rotel-counts.json"
echo '{}' >"$counts"
say "starting rotel on 127.0.0.1:$grpc_port (core 1)"
O11Y_BENCH_COUNTS="$counts" NO_COLOR=1 taskset -c 1 "$agent" start \
  --otlp-grpc-endpoint "127.0.0.1:$grpc_port" \
  --otlp-http-endpoint "127.0.0.1:$http_port" \
  --exporter blackhole \
  --otlp-with-trace-processor "$root/benches/http/rotel_count.py" \
  </dev/null >"$work/rotel.log" 2>&1 &
rotel_pid=$!
wait_port "$grpc_port" "$rotel_pid" || { cat "$work/rotel.log" >&2; say "rotel did not start"; exit 1; }

received() { # received SERVICE: spans rotel counted for it
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$counts" "$1"
}
# Waits until rotel's count for SERVICE stops moving (2 s unchanged, 30 s at most).
settle() {
  local service="$1" last=-1 now same=0
  for _ in $(seq 1 120); do
    now="$(received "$service")"
    if [ "$now" = "$last" ]; then
      same=$((same + 1))
      [ "$same" -ge 8 ] && break
    else
      same=0
    fi
    last="$now"
    sleep 0.25
  done
  echo "$last"
}

results="$work/results.tsv"
printf 'config\tround\tserver\trps\tp99_ms\tcpu_us\trequests\terrors\tserved\texported\tdropped\treceived\texport_us\tlog_lines\tuser_us\tfailed\tslow\n' >"$results"

# run CONFIG ROUND SERVER: one measured wrk run against one server.
run() {
  local config="$1" round="$2" server="$3" rate port service out err
  case "$config" in prod | prod-tail) rate=0.01 ;; full) rate=1.0 ;; esac
  port="$(free_port)"
  service="bench-$server-$config-$round"
  out="$work/$service.out"
  err="$work/$service.err"
  local env=(BENCH_ADDR="127.0.0.1:$port" OTEL_SERVICE_NAME="$service"
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$grpc_port")
  case "$server" in
    o11y*) env+=(O11Y_PROFILE=prod O11Y_TRACING_SAMPLE_RATE="$rate" O11Y_LOGGING_LEVEL=info O11Y_SHUTDOWN_TIMEOUT=30s) ;;
    standard) env+=(BENCH_SAMPLE_RATE="$rate" BENCH_LOG_FILE="$work/$service.log") ;;
  esac
  # Tail rules only where the configuration says (prod has them by default).
  case "$config/$server" in
    prod-tail/o11y) env+=(O11Y_TRACING_KEEP_ERRORS=true O11Y_TRACING_KEEP_SLOWER_THAN=20ms) ;;
    */o11y*) env+=(O11Y_TRACING_KEEP_ERRORS=false O11Y_TRACING_KEEP_SLOWER_THAN=off) ;;
  esac
  if [ "$config" = prod-tail ]; then env+=(BENCH_FAULT_EVERY=100 BENCH_SLOW_MS=25); fi
  if [ "$server" = o11y-quiet ]; then env+=(O11Y_HTTP_ACCESS_LOG=false); fi
  if [ "$server" = o11y-unredacted ]; then env+=(O11Y_REDACTION_ENABLED=false); fi
  # o11y writes its JSON lines to stdout: the access log file is where it goes.
  # o11y-quiet, o11y-unredacted and o11y-headonly are the o11y server.
  env "${env[@]}" taskset -c 0 "$bin/${server%%-*}" >"$out" 2>"$err" &
  server_pid=$!
  if ! wait_port "$port" "$server_pid"; then
    cat "$err" >&2
    say "$server did not start"
    exit 1
  fi
  local url="http://127.0.0.1:$port/orders/42"
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
  local before after user_before user_after report export_before export_after
  before="$(cpu_ticks "$server_pid")"
  user_before="$(user_ticks "$server_pid")"
  export_before="$(thread_ticks "$server_pid" o11y-export)"
  report="$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$url")"
  after="$(cpu_ticks "$server_pid")"
  user_after="$(user_ticks "$server_pid")"
  export_after="$(thread_ticks "$server_pid" o11y-export)"
  echo "$report" >"$work/$service.wrk"
  kill -TERM "$server_pid"
  wait "$server_pid" || { cat "$err" >&2; say "$server exited with an error"; exit 1; }
  server_pid=""
  # The log lines are counted, then deleted: the kernel drops the dirty
  # pages of a deleted file, where it would otherwise write them back some
  # 30 s later (vm.dirty_expire_centisecs), during another server's run.
  local log="$out" log_lines=0
  if [ "$server" = standard ]; then log="$work/$service.log"; fi
  if [ -f "$log" ]; then log_lines="$(wc -l <"$log")"; fi
  rm -f "$out" "$work/$service.log"
  local got=0
  case "$server" in o11y* | standard) got="$(settle "$service")" ;; esac
  python3 - "$report" "$before" "$after" "$(getconf CLK_TCK)" "$(cat "$err")" "$got" \
    "$config" "$round" "$server" "$((export_after - export_before))" "$log_lines" \
    "$((user_after - user_before))" >>"$results" <<'PY'
import re, sys
report, before, after, hz, err, got, config, rnd, server, export_ticks, log_lines, user_ticks = sys.argv[1:]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
total = int(re.search(r"(\d+) requests in", report).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", report, re.M)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
errors = 0
for pat in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"):
    for g in (re.search(pat, report).groups() if re.search(pat, report) else ()):
        errors += int(g)
cpu_us = (int(after) - int(before)) / int(hz) * 1e6 / max(total, 1)
def stat(name):
    m = re.search(r"bench-server: .*\b%s=(\d+)" % name, err)
    return m.group(1) if m else ""
# The export thread's CPU per request (both of its spans) while wrk ran.
export_us = int(export_ticks) / int(hz) * 1e6 / max(total, 1)
print("\t".join(str(v) for v in (config, rnd, server, rps, p99, round(cpu_us, 2), total, errors,
                                  stat("requests"), stat("spans_exported"), stat("spans_dropped"),
                                  got if server != "bare" else "", round(export_us, 2), log_lines,
                                  round(int(user_ticks) / int(hz) * 1e6 / max(total, 1), 2),
                                  stat("failed"), stat("slow"))))
PY
  tail -n1 "$results" | awk -F'\t' '{printf "[bench-http] %-4s round %-2s %-10s %9.0f req/s  p99 %6.2f ms  cpu %6.1f us/req  log lines/request %.2f\n", $1, $2, $3, $4, $5, $6, ($9 > 0 ? $14 / $9 : 0)}' >&2
}

say "wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, warm-up $WARMUP; work dir $work"
for round in $(seq 1 "$ROUNDS"); do
  if [ "$REDACTION_ONLY" = 1 ]; then
    run prod "$round" o11y
    run prod "$round" o11y-unredacted
    continue
  fi
  for config in prod full prod-tail; do
    servers="bare o11y standard"
    if [ "$config" = prod ]; then servers="$servers floor required o11y-quiet o11y-unredacted"; fi
    if [ "$config" = prod-tail ]; then servers="bare floor required o11y o11y-headonly"; fi
    for server in $servers; do
      run "$config" "$round" "$server"
    done
  done
done

cp "$results" "$target/results.tsv"
cp "$counts" "$target/rotel-counts.json"
if [ "$REDACTION_ONLY" = 1 ]; then
  python3 - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = lambda server: {r["round"]: r for r in rows if r["server"] == server}
on, off = by("o11y"), by("o11y-unredacted")
ratios = [float(on[k]["rps"]) / float(off[k]["rps"]) for k in on if k in off]
cpu = [float(off[k]["cpu_us"]) / float(on[k]["cpu_us"]) for k in on if k in off]
user = [float(off[k]["user_us"]) / float(on[k]["user_us"]) for k in on if k in off]
med = statistics.median(ratios)
print(f"prod, redaction on / off, req/s per round: {', '.join(f'{r:.3f}' for r in ratios)}; median **{med:.3f}** "
      f"(bar >= 0.97: {'ok' if med >= 0.97 else 'MISSED'})")
print(f"server CPU per request, off / on, median: {statistics.median(cpu):.3f} (user time alone {statistics.median(user):.3f}); "
      f"req/s on {statistics.median(float(r['rps']) for r in on.values()):,.0f}, "
      f"off {statistics.median(float(r['rps']) for r in off.values()):,.0f}")
PY
  exit 0
fi
python3 - "$results" "$counts" <<'PY'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
traces = json.load(open(sys.argv[2])).get("traces", {})
def runs(config, server):
    return {r["round"]: r for r in rows if r["config"] == config and r["server"] == server}
def med(config, server, key):
    return statistics.median(float(r[key]) for r in runs(config, server).values())
def ratios(config, server, key, inverse=False):
    # Per round: the two ran minutes apart at most.
    bare, other = runs(config, "bare"), runs(config, server)
    return [(float(bare[k][key]) / float(other[k][key])) if inverse else
            (float(other[k][key]) / float(bare[k][key])) for k in bare if k in other]
def ratio(config, server, key, inverse=False):
    return statistics.median(ratios(config, server, key, inverse))
def spread(config, server):
    values = ratios(config, server, "rps")
    return f"{min(values):.2f}–{max(values):.2f}"
bars = {"prod": 0.85, "full": 0.65}
titles = {"prod": "prod: JSON access log to a file, 1% sampled, metrics on",
          "full": "full: 100% sampled, OTLP export to rotel"}
print()
print("ratio: o11y req/s / bare req/s, per round, median; cpu ratio: bare / o11y server CPU per request")
print("(what the req/s ratio is when the server core is not shared with anything else)")
print()
print("| configuration | bare req/s (p99) | o11y req/s (p99) | ratio | cpu ratio | standard req/s (p99) | standard ratio | standard cpu ratio | server CPU per request bare / o11y / standard |")
print("|---|---|---|---|---|---|---|---|---|")
ok = True
for config in ("prod", "full"):
    b, o, s = (med(config, x, "rps") for x in ("bare", "o11y", "standard"))
    bp, op, sp = (med(config, x, "p99_ms") for x in ("bare", "o11y", "standard"))
    bc, oc, sc = (med(config, x, "cpu_us") for x in ("bare", "o11y", "standard"))
    r, rc = ratio(config, "o11y", "rps"), ratio(config, "o11y", "cpu_us", inverse=True)
    sr, src = ratio(config, "standard", "rps"), ratio(config, "standard", "cpu_us", inverse=True)
    verdict = "ok" if r >= bars[config] else "MISSED"
    ok &= r >= bars[config]
    print(f"| {titles[config]} | {b:,.0f} ({bp:.2f} ms) | {o:,.0f} ({op:.2f} ms) | **{r:.2f}** (bar ≥ {bars[config]}: {verdict}) "
          f"| {rc:.2f} | {s:,.0f} ({sp:.2f} ms) | {sr:.2f} | {src:.2f} | {bc:.1f} / {oc:.1f} / {sc:.1f} µs |")
f, fc = med("prod", "floor", "rps"), med("prod", "floor", "cpu_us")
fr, frc = ratio("prod", "floor", "rps"), ratio("prod", "floor", "cpu_us", inverse=True)
print()
print(f"floor (prod): two `tracing` spans per request on a bare Registry, no layer: {f:,.0f} req/s, "
      f"ratio {fr:.2f}, cpu ratio {frc:.2f}, {fc:.1f} µs CPU per request")
h, hc = med("prod", "required", "rps"), med("prod", "required", "cpu_us")
hr, hrc = ratio("prod", "required", "rps"), ratio("prod", "required", "cpu_us", inverse=True)
print(f"required (prod): the floor plus the prod configuration's other required work, hand-written for "
      f"this route: {h:,.0f} req/s, ratio {hr:.2f}, cpu ratio {hrc:.2f}, {hc:.1f} µs CPU per request; "
      f"o11y serves {med('prod', 'o11y', 'rps') / h:.2f}× its requests/s")
q, qc = med("prod", "o11y-quiet", "rps"), med("prod", "o11y-quiet", "cpu_us")
qr, qrc = ratio("prod", "o11y-quiet", "rps"), ratio("prod", "o11y-quiet", "cpu_us", inverse=True)
print(f"o11y-quiet (prod): o11y with O11Y_HTTP_ACCESS_LOG=false: {q:,.0f} req/s, "
      f"ratio {qr:.2f}, cpu ratio {qrc:.2f}, {qc:.1f} µs CPU per request")
u, uc = med("prod", "o11y-unredacted", "rps"), med("prod", "o11y-unredacted", "cpu_us")
redacted = statistics.median(
    float(runs("prod", "o11y")[k]["rps"]) / float(r["rps"])
    for k, r in runs("prod", "o11y-unredacted").items() if k in runs("prod", "o11y"))
redaction_ok = redacted >= 0.97
ok &= redaction_ok
print(f"o11y-unredacted (prod): o11y with O11Y_REDACTION_ENABLED=false: {u:,.0f} req/s, {uc:.1f} µs CPU "
      f"per request; o11y (redaction on) / o11y-unredacted req/s per round, median: **{redacted:.3f}** "
      f"(bar ≥ 0.97: {'ok' if redaction_ok else 'MISSED'})")
print("user CPU per request, medians (prod): " + ", ".join(
    f"{server} {med('prod', server, 'user_us'):.1f} µs" for server in ("bare", "floor", "required", "o11y-quiet", "o11y-unredacted", "o11y")))
print(f"req/s ratio per round, lowest–highest: prod o11y {spread('prod', 'o11y')}, "
      f"floor {spread('prod', 'floor')}, required {spread('prod', 'required')}, "
      f"o11y-quiet {spread('prod', 'o11y-quiet')}, o11y-unredacted {spread('prod', 'o11y-unredacted')}; "
      f"full o11y {spread('full', 'o11y')}")
def log_lines(server):
    return statistics.median(int(r["log_lines"]) / max(int(r["served"] or 0), 1)
                             for r in runs("prod", server).values())
print(f"log lines per request served (prod): o11y {log_lines('o11y'):.2f}, "
      f"required {log_lines('required'):.2f}, "
      f"o11y-quiet {log_lines('o11y-quiet'):.2f}, standard {log_lines('standard'):.2f}")
print()
print("spans, 100% sampled (o11y: exported and dropped as it counts them, received by rotel;")
print("standard: expected = 2 per request served, received by rotel):")
lost_any = False
for r in rows:
    if r["config"] != "full" or r["server"] not in ("o11y", "standard"):
        continue
    served, received = int(r["served"] or 0), int(r["received"] or 0)
    expected = 2 * served  # the server span and the handler's span of every request
    lost = expected - received
    if r["server"] == "o11y":
        exported, dropped = int(r["exported"] or 0), int(r["dropped"] or 0)
        lost_any |= dropped > 0 or lost != 0
        print(f"  round {r['round']} o11y:     served {served}, spans expected {expected}, exported {exported}, "
              f"dropped {dropped}, received {received}, lost {lost} ({100 * lost / max(expected, 1):.1f}%); "
              f"export thread {float(r['export_us']) / 2:.2f} µs CPU per span")
    else:
        print(f"  round {r['round']} standard: served {served}, spans expected {expected}, received {received}, "
              f"lost {lost} ({100 * lost / max(expected, 1):.1f}%)")
print()
print("prod-tail: 1 request in 100 answers 500, 1 in 100 sleeps 25 ms; o11y with tail rules")
print("(keep_errors, keep_slower_than 20ms) at head rate 0.01, o11y-headonly the same without them")
def per_round(config, a, b):
    ra, rb = runs(config, a), runs(config, b)
    return [float(ra[k]["rps"]) / float(rb[k]["rps"]) for k in ra if k in rb]
tail_bars = (("required", 0.90), ("floor", None), ("o11y-headonly", 0.95), ("bare", None))
for other, bar in tail_bars:
    values = per_round("prod-tail", "o11y", other)
    mid = statistics.median(values)
    verdict = "" if bar is None else f" (bar ≥ {bar}: {'ok' if mid >= bar else 'MISSED'})"
    ok &= bar is None or mid >= bar
    print(f"  o11y / {other} req/s per round: {', '.join(f'{v:.3f}' for v in values)}; median **{mid:.3f}**{verdict}")
print("  req/s medians: " + ", ".join(
    f"{server} {med('prod-tail', server, 'rps'):,.0f}" for server in ("bare", "floor", "required", "o11y", "o11y-headonly")))
print("  server CPU per request, medians: " + ", ".join(
    f"{server} {med('prod-tail', server, 'cpu_us'):.1f} µs" for server in ("bare", "floor", "required", "o11y", "o11y-headonly")))
for r in rows:
    if r["config"] != "prod-tail" or r["server"] != "o11y":
        continue
    shapes = traces.get(f"bench-o11y-prod-tail-{r['round']}", {}).values()
    failed_sent, slow_sent = int(r["failed"] or 0), int(r["slow"] or 0)
    failed = [s for s in shapes if s[2]]
    slow = [s for s in shapes if not s[2] and s[3] is not None and s[3] >= 20]
    head = [s for s in shapes if s[1] == "head"]
    whole = lambda found: sum(1 for s in found if s[0] == 2)
    by_reason = lambda found, reason: sum(1 for s in found if s[1] == reason)
    # Kept traces may outnumber the requests made to fail or sleep: a
    # request slow by itself is kept too, and so is one wrk drops at the end
    # of its run (cancelled, an error; made to sleep, it counts as slow sent).
    arrived = len(failed) + len(slow) >= failed_sent + slow_sent
    all_whole = whole(failed) == len(failed) and whole(slow) == len(slow)
    ok &= arrived and all_whole
    print(f"  round {r['round']} o11y: failed requests {failed_sent}, their traces received {len(failed)} "
          f"({whole(failed)} whole; reason error {by_reason(failed, 'error')}, head {by_reason(failed, 'head')}); "
          f"slow requests {slow_sent}, traces received {len(slow)} ({whole(slow)} whole; reason slow "
          f"{by_reason(slow, 'slow')}, head {by_reason(slow, 'head')}); head-sampled traces {len(head)} "
          f"of {int(r['served'] or 0)} requests served; {'every one arrived whole' if arrived and all_whole else 'MISSING TRACES'}")
# prod-tail's 500s are its workload, not errors.
errors = sum(int(r["errors"]) for r in rows if r["config"] != "prod-tail")
if errors:
    print(f"\nwrk saw {errors} errors or non-2xx answers: see the work directory")
print("\nbars:", "met" if ok and not lost_any else "MISSED" + ("" if ok else " (ratio)") + (" (spans lost)" if lost_any else ""))
PY
