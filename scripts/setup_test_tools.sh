#!/usr/bin/env bash
# Operating-system tools that only the tests need (not the product):
#   chromium        headless browser for the Airflow UI test (tests/test_topology.py, Playwright
#                   drives it through executable_path; Playwright never downloads a browser)
#   docker-compose  `docker-compose config` validates docker-compose.yml (tests/test_compose.py)
#   redis-server    the Celery broker of the native topology test
# Idempotent: does nothing when every tool is already there. Debian packages, via apt-get.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ "${#missing[@]}" = 0 ] && exit 0

echo "setup_test_tools: installing ${missing[*]} (apt-get)"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# A freshly installed Redis is started by its package where a service manager runs; start it
# by hand where none does (containers, CI machines).
if [[ " ${missing[*]} " == *" redis-server "* ]] && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes >/dev/null
fi
