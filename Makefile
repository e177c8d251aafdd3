# Onsite — `make run` serves the app, `make test` runs every test. Both set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WEB_CONCURRENCY ?= 2
export FLASK_APP := wsgi:app
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run test lint db stop status migrate demo bench-nearby bench-booking clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/activate:
	@scripts/venv.sh $(PYTHON) $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed ## set up and serve the app on http://127.0.0.1:5000 (demo city loaded)
	@export DATABASE_URL="$$(scripts/devdb.sh url onsite)" && \
	$(BIN)/flask db upgrade && \
	$(BIN)/flask demo load && \
	echo "Onsite is serving on http://127.0.0.1:$(PORT) (Ctrl-C stops it; 'make stop' stops the database)" && \
	exec $(BIN)/gunicorn --workers $(WEB_CONCURRENCY) --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: $(VENV)/.installed-dev ## set up and run the whole test suite, browser tests included
	@export TEST_DATABASE_URL="$$(scripts/devdb.sh url onsite_test)" \
	        E2E_DATABASE_URL="$$(scripts/devdb.sh url onsite_e2e)" \
	        MIGRATION_DATABASE_URL="$$(scripts/devdb.sh url onsite_migration_test)" \
	        CHROMIUM="$$(scripts/chromium.sh)" && \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev ## run ruff
	$(BIN)/ruff check .

db: ## start the private PostGIS cluster (unless DATABASE_URL is set) and print the URL
	@scripts/devdb.sh url onsite

migrate: $(VENV)/.installed ## apply migrations to the development database
	@DATABASE_URL="$$(scripts/devdb.sh url onsite)" $(BIN)/flask db upgrade

demo: $(VENV)/.installed ## load the demo city into the development database
	@DATABASE_URL="$$(scripts/devdb.sh url onsite)" $(BIN)/flask demo load

bench-nearby: $(VENV)/.installed ## benchmark nearby search + map vs a hand-written baseline (own DB, ~10 min; needs wrk)
	@DATABASE_URL="$$(scripts/devdb.sh url onsite_bench)" $(BIN)/python bench/nearby.py $(BENCH_ARGS)

bench-booking: $(VENV)/.installed ## benchmark a 2,000-resident booking burst + 1,000 distinct slots vs a baseline (own DB, 2-8 min)
	@DATABASE_URL="$$(scripts/devdb.sh url onsite_bench_booking)" $(BIN)/python bench/booking_burst.py $(BENCH_ARGS)

stop: ## stop the private PostgreSQL cluster
	@scripts/devdb.sh stop

status: ## say where the database is and whether it runs
	@scripts/devdb.sh status

clean: stop ## remove the virtualenv (the database stays; scripts/devdb.sh destroy removes it)
	rm -rf $(VENV)
