# Force Profiles: the two commands a newcomer needs.
#   make run    set everything up and run the monthly job on the embedded synthetic world
#   make test   run the test suite (what CI runs)
SHELL := /bin/bash
VENV := .venv
FP := $(VENV)/bin/forceprofiles
WORLD ?= var/world
LAKE ?= var/lake
WAREHOUSE ?= var/warehouse/force_profiles.duckdb
OUT ?= var/out
# The local SMTP sink `make run` emails the products to: every message becomes a .eml file here.
MAIL ?= var/mail
SMTP_PORT ?= 1025
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
	$(FP) synth --out $(WORLD) --forces all9 --start $(START) --end $(END) --scale $(SCALE) --seed 42 $${PG:+--postgres $$PG} || exit $$?; \
	mkdir -p $(MAIL); $(FP) mailsink --dir $(MAIL) --port $(SMTP_PORT) & SINK=$$!; trap "kill $$SINK 2>/dev/null" EXIT; sleep 2; \
	FORCEPROFILES_SMTP_HOST=127.0.0.1 FORCEPROFILES_SMTP_PORT=$(SMTP_PORT) \
	$(FP) run --world $(WORLD) --lake $(LAKE) --warehouse $(WAREHOUSE) --out $(OUT) --history $(HISTORY) --dev-secrets \
		$(if $(MONTH),--month $(MONTH),) $${PG:+--postgres $$PG} && \
	echo "run: products in $(OUT)/, emails (.eml, open in any mail client) in $(MAIL)/, passwords in var/distribution/dev-secrets.env"

test: setup
	@bash scripts/test.sh

lock:
	$(VENV)/bin/python -m pip install -q uv && $(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock

clean:
	rm -rf var out lake warehouse
