# Force Profiles: the two commands a newcomer needs.
#   make run    set everything up and run the monthly job on the embedded synthetic world
#   make test   run the test suite (what CI runs)
SHELL := /bin/bash
VENV := .venv
FP := $(VENV)/bin/forceprofiles
WORLD ?= var/world
LAKE ?= var/lake
WAREHOUSE ?= var/warehouse/force_profiles.duckdb
MONTH ?=
SCALE ?= 0.02
START ?= 2023-11
END ?= 2026-10
# Months ingested before the report month on a fresh lake (each month is about a minute for nine
# forces at the default scale; the profiles' trends want up to 36).
HISTORY ?= 12

.PHONY: setup run test lock clean

setup:
	@bash scripts/setup.sh

run: setup
	@PG="$$(bash scripts/local_postgres.sh)"; \
	if [ -n "$$PG" ]; then echo "run: database-delivery forces load into $$PG"; else echo "run: no local PostgreSQL; every force delivers by file drop"; fi; \
	$(FP) synth --out $(WORLD) --forces all9 --start $(START) --end $(END) --scale $(SCALE) --seed 42 $${PG:+--postgres $$PG} && \
	$(FP) run --world $(WORLD) --lake $(LAKE) --warehouse $(WAREHOUSE) --history $(HISTORY) $(if $(MONTH),--month $(MONTH),) $${PG:+--postgres $$PG}

test: setup
	@bash scripts/test.sh

lock:
	$(VENV)/bin/python -m pip install -q uv && $(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock

clean:
	rm -rf var out lake warehouse
