#!/usr/bin/env bash
# Installs the system packages the test suite starts by itself (a throwaway PostgreSQL cluster and
# Redis server). Nothing is skipped silently: if a package is missing and cannot be installed, the
# run fails with a message naming it.
set -euo pipefail

# `ensure_system_deps.sh frontend` checks only what `make run` needs (npm); no argument: the test suite's.
need=()
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)  # `npm ci` installs the pages' pinned packages
if [ "${1:-}" != "frontend" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ -x /usr/bin/chromium ] || need+=(chromium)  # the e2e tests' browser (Playwright drives Debian's build)
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)  # zh-CN glyphs in the browser
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing missing system packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "error: missing system packages (${need[*]}) and no root access to install them" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  echo "error: could not install the system packages: ${need[*]}" >&2
  exit 1
fi
