#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Prometheus (Debian package `prometheus`, 2.42 on Debian 12) as a test peer.
#
#   prometheus.sh install                  apt-get install prometheus (idempotent)
#   prometheus.sh installed                exit 0 if installed, 1 if not
#   prometheus.sh start WORKDIR PORT
#   prometheus.sh stop WORKDIR
#
# Started on 127.0.0.1:PORT with --storage.tsdb.path=WORKDIR/data,
# --enable-feature=exemplar-storage and --web.enable-lifecycle (POST /-/reload).
# Ready when /-/ready answers 200.
#
# Config: $O11Y_PROMETHEUS_CONFIG if set (copied to WORKDIR/prometheus.yml with
# every "@WORKDIR@" replaced by WORKDIR), else a default with no targets: job
# "o11y" (scrape and evaluation interval 1s) reading file_sd targets from
# WORKDIR/targets/*.json (refresh 1s). To add a target, write e.g.
# WORKDIR/targets/app.json atomically (write a temp file, then rename):
#   [{"targets": ["127.0.0.1:8080"],
#     "labels": {"__scrape_interval__": "1s", "__scrape_timeout__": "1s"}}]
#
# Files in WORKDIR: prometheus.pid, prometheus.log, prometheus.yml, data/, targets/.
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
PEER=prometheus
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROMETHEUS_BIN="${O11Y_PROMETHEUS_BIN:-/usr/bin/prometheus}"

is_installed() {
  [ -x "$PROMETHEUS_BIN" ] && command -v promtool >/dev/null 2>&1
}

cmd_install() {
  if is_installed; then
    log "prometheus already installed ($("$PROMETHEUS_BIN" --version 2>&1 | head -n1))"
    return 0
  fi
  apt_install prometheus
  is_installed || die "prometheus or promtool still missing after apt-get install"
  log "installed $("$PROMETHEUS_BIN" --version 2>&1 | head -n1)"
}

write_default_config() {
  local workdir="$1"
  cat >"$workdir/prometheus.yml" <<EOF
# Written by scripts/peers/prometheus.sh: no static targets; tests add
# targets as file_sd JSON files in $workdir/targets/.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: o11y
    file_sd_configs:
      - files: ['$workdir/targets/*.json']
        refresh_interval: 1s
EOF
}

cmd_start() {
  [ "$#" -eq 2 ] || usage_exit "prometheus.sh start WORKDIR PORT"
  local workdir port="$2"
  workdir="$(start_checks prometheus "$1" "$port")"
  local pidfile="$workdir/prometheus.pid" logfile="$workdir/prometheus.log"
  mkdir -p "$workdir/data" "$workdir/targets"
  if [ -n "${O11Y_PROMETHEUS_CONFIG:-}" ]; then
    [ -f "$O11Y_PROMETHEUS_CONFIG" ] || die "O11Y_PROMETHEUS_CONFIG=$O11Y_PROMETHEUS_CONFIG: no such file"
    sed "s|@WORKDIR@|$workdir|g" "$O11Y_PROMETHEUS_CONFIG" >"$workdir/prometheus.yml"
    log "config from $O11Y_PROMETHEUS_CONFIG"
  else
    write_default_config "$workdir"
  fi
  log "starting prometheus on 127.0.0.1:$port (workdir $workdir)"
  (
    cd "$workdir"
    exec "$PROMETHEUS_BIN" \
      --config.file="$workdir/prometheus.yml" \
      --web.listen-address="127.0.0.1:$port" \
      --storage.tsdb.path="$workdir/data" \
      --enable-feature=exemplar-storage \
      --web.enable-lifecycle \
      --log.level=info
  ) </dev/null >"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  begin_start "$workdir" "$SELF"
  wait_for_port "$port" "$PEER_START_TIMEOUT" "$pid" "$logfile"
  wait_for_http "$port" /-/ready "$PEER_START_TIMEOUT" "$pid" "$logfile"
  log "prometheus ready (pid $pid)"
}

cmd_stop() {
  [ "$#" -eq 1 ] || usage_exit "prometheus.sh stop WORKDIR"
  stop_by_pidfile "$1" "$1/prometheus.pid" prometheus
}

peer_main "prometheus.sh install|installed|start WORKDIR PORT|stop WORKDIR" "$@"
