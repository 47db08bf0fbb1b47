#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Headless Chromium driven over WebDriver (Debian packages `chromium` and
# `chromium-driver`) as a test peer: the dev console's browser test.
#
#   chromium.sh install                    apt-get install chromium chromium-driver (idempotent)
#   chromium.sh installed                  exit 0 if both are installed, 1 if not
#   chromium.sh start WORKDIR PORT         chromedriver on 127.0.0.1:PORT
#   chromium.sh stop WORKDIR
#
# chromedriver starts a headless Chromium per WebDriver session (the test
# asks for --headless); it only accepts local clients. Ready when GET
# /status answers 200. URL: http://127.0.0.1:PORT
#
# Files in WORKDIR: chromium.pid, chromedriver.log.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
PEER=chromium
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHROMIUM_BIN="${O11Y_CHROMIUM_BIN:-/usr/bin/chromium}"
CHROMEDRIVER_BIN="${O11Y_CHROMEDRIVER_BIN:-/usr/bin/chromedriver}"

is_installed() {
  [ -x "$CHROMIUM_BIN" ] && [ -x "$CHROMEDRIVER_BIN" ]
}

cmd_install() {
  if is_installed; then
    log "chromium already installed ($("$CHROMEDRIVER_BIN" --version | head -n1))"
    return 0
  fi
  apt_install chromium chromium-driver
  is_installed || die "chromium or chromedriver still missing after apt-get install"
  log "installed $("$CHROMEDRIVER_BIN" --version | head -n1)"
}

# driver_status PORT: the HTTP status of GET /status (chromedriver refuses
# HTTP/1.0, which common.sh's http_status speaks).
driver_status() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'GET /status HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$1" >&3
    line=""
    IFS= read -r -t 5 line <&3 || true
    line="${line%$'\r'}"
    # shellcheck disable=SC2086 # split "HTTP/1.1 200 OK" into words
    set -- $line
    if [ "$#" -ge 2 ]; then printf '%s\n' "$2"; fi
    exit 0
  ) 2>/dev/null || true
}

cmd_start() {
  [ "$#" -eq 2 ] || usage_exit "chromium.sh start WORKDIR PORT"
  local workdir port="$2"
  workdir="$(start_checks chromedriver "$1" "$port")"
  local pidfile="$workdir/chromium.pid" logfile="$workdir/chromedriver.log"
  log "starting chromedriver on 127.0.0.1:$port (workdir $workdir)"
  (
    cd "$workdir"
    exec "$CHROMEDRIVER_BIN" --port="$port" --allowed-ips=127.0.0.1 \
      --log-path="$logfile"
  ) </dev/null >"$workdir/chromedriver.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  begin_start "$workdir" "$SELF"
  wait_for_port "$port" "$PEER_START_TIMEOUT" "$pid" "$logfile"
  local deadline=$((SECONDS + PEER_START_TIMEOUT))
  until [ "$(driver_status "$port")" = 200 ]; do
    pid_alive "$pid" || {
      log_tail "$logfile"
      die "chromedriver exited during start"
    }
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$logfile"
      die "timed out waiting for GET /status -> 200"
    fi
    sleep 0.1
  done
  log "chromedriver ready (pid $pid): http://127.0.0.1:$port"
}

cmd_stop() {
  [ "$#" -eq 1 ] || usage_exit "chromium.sh stop WORKDIR"
  stop_by_pidfile "$1" "$1/chromium.pid" chromedriver
}

peer_main "chromium.sh install|installed|start WORKDIR PORT|stop WORKDIR" "$@"
