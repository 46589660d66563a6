# Rounds — `make run` serves the demo estate, `make test` runs the whole suite on SQLite and PostgreSQL.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
SECRET_FILE := instance/secret_key

.PHONY: bench-load fonts run test test-sqlite test-postgres venv test-deps os-deps translations bench messages

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.run-deps

venv: $(VENV)/.run-deps

$(SECRET_FILE):
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $@

translations: | $(BIN)/python
	$(BIN)/pybabel compile -d app/translations >/dev/null

# Chinese PDF reports need a CJK font: install Debian's when missing (skipped where apt is not ours).
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null ) \
	  || echo "Note: could not install fonts-noto-cjk; PDF reports stay off until a CJK font is installed."; }

run: $(VENV)/.run-deps $(SECRET_FILE) translations fonts
	ROUNDS_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/flask db upgrade
	@if [ ! -f instance/.seeded ]; then ROUNDS_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/flask seed-demo && touch instance/.seeded; fi
	@echo "Rounds on http://127.0.0.1:5000 — demo users in README.md"
	@echo "Background tasks run inside the app here. Production shape (README, Background tasks): PostgreSQL,"
	@echo "ROUNDS_TASKS=procrastinate, and one or more workers: DATABASE_URL=... ROUNDS_TASKS=procrastinate .venv/bin/flask worker"
	ROUNDS_SECRET_KEY=$$(cat $(SECRET_FILE)) $(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:5000 --access-logfile - wsgi:app

# OS packages the tests need: Debian's Chromium, CJK fonts for screenshots, PostgreSQL, nginx (in front
# of two app servers in tests/web/test_two_servers.py).
os-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing OS packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test-deps: os-deps $(VENV)/.test-deps translations

# One pytest worker per CPU (pytest-xdist): each has its own database, live server and Chromium.
PYTEST := $(BIN)/python -m pytest -q -n auto

test: test-deps
	$(PYTEST) --db=sqlite
	$(PYTEST) --db=postgresql

test-sqlite: test-deps
	$(PYTEST) --db=sqlite

test-postgres: test-deps
	$(PYTEST) --db=postgresql

bench: test-deps
	$(BIN)/python bench/answer_bench.py
	$(BIN)/python bench/photo_bench.py
	$(BIN)/python bench/upload_bench.py
	$(BIN)/python bench/weight_bench.py
	$(BIN)/python bench/dashboard_bench.py

# Load and faults (locust, from requirements-bench.txt): N supervisors against gunicorn + PostgreSQL; see
# bench/load_bench.py --help. Long: not part of `make bench`.
bench-load: test-deps
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python bench/load_bench.py

# Extract new strings into the catalogs (en is filled from the source; translate zh_Hans by hand).
messages: $(VENV)/.run-deps
	ROUNDS_SECRET_KEY=unused $(BIN)/flask translate update
