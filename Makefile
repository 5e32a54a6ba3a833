# Leadcycle: `make run` serves the app with demo data; `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SCALE ?= small
DB ?= sqlite
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test install lint typecheck bench ci clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/leadcycle migrate --noinput
	LEADCYCLE_ALLOW_DEMO=1 $(BIN)/leadcycle demo --if-empty
	$(BIN)/leadcycle serve

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy leadcycle

bench: $(STAMP)
	$(BIN)/python -m bench --scale $(SCALE) --db $(DB) $(BENCH_ARGS)

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var bench/results
