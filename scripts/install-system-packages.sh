#!/usr/bin/env bash
# Installs the servers the processor's tests run against (PostgreSQL 15, Redis) from Debian's packages.
# Idempotent: does nothing when both are already present.
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing ${need[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian packages start system-wide services; the tests run their own private servers instead.
service redis-server stop >/dev/null 2>&1 || true
