#!/usr/bin/env bash
# Print the DSN of the local PostgreSQL database that stands in for the records systems of
# forces with database delivery (profiles/forces.yml), creating the database if needed.
# Prints nothing (and `make run` then uses file drops for every force) when no server answers.
set -uo pipefail
ADMIN="${FORCEPROFILES_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}"
DB="${FORCEPROFILES_PG_DB:-forceprofiles}"
cd "$(dirname "$0")/.."
.venv/bin/python - "$ADMIN" "$DB" <<'PY' 2>/dev/null
import sys
import psycopg
admin, name = sys.argv[1], sys.argv[2]
try:
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(f'create database "{name}"')
except psycopg.Error:
    sys.exit(0)
print(admin.rsplit("/", 1)[0] + "/" + name)
PY
