#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# PostgreSQL (Debian package `postgresql`, 15 on Debian 12) as a test peer.
#
#   postgres.sh install                    apt-get install postgresql (idempotent)
#   postgres.sh installed                  exit 0 if installed, 1 if not
#   postgres.sh start WORKDIR PORT         a fresh cluster with database o11y_test
#   postgres.sh stop WORKDIR
#
# initdb refuses to run as root, so as root the cluster is made and run as the
# `postgres` user (runuser); as another user it is made and run as that user.
# Trust authentication, superuser `postgres`, listening on 127.0.0.1:PORT only,
# its unix socket in the cluster directory, fsync off (test data only).
# URL: postgres://postgres@127.0.0.1:PORT/o11y_test
#
# Files: WORKDIR/postgres/ (owned by the server's user: data/, postgres.log,
# initdb.log, the socket), WORKDIR/postgres.pid, WORKDIR/postgres.log (link).
# When the postgres user cannot reach WORKDIR (e.g. under /root, mode 0700), the
# cluster goes to a fresh /tmp/o11y-pg.XXXXXX and WORKDIR/postgres links to it;
# `stop` removes that directory unless O11Y_PEERS_KEEP_DIRS=1.
#
# Environment: O11Y_PG_BIN (default: /usr/lib/postgresql/15/bin, else the
# newest /usr/lib/postgresql/*/bin).
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
PEER=postgres
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pg_bin() {
  if [ -n "${O11Y_PG_BIN:-}" ]; then
    printf '%s' "$O11Y_PG_BIN"
  elif [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    printf '%s' /usr/lib/postgresql/15/bin
  else
    local d
    d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
    printf '%s' "${d:-/usr/lib/postgresql/15/bin}"
  fi
}
PG_BIN="$(pg_bin)"

is_installed() {
  [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/psql" ]
}

cmd_install() {
  if is_installed; then
    log "postgresql already installed ($("$PG_BIN/postgres" --version))"
    return 0
  fi
  apt_install postgresql
  PG_BIN="$(pg_bin)"
  is_installed || die "initdb/pg_ctl/psql still missing after apt-get install postgresql"
  log "installed $("$PG_BIN/postgres" --version)"
}

run_as_root() { [ "$(id -u)" -eq 0 ]; }

# as_pg CMD...: run CMD as the server's user, from / (its cwd must be readable).
as_pg() {
  if run_as_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

cmd_start() {
  [ "$#" -eq 2 ] || usage_exit "postgres.sh start WORKDIR PORT"
  local workdir port="$2"
  check_port_arg "$port"
  is_installed || die "postgresql is not installed: run scripts/peers/postgres.sh install"
  workdir="$(prepare_workdir "$1")"
  require_not_running "$workdir"
  [ -e "$workdir/postgres" ] && die "$workdir/postgres already exists; use a fresh WORKDIR"
  require_port_free "$port"

  local root="$workdir/postgres"
  # The socket path (root + "/.s.PGSQL.PORT") must stay under 107 bytes.
  local reachable=1
  if run_as_root; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (is the postgresql package installed?)"
    runuser -u postgres -- test -x "$workdir" 2>/dev/null || reachable=0
  fi
  if [ "$reachable" -eq 0 ] || [ "${#root}" -gt 90 ]; then
    root="$(mktemp -d /tmp/o11y-pg.XXXXXX)"
    ln -s "$root" "$workdir/postgres"
    log "cluster in $root, linked from $workdir/postgres (workdir unreachable for the server or its path too long)"
  else
    mkdir "$root"
  fi
  chmod 0700 "$root"
  if run_as_root; then chown postgres:postgres "$root"; fi
  ln -sfn "$root/postgres.log" "$workdir/postgres.log"

  begin_start "$workdir" "$SELF"
  log "initdb $root/data"
  if ! as_pg "$PG_BIN/initdb" -D "$root/data" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync --no-instructions >"$root/initdb.log" 2>&1; then
    log_tail "$root/initdb.log"
    die "initdb failed"
  fi
  log "starting postgres on 127.0.0.1:$port (workdir $workdir)"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$root/data" -l "$root/postgres.log" -w -t "$PEER_START_TIMEOUT" \
    -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >"$root/pg_ctl.log" 2>&1; then
    log_tail "$root/pg_ctl.log" 10
    log_tail "$root/postgres.log"
    die "pg_ctl start failed"
  fi
  head -n1 "$root/data/postmaster.pid" >"$workdir/postgres.pid"
  wait_for_port "$port" "$PEER_START_TIMEOUT" "$(pid_from_file "$workdir/postgres.pid")" "$root/postgres.log"
  log "createdb o11y_test"
  if ! "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres o11y_test >"$root/createdb.log" 2>&1; then
    log_tail "$root/createdb.log"
    log_tail "$root/postgres.log"
    die "createdb o11y_test failed"
  fi
  local deadline=$((SECONDS + PEER_START_TIMEOUT))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d o11y_test; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$root/postgres.log"
      die "timed out waiting for pg_isready on 127.0.0.1:$port"
    fi
    sleep 0.1
  done
  log "postgres ready (pid $(pid_from_file "$workdir/postgres.pid")): postgres://postgres@127.0.0.1:$port/o11y_test"
}

cmd_stop() {
  [ "$#" -eq 1 ] || usage_exit "postgres.sh stop WORKDIR"
  local workdir="$1"
  workdir_to_stop "$workdir" || return 0
  local link="$workdir/postgres" root pid
  # Resolve the link to a /tmp cluster: the server's user may not reach WORKDIR.
  root="$(readlink -f "$link" 2>/dev/null || printf '%s' "$link")"
  pid="$(pid_from_file "$workdir/postgres.pid")"
  [ -n "$pid" ] || pid="$(pid_from_file "$root/data/postmaster.pid")"
  if [ -f "$root/data/postmaster.pid" ] && pid_alive "$pid"; then
    log "stopping postgres (pid $pid)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$root/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
      warn "pg_ctl stop failed; killing pid $pid"
      echo "$pid" >"$workdir/postgres.pid"
      stop_pid "$workdir/postgres.pid" postgres
    fi
    log "stopped"
  elif pid_alive "$pid"; then
    echo "$pid" >"$workdir/postgres.pid"
    stop_pid "$workdir/postgres.pid" postgres
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$workdir/postgres.pid"
  if [ -L "$link" ] && [ "${O11Y_PEERS_KEEP_DIRS:-0}" != 1 ]; then
    case "$root" in
      /tmp/o11y-pg.*) rm -rf "$root" ;;
    esac
    rm -f "$link" "$workdir/postgres.log"
  fi
  end_stop "$workdir"
}

peer_main "postgres.sh install|installed|start WORKDIR PORT|stop WORKDIR" "$@"
