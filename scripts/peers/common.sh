# shellcheck shell=bash
# Shared helpers for the peer scripts in scripts/peers/. Sourced, never run.
#
# Each peer script sets PEER (its name) before sourcing this file, defines
# cmd_install, is_installed, cmd_start and cmd_stop, and ends with
# `peer_main USAGE "$@"`, which dispatches on the first argument:
# install | installed | start | stop.
#
# Environment:
#   O11Y_PEERS_DIR            install state (rotel venv, apt stamp);
#                             default $HOME/.cache/o11y-peers
#   O11Y_PEER_START_TIMEOUT   seconds to wait for a peer to be ready (default 60)
#   O11Y_PEER_OWNER_PID       if set at `start`, a watchdog stops the peer (and
#                             removes the workdir when O11Y_PEER_WATCHDOG_RM=1)
#                             once that process is gone, so a killed test run
#                             leaves no server behind (WORKDIR/watchdog.pid)
#   O11Y_PEER_STOP_RM         if 1 at `stop`, WORKDIR is removed too
#   O11Y_APT_UPDATE_MAX_AGE   minutes an `apt-get update` done by these scripts
#                             stays good (default 60)

set -euo pipefail
# If whoever reads our output goes away (a killed test), carry on instead of
# dying of SIGPIPE halfway through a start or stop (see log below).
trap '' PIPE

: "${PEER:?set PEER before sourcing common.sh}"
O11Y_PEERS_DIR="${O11Y_PEERS_DIR:-${HOME:-/root}/.cache/o11y-peers}"
# shellcheck disable=SC2034 # used by the peer scripts
PEERS_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The peer script itself (what its watchdog and failed start run again).
# shellcheck disable=SC2034 # used by the peer scripts
SELF="$PEERS_SCRIPT_DIR/$PEER.sh"
# shellcheck disable=SC2034 # used by the peer scripts
PEER_START_TIMEOUT="${O11Y_PEER_START_TIMEOUT:-60}"

# Output never fails a script: its reader may be gone (a killed test) while
# the script still has a peer to start or stop.
log() { printf '[%s] %s\n' "$PEER" "$*" 2>/dev/null || true; }
warn() { printf '[%s] warning: %s\n' "$PEER" "$*" >&2 2>/dev/null || true; }
die() {
  printf '[%s] error: %s\n' "$PEER" "$*" >&2 2>/dev/null || true
  exit 1
}

# usage_exit "<usage text>"
usage_exit() {
  printf 'usage: %s\n' "$1" >&2
  exit 2
}

# Run as root: directly when root, through sudo otherwise (if there is one).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root for: $* (run as root or install sudo)"
  fi
}

# deb_installed PKG: is the Debian package PKG installed?
deb_installed() {
  dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

# apt_install PKG...: install the missing ones (no recommends). `apt-get
# update` runs first, but only when something is missing and no update was
# done by these scripts in the last O11Y_APT_UPDATE_MAX_AGE minutes.
apt_install() {
  local missing=() p
  for p in "$@"; do
    deb_installed "$p" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
  mkdir -p "$O11Y_PEERS_DIR"
  local stamp="$O11Y_PEERS_DIR/.apt-updated" max_age="${O11Y_APT_UPDATE_MAX_AGE:-60}"
  if [ -z "$(find "$stamp" -mmin "-$max_age" 2>/dev/null)" ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq \
      || die "apt-get update failed"
    touch "$stamp"
  fi
  log "apt-get install ${missing[*]}"
  local out
  if ! out="$(as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
    install -y -qq --no-install-recommends "${missing[@]}" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 30 >&2
    die "apt-get install ${missing[*]} failed"
  fi
}

# port_open PORT [HOST]: is something accepting TCP connections there?
port_open() {
  local port="$1" host="${2:-127.0.0.1}"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# port_free PORT: fail with a clear message if something already listens.
require_port_free() {
  if port_open "$1"; then
    die "port $1 on 127.0.0.1 is already in use"
  fi
}

# http_status PORT PATH: print the HTTP status code of GET PATH (or nothing).
http_status() {
  local port="$1" path="$2"
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$path" "$port" >&3
    line=""
    IFS= read -r -t 5 line <&3 || true
    line="${line%$'\r'}"
    # shellcheck disable=SC2086 # split "HTTP/1.1 200 OK" into words
    set -- $line
    if [ "$#" -ge 2 ]; then printf '%s\n' "$2"; fi
    exit 0
  ) 2>/dev/null || true
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local stat=""
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# pid_from_file FILE: print the pid stored in FILE (empty if none).
pid_from_file() {
  [ -f "$1" ] || return 0
  local pid
  pid="$(head -n1 "$1" 2>/dev/null | tr -dc '0-9')"
  printf '%s' "$pid"
}

# log_tail FILE [N]: print the last N (default 40) lines of a log, indented.
log_tail() {
  local f="$1" n="${2:-40}"
  if [ -s "$f" ]; then
    printf '[%s] --- last %s lines of %s ---\n' "$PEER" "$n" "$f" >&2
    tail -n "$n" "$f" | sed 's/^/    /' >&2
    printf '[%s] --- end of log ---\n' "$PEER" >&2
  else
    printf '[%s] (log %s is empty or missing)\n' "$PEER" "$f" >&2
  fi
}

# wait_for_port PORT TIMEOUT_SECS [PID] [LOGFILE]: wait until 127.0.0.1:PORT
# accepts connections. Fails early if PID dies; on failure shows LOGFILE's tail.
wait_for_port() {
  local port="$1" timeout="$2" pid="${3:-}" logfile="${4:-}"
  local deadline=$((SECONDS + timeout))
  while ! port_open "$port"; do
    if [ -n "$pid" ] && ! pid_alive "$pid"; then
      [ -n "$logfile" ] && log_tail "$logfile"
      die "$PEER exited before listening on 127.0.0.1:$port"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -n "$logfile" ] && log_tail "$logfile"
      die "timed out after ${timeout}s waiting for $PEER on 127.0.0.1:$port"
    fi
    sleep 0.1
  done
}

# wait_for_http PORT PATH TIMEOUT_SECS [PID] [LOGFILE]: wait for a 200.
wait_for_http() {
  local port="$1" path="$2" timeout="$3" pid="${4:-}" logfile="${5:-}"
  local deadline=$((SECONDS + timeout)) code=""
  while :; do
    code="$(http_status "$port" "$path")"
    [ "$code" = "200" ] && return 0
    if [ -n "$pid" ] && ! pid_alive "$pid"; then
      [ -n "$logfile" ] && log_tail "$logfile"
      die "$PEER exited before http://127.0.0.1:$port$path answered"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      [ -n "$logfile" ] && log_tail "$logfile"
      die "timed out after ${timeout}s waiting for http://127.0.0.1:$port$path (last status: ${code:-none})"
    fi
    sleep 0.1
  done
}

# begin_start WORKDIR SCRIPT: call once WORKDIR is ready, before launching the
# peer. From then on, if this script exits non-zero, it runs its own
# `cmd_stop WORKDIR` so a half-started peer does not linger; and with
# O11Y_PEER_OWNER_PID set, a watchdog stops the peer once the owner is gone.
begin_start() {
  FAILED_START_WORKDIR="$1"
  trap _failed_start_trap EXIT
  start_watchdog "$1" "$2"
}
_failed_start_trap() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "${FAILED_START_WORKDIR:-}" ]; then
    log "start failed; stopping what was started" || true
    # The watchdog stays: if the owner died during start (say, a killed
    # test), it is the one left to remove WORKDIR; a live owner's own
    # `stop` ends it.
    KEEP_WATCHDOG=1 cmd_stop "$FAILED_START_WORKDIR" >/dev/null 2>&1 || true
  fi
}

# stop_pid PIDFILE [NAME]: SIGTERM the pid in PIDFILE, wait up to 10 s, then
# SIGKILL; removes the file. Idempotent.
stop_pid() {
  local pidfile="$1" name="${2:-$PEER}" pid
  pid="$(pid_from_file "$pidfile")"
  if pid_alive "$pid"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      warn "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# prepare_workdir DIR: create DIR and print its absolute path.
prepare_workdir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# check_port_arg VALUE
check_port_arg() {
  case "$1" in
    '' | *[!0-9]*) die "not a port number: '$1'" ;;
  esac
  if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then die "port out of range: $1"; fi
}

# require_not_running WORKDIR: fail if the peer whose pid is in
# WORKDIR/$PEER.pid is alive.
require_not_running() {
  local pidfile="$1/$PEER.pid"
  if pid_alive "$(pid_from_file "$pidfile")"; then
    die "$PEER already running in $1 (pid $(pid_from_file "$pidfile"))"
  fi
}

# start_checks NAME WORKDIR PORT...: the checks a `start` begins with, in this
# order: each PORT a port number, the peer installed (is_installed; NAME is
# what the error calls the missing program), WORKDIR made, no peer alive in
# it (require_not_running), each PORT free. Prints WORKDIR's absolute path:
#   workdir="$(start_checks NAME "$1" "$port")"
start_checks() {
  local name="$1" dir="$2" workdir port
  shift 2
  for port in "$@"; do check_port_arg "$port"; done
  is_installed || die "$name is not installed: run scripts/peers/$PEER.sh install"
  workdir="$(prepare_workdir "$dir")" || exit 1
  require_not_running "$workdir"
  for port in "$@"; do require_port_free "$port"; done
  printf '%s\n' "$workdir"
}

# start_watchdog WORKDIR SCRIPT: with O11Y_PEER_OWNER_PID set, run a
# background loop that, once the owner is gone and this start script has
# ended, calls `SCRIPT stop WORKDIR` (and removes WORKDIR when
# O11Y_PEER_WATCHDOG_RM=1).
start_watchdog() {
  local workdir="$1" script="$2" owner="${O11Y_PEER_OWNER_PID:-}"
  [ -n "$owner" ] || return 0
  pid_alive "$owner" || die "O11Y_PEER_OWNER_PID=$owner is not a running process"
  local rm_dir="${O11Y_PEER_WATCHDOG_RM:-0}"
  # shellcheck disable=SC2016 # expanded by the inner bash
  nohup bash -c '
    owner="$1"; starter="$2"; script="$3"; workdir="$4"; rm_dir="$5"
    alive() { kill -0 "$1" 2>/dev/null && ! grep -q "^[0-9]* (.*) Z" "/proc/$1/stat" 2>/dev/null; }
    while alive "$owner"; do sleep 1; done
    while alive "$starter"; do sleep 0.2; done
    rm -f "$workdir/watchdog.pid"
    O11Y_PEER_STOP_RM="$rm_dir" bash "$script" stop "$workdir"
  ' o11y-peer-watchdog "$owner" "$$" "$script" "$workdir" "$rm_dir" \
    </dev/null >>"$workdir/watchdog.log" 2>&1 &
  echo "$!" >"$workdir/watchdog.pid"
}

# workdir_to_stop WORKDIR: true when WORKDIR exists; otherwise log that there
# is nothing to stop and be false (the `stop` then succeeds doing nothing).
workdir_to_stop() {
  [ -d "$1" ] && return 0
  log "nothing to stop ($1 does not exist)"
  return 1
}

# stop_by_pidfile WORKDIR PIDFILE NAME: the whole `stop` of a peer that runs
# as the one process in PIDFILE: stop it (stop_pid, then "stopped") or say
# "not running" and remove a stale PIDFILE, then end_stop WORKDIR. Does
# nothing (but log) when WORKDIR does not exist.
stop_by_pidfile() {
  local workdir="$1" pidfile="$2" name="$3"
  workdir_to_stop "$workdir" || return 0
  if pid_alive "$(pid_from_file "$pidfile")"; then
    stop_pid "$pidfile" "$name"
    log "stopped"
  else
    rm -f "$pidfile"
    log "not running"
  fi
  end_stop "$workdir"
}

# end_stop WORKDIR: the last step of every `stop`: with O11Y_PEER_STOP_RM=1
# remove WORKDIR, then end the peer's watchdog (last, so that a stop cut
# short still leaves the watchdog to finish the job).
end_stop() {
  local workdir="$1" wpid
  wpid="$(pid_from_file "$workdir/watchdog.pid")"
  if [ "${O11Y_PEER_STOP_RM:-0}" = 1 ]; then
    rm -rf "$workdir"
  fi
  [ "${KEEP_WATCHDOG:-0}" = 1 ] && return 0
  if [ -n "$wpid" ] && [ "$wpid" != "$$" ] && pid_alive "$wpid"; then
    kill -TERM "$wpid" 2>/dev/null || true
  fi
  rm -f "$workdir/watchdog.pid"
}

# peer_main USAGE [ARG...]: a peer script's command line: install, installed,
# start ARGS or stop ARGS, run by the script's cmd_install, is_installed,
# cmd_start and cmd_stop; anything else prints USAGE and exits 2.
peer_main() {
  local usage="$1"
  shift
  case "${1:-}" in
    install) cmd_install ;;
    installed) is_installed ;;
    start)
      shift
      cmd_start "$@"
      ;;
    stop)
      shift
      cmd_stop "$@"
      ;;
    *) usage_exit "$usage" ;;
  esac
}
