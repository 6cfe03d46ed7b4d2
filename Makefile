# The two commands: `make run` starts the service, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# the demo URL printed by `make run` should point at where it serves
export FEEDBACK_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test fuzz mutate bench national schema

run: $(VENV)/.run-installed
	$(BIN)/flask --app app demo
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

# every test on every core, the slowest listed; property tests with few examples
test: $(VENV)/.test-installed node_modules/axe-core/axe.min.js
	scripts/ensure-chromium
	$(BIN)/python -m pytest -n auto --durations=15

# only the property and fuzz tests, with 25 times their examples (about half an hour)
fuzz: $(VENV)/.test-installed
	FEEDBACK_FUZZ=25 $(BIN)/python -m pytest -n auto -m fuzz --durations=15

# mutation testing of the rule modules (mutmut; an hour or two): a table into bench/RESULTS.md
mutate: $(VENV)/.test-installed node_modules/axe-core/axe.min.js
	scripts/ensure-chromium
	$(BIN)/python -m bench.mutate

# `make bench` runs the usual benchmarks; `make bench national` the hour-long national one
bench: $(VENV)/.test-installed
	scripts/ensure-chromium
	$(BIN)/python -m bench $(filter-out bench,$(MAKECMDGOALS))

national:
	@true

# after adding a migration: write feedback/storage/schema.sql afresh (a test compares them)
schema: $(VENV)/.run-installed
	$(BIN)/python -m feedback.storage.schema

# axe-core (npm, pinned in package-lock.json) checks the staff pages in Chromium
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.run-installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed
