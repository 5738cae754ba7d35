# Force Profiles: the two commands a newcomer needs.
#   make run    set everything up and run the monthly job on the embedded synthetic world
#   make test   run the test suite (what CI runs)
SHELL := /bin/bash
VENV := .venv
FP := $(VENV)/bin/forceprofiles
WORLD ?= var/world
MONTH ?=
SCALE ?= 0.02
START ?= 2023-12
END ?= 2026-10

.PHONY: setup run test lock clean

setup:
	@bash scripts/setup.sh

run: setup
	$(FP) synth --out $(WORLD) --forces all9 --start $(START) --end $(END) --scale $(SCALE) --seed 42
	$(FP) run --world $(WORLD) $(if $(MONTH),--month $(MONTH),)

test: setup
	@bash scripts/test.sh

lock:
	$(VENV)/bin/python -m pip install -q uv && $(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock

clean:
	rm -rf var out lake warehouse
