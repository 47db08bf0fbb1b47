#!/usr/bin/env bash
# Install every test peer (idempotent; quiet when all are installed):
# Prometheus, rotel, PostgreSQL, Redis, Chromium (with chromedriver),
# docker-compose. See the scripts beside this one.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
start=$SECONDS
for peer in prometheus rotel postgres redis chromium docker-compose; do
  bash "$dir/$peer.sh" install
done
printf '[peers] all installed (%ss)\n' "$((SECONDS - start))"
