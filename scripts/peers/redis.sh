#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Redis (Debian package `redis-server`, 7 on Debian 12) as a test peer.
#
#   redis.sh install                       apt-get install redis-server (idempotent)
#   redis.sh installed                     exit 0 if installed, 1 if not
#   redis.sh start WORKDIR PORT
#   redis.sh stop WORKDIR
#
# Started daemonized on 127.0.0.1:PORT with no persistence (--save '',
# --appendonly no), its working dir WORKDIR/redis. Ready when PING answers
# +PONG. URL: redis://127.0.0.1:PORT
#
# Files in WORKDIR: redis.pid, redis.log, redis/.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
PEER=redis
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

REDIS_BIN="${O11Y_REDIS_BIN:-/usr/bin/redis-server}"

is_installed() {
  [ -x "$REDIS_BIN" ]
}

cmd_install() {
  if is_installed; then
    log "redis already installed ($("$REDIS_BIN" --version | head -n1))"
    return 0
  fi
  apt_install redis-server
  is_installed || die "redis-server still missing after apt-get install"
  log "installed $("$REDIS_BIN" --version | head -n1)"
}

# redis_ping PORT: print the first reply line to PING (e.g. +PONG).
redis_ping() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'PING\r\n' >&3
    line=""
    IFS= read -r -t 5 line <&3 || true
    printf '%s' "${line%$'\r'}"
  ) 2>/dev/null || true
}

cmd_start() {
  [ "$#" -eq 2 ] || usage_exit "redis.sh start WORKDIR PORT"
  local workdir port="$2"
  workdir="$(start_checks redis-server "$1" "$port")"
  local pidfile="$workdir/redis.pid" logfile="$workdir/redis.log"
  mkdir -p "$workdir/redis"
  rm -f "$pidfile"
  : >"$logfile"
  log "starting redis on 127.0.0.1:$port (workdir $workdir)"
  begin_start "$workdir" "$SELF"
  if ! "$REDIS_BIN" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --dir "$workdir/redis" --pidfile "$pidfile" --logfile "$logfile" \
    </dev/null >"$workdir/redis.out" 2>&1; then
    log_tail "$workdir/redis.out"
    log_tail "$logfile"
    die "redis-server failed to start"
  fi
  # --daemonize: the pid file appears once the daemon runs.
  local deadline=$((SECONDS + PEER_START_TIMEOUT))
  until [ -n "$(pid_from_file "$pidfile")" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$logfile"
      die "timed out waiting for $pidfile"
    fi
    sleep 0.05
  done
  local pid
  pid="$(pid_from_file "$pidfile")"
  wait_for_port "$port" "$PEER_START_TIMEOUT" "$pid" "$logfile"
  local reply=""
  until [ "$reply" = "+PONG" ]; do
    reply="$(redis_ping "$port")"
    [ "$reply" = "+PONG" ] && break
    pid_alive "$pid" || {
      log_tail "$logfile"
      die "redis exited during start"
    }
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$logfile"
      die "timed out waiting for PING -> +PONG (last reply: ${reply:-none})"
    fi
    sleep 0.05
  done
  log "redis ready (pid $pid): redis://127.0.0.1:$port"
}

cmd_stop() {
  [ "$#" -eq 1 ] || usage_exit "redis.sh stop WORKDIR"
  stop_by_pidfile "$1" "$1/redis.pid" redis
}

peer_main "redis.sh install|installed|start WORKDIR PORT|stop WORKDIR" "$@"
