#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# docker-compose (Debian package `docker-compose`, 1.29 on Debian 12) as a
# test tool: `docker-compose config` validates the compose file that
# `o11y stack` writes, with no Docker daemon. A tool, not a server: there
# is nothing to start or stop.
#
#   docker-compose.sh install              apt-get install docker-compose (idempotent)
#   docker-compose.sh installed            exit 0 if installed, 1 if not
set -euo pipefail
# shellcheck disable=SC2034 # read by common.sh
PEER=docker-compose
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

COMPOSE_BIN="${O11Y_DOCKER_COMPOSE_BIN:-/usr/bin/docker-compose}"

is_installed() {
  [ -x "$COMPOSE_BIN" ]
}

cmd_install() {
  if is_installed; then
    log "docker-compose already installed ($("$COMPOSE_BIN" version --short 2>/dev/null || echo '?'))"
    return 0
  fi
  apt_install docker-compose
  is_installed || die "docker-compose still missing after apt-get install"
  log "installed docker-compose $("$COMPOSE_BIN" version --short 2>/dev/null || echo '?')"
}

cmd_start() { die "docker-compose is a tool: nothing to start"; }
cmd_stop() { die "docker-compose is a tool: nothing to stop"; }

peer_main "docker-compose.sh install|installed" "$@"
