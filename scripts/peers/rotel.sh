#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rotel, a Rust OTLP collector (PyPI package `rotel`), as a test peer.
#
#   rotel.sh install                         venv + pip install rotel (idempotent)
#   rotel.sh installed                       exit 0 if installed, 1 if not
#   rotel.sh start WORKDIR GRPC_PORT HTTP_PORT
#   rotel.sh stop WORKDIR
#
# The agent is started in the foreground of a background job (no --daemon)
# with the blackhole exporter and rotel_processor.py (copied into WORKDIR) as
# trace, logs and metrics processor. The processor appends one JSON object per
# span / log record / metric data point to WORKDIR/spans.jsonl, logs.jsonl,
# metrics.jsonl (shapes: see rotel_processor.py). rotel batches before the
# processors run (--batch-timeout, default 200ms).
#
# Files in WORKDIR: rotel.pid, rotel.log, rotel_processor.py, *.jsonl,
# processor-errors.log (only if the processor raised).
#
# Environment: O11Y_PEERS_DIR (venv at $O11Y_PEERS_DIR/rotel-venv, agent link at
# $O11Y_PEERS_DIR/bin/rotel-agent), O11Y_ROTEL_VERSION (pip version, default
# 0.0.1a15), O11Y_ROTEL_BATCH_TIMEOUT (e.g. 50ms; rotel's default is 200ms),
# O11Y_ROTEL_PYTHON (python used to make the venv, default /usr/bin/python3).
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
PEER=rotel
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROTEL_VERSION="${O11Y_ROTEL_VERSION:-0.0.1a15}"
VENV="$O11Y_PEERS_DIR/rotel-venv"
AGENT_LINK="$O11Y_PEERS_DIR/bin/rotel-agent"

find_agent() {
  find "$VENV" -path '*/site-packages/rotel/rotel-agent' -type f 2>/dev/null | head -n1
}

is_installed() {
  [ -x "$AGENT_LINK" ] || return 1
  compgen -G "$VENV/lib/python3*/site-packages/rotel-${ROTEL_VERSION}.dist-info" >/dev/null || return 1
  "$AGENT_LINK" --version >/dev/null 2>&1
}

cmd_install() {
  if is_installed; then
    log "rotel $ROTEL_VERSION already installed ($("$AGENT_LINK" --version 2>/dev/null))"
    return 0
  fi
  # Debian's python3 + venv for pip; the agent itself links Debian's
  # libpython3.11.so and runs the processors on its standard library.
  apt_install python3 python3-venv libpython3.11
  local py="${O11Y_ROTEL_PYTHON:-/usr/bin/python3}"
  [ -x "$py" ] || py="$(command -v python3)" || die "no python3 found"
  rm -rf "$VENV" "$AGENT_LINK"
  mkdir -p "$O11Y_PEERS_DIR/bin"
  log "creating venv $VENV (with $py)"
  "$py" -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
  log "pip install rotel==$ROTEL_VERSION"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "rotel==$ROTEL_VERSION" \
    || die "pip install rotel==$ROTEL_VERSION failed"
  local agent
  agent="$(find_agent)"
  [ -n "$agent" ] || die "rotel-agent binary not found in $VENV after pip install"
  if ! "$agent" --help >/dev/null 2>"$O11Y_PEERS_DIR/rotel-check.log"; then
    cat "$O11Y_PEERS_DIR/rotel-check.log" >&2
    die "rotel-agent --help failed (missing libpython3.11?)"
  fi
  ln -sfn "$agent" "$AGENT_LINK"
  log "installed $("$AGENT_LINK" --version) at $AGENT_LINK"
}

cmd_start() {
  [ "$#" -eq 3 ] || usage_exit "rotel.sh start WORKDIR GRPC_PORT HTTP_PORT"
  local workdir grpc_port="$2" http_port="$3"
  check_port_arg "$grpc_port"
  check_port_arg "$http_port"
  [ -x "$AGENT_LINK" ] || die "rotel is not installed: run scripts/peers/rotel.sh install"
  workdir="$(prepare_workdir "$1")"
  require_not_running "$workdir"
  local pidfile="$workdir/rotel.pid" logfile="$workdir/rotel.log"
  require_port_free "$grpc_port"
  require_port_free "$http_port"
  local proc="$workdir/rotel_processor.py"
  cp "$PEERS_SCRIPT_DIR/rotel_processor.py" "$proc"
  : >"$workdir/spans.jsonl"
  : >"$workdir/logs.jsonl"
  : >"$workdir/metrics.jsonl"
  local extra=()
  if [ -n "${O11Y_ROTEL_BATCH_TIMEOUT:-}" ]; then
    extra+=(--batch-timeout "$O11Y_ROTEL_BATCH_TIMEOUT")
  fi
  # Keep a caller's ROTEL_* settings from changing the peer behind our back.
  local v
  for v in $(compgen -e | grep '^ROTEL_' || true); do unset "$v"; done
  log "starting rotel on grpc 127.0.0.1:$grpc_port, http 127.0.0.1:$http_port (workdir $workdir)"
  NO_COLOR=1 O11Y_ROTEL_OUT_DIR="$workdir" "$AGENT_LINK" start \
    --otlp-grpc-endpoint "127.0.0.1:$grpc_port" \
    --otlp-http-endpoint "127.0.0.1:$http_port" \
    --exporter blackhole \
    --otlp-with-trace-processor "$proc" \
    --otlp-with-logs-processor "$proc" \
    --otlp-with-metrics-processor "$proc" \
    "${extra[@]}" \
    </dev/null >"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  begin_start "$workdir" "$SELF"
  wait_for_port "$grpc_port" "$PEER_START_TIMEOUT" "$pid" "$logfile"
  wait_for_port "$http_port" "$PEER_START_TIMEOUT" "$pid" "$logfile"
  # rotel has no readiness endpoint; an empty OTLP/JSON export must get a 200.
  wait_for_otlp_http "$http_port" "$pid" "$logfile"
  log "rotel ready (pid $pid)"
}

# POST an empty ExportTraceServiceRequest until the HTTP receiver answers 200.
wait_for_otlp_http() {
  local port="$1" pid="$2" logfile="$3" deadline=$((SECONDS + PEER_START_TIMEOUT)) code=""
  while :; do
    code="$(
      (
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
        printf 'POST /v1/traces HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"resourceSpans":[]}' >&3
        line=""
        IFS= read -r -t 5 line <&3 || true
        line="${line%$'\r'}"
        # shellcheck disable=SC2086
        set -- $line
        if [ "$#" -ge 2 ]; then printf '%s' "$2"; fi
      ) 2>/dev/null || true
    )"
    [ "$code" = 200 ] && return 0
    pid_alive "$pid" || {
      log_tail "$logfile"
      die "rotel exited during start"
    }
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$logfile"
      die "timed out waiting for rotel's OTLP/HTTP receiver (last status: ${code:-none})"
    fi
    sleep 0.1
  done
}

cmd_stop() {
  [ "$#" -eq 1 ] || usage_exit "rotel.sh stop WORKDIR"
  stop_by_pidfile "$1" "$1/rotel.pid" rotel
}

peer_main "rotel.sh install|installed|start WORKDIR GRPC_PORT HTTP_PORT|stop WORKDIR" "$@"
