# Outreach: `make run` serves the app on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test test-fast lint format bench migrate clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## run: install, migrate the SQLite database, make the first administrator, serve on :5000
## (another port: make run PORT=5001)
PORT ?= 5000
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask users ensure-admin
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## test: lint, then every test (PostgreSQL too when TEST_DATABASE_URL is set)
test: $(VENV)/.installed-dev lint
	$(BIN)/pytest -n 2 --dist loadgroup

## test-fast: unit and database tests on SQLite only, no browser
test-fast: $(VENV)/.installed-dev
	TEST_DATABASE_URL= $(BIN)/pytest -m "not browser and not slow"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: speed benchmarks; figures are written to docs/benchmarks.md
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run

migrate: $(VENV)/.installed
	$(BIN)/flask db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
