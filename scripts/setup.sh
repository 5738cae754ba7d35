#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment from the lock file.
# Idempotent: re-running with an unchanged lock file does nothing but a quick check.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

# WeasyPrint needs Pango from the operating system.
if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0'; then
    echo "setup: installing Pango for WeasyPrint (apt-get)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi

STAMP=.venv/.lock.sha256
WANT="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "setup: installing locked dependencies (a few minutes the first time)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
    .venv/bin/python -c "import forceprofiles, airflow, dbt, duckdb, great_expectations, splink, weasyprint" >/dev/null
    echo "$WANT" > "$STAMP"
fi
