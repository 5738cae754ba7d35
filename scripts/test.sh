#!/usr/bin/env bash
# Run the test suite. pytest's exit code 5 ("no tests collected") is a failure here.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_test_tools.sh || exit 1  # chromium, docker-compose, redis for the topology tests
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then echo "test: pytest collected no tests" >&2; exit 1; fi
exit "$rc"
