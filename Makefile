# Onsite — `make run` serves the app, `make test` runs every test. Both set everything up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WEB_CONCURRENCY ?= 2
JOBS_EVERY ?= 60
# The test databases are $(TEST_DB)_test, _e2e and _migration_test; Redis database $(TEST_REDIS_DB) holds the
# test rate limits. Two checkouts or two people testing on one machine can keep apart with other values.
TEST_DB ?= onsite
TEST_REDIS_DB ?= 1
# Tests whose outcome depends on the hour, the date, the time zone or DST. `make test` runs them again at
# every instant of TEST_INSTANTS (`--at`, with the machine's TZ set to that zone), so CI passes whenever it runs;
# an instant ending in "+demo" also runs the tests marked demo_city (each loads the whole demo city; those
# instants take longest, so they come first), and INSTANT_ARGS leave out what does not depend on the instant
# but costs (the whole suite runs it).
INSTANT_TESTS ?= tests/unit/test_clock.py tests/unit/test_schedule.py tests/unit/test_opening_hours.py \
	tests/integration/test_bookings.py tests/integration/test_checkin.py tests/integration/test_nearby.py \
	tests/integration/test_overnight_hours.py tests/integration/test_jobs.py tests/integration/test_demo.py \
	tests/web/test_bookings_api.py tests/web/test_bookings_pages.py tests/web/test_offering_changes_reach_slots.py \
	tests/web/test_schedule_limits.py tests/web/test_overnight_hours.py tests/web/test_access_matrix.py \
	tests/web/test_nearby_when_and_ranking.py tests/web/test_favourites.py tests/web/test_conversations_api.py \
	tests/integration/test_admin_console.py tests/integration/test_audits.py tests/integration/test_conversations.py \
	tests/integration/test_favourites.py tests/integration/test_trust_disputes.py tests/integration/test_trust_reviews.py \
	tests/e2e/test_clock.py tests/e2e/test_booking_journey.py tests/e2e/test_checkin_journey.py \
	tests/e2e/test_counter.py tests/e2e/test_explore.py
TEST_INSTANTS ?= 2026-12-31 23:55 Asia/Shanghai +demo;2026-11-01 01:55 America/New_York +demo;\
	2026-11-28 00:05 Asia/Shanghai;2026-11-28 06:10 Asia/Shanghai;2026-11-28 16:13 Asia/Shanghai;\
	2026-03-08 01:55 America/New_York
INSTANT_ARGS ?= --deselect tests/integration/test_nearby.py::test_nearest_first_uses_the_gist_index_not_a_seq_scan
# How many test jobs (the whole suite, each instant) run at once; each has its own databases.
TEST_JOBS ?= 2
export BIN TEST_DB TEST_REDIS_DB PYTEST_ARGS INSTANT_TESTS TEST_INSTANTS INSTANT_ARGS TEST_JOBS
export FLASK_APP := wsgi:app
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run test test-instants lint i18n translations db stop status migrate demo bench bench-nearby bench-booking bench-schedule bench-radar bench-integrity clean

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

run: $(VENV)/.installed translations ## set up and serve the app on http://127.0.0.1:5000 (demo city loaded, periodic jobs running)
	@export DATABASE_URL="$$(scripts/devdb.sh url onsite)" && \
	REDIS_URL="$$(scripts/devredis.sh url 0)" && export REDIS_URL && \
	$(BIN)/flask db upgrade && \
	$(BIN)/flask demo load && \
	{ $(BIN)/flask jobs run --every $(JOBS_EVERY) & jobs=$$!; trap 'kill $$jobs 2>/dev/null' EXIT; } && \
	echo "Onsite is serving on http://127.0.0.1:$(PORT), periodic jobs every $(JOBS_EVERY) s (Ctrl-C stops both; 'make stop' stops the database and Redis)" && \
	$(BIN)/gunicorn --workers $(WEB_CONCURRENCY) --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: $(VENV)/.installed-dev translations ## set up and run the whole test suite (browser tests included) and the time-dependent tests at every instant of TEST_INSTANTS, TEST_JOBS at a time (logs in instance/test-logs)
	@scripts/test.sh

test-instants: $(VENV)/.installed-dev translations ## run INSTANT_TESTS at each instant of TEST_INSTANTS ("YYYY-MM-DD HH:MM Zone[ +demo];...")
	@scripts/test.sh --instants-only

test-env-run: $(VENV)/.installed-dev translations
	@export TEST_DATABASE_URL="$$(scripts/devdb.sh url $(TEST_DB)_test)" \
	        E2E_DATABASE_URL="$$(scripts/devdb.sh url $(TEST_DB)_e2e)" \
	        MIGRATION_DATABASE_URL="$$(scripts/devdb.sh url $(TEST_DB)_migration_test)" \
	        CHROMIUM="$$(scripts/chromium.sh)" && \
	REDIS_URL="$$(scripts/devredis.sh url $(TEST_REDIS_DB))" && export REDIS_URL && \
	$(RUN)

i18n: $(VENV)/.installed ## extract every string (Python, templates, scripts), update app/translations/*/messages.po, compile them
	@mkdir -p instance/i18n
	@$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --add-location=file --sort-output \
	  --no-wrap -o instance/i18n/messages.pot .
	@$(BIN)/pybabel -q update -N -i instance/i18n/messages.pot -d app/translations --no-wrap \
	  --ignore-obsolete
	@$(BIN)/pybabel compile --statistics -d app/translations

translations: $(VENV)/.installed # compile the catalogues (.mo files are built, never committed)
	@$(BIN)/pybabel -q compile -d app/translations

lint: $(VENV)/.installed-dev ## run ruff
	$(BIN)/ruff check .

db: ## start the private PostGIS cluster (unless DATABASE_URL is set) and print the URL
	@scripts/devdb.sh url onsite

migrate: $(VENV)/.installed ## apply migrations to the development database
	@DATABASE_URL="$$(scripts/devdb.sh url onsite)" $(BIN)/flask db upgrade

demo: $(VENV)/.installed ## load the demo city into the development database
	@DATABASE_URL="$$(scripts/devdb.sh url onsite)" $(BIN)/flask demo load

.PHONY: backup restore
backup: ## dump database DB_NAME (default onsite) to instance/backups/<DB_NAME>-<UTC stamp>.dump, or FILE=…
	@DB_NAME="$(or $(DB_NAME),onsite)" scripts/backup.sh backup "$(FILE)"

restore: ## load FILE=… into database DB_NAME (default onsite, created if missing); refuses one that has tables
	@DB_NAME="$(or $(DB_NAME),onsite)" scripts/backup.sh restore "$(FILE)"

bench: $(VENV)/.installed ## the performance table: nearby, explore, in-view at BENCH_SIZES (default 10000 1000000), "Best match" on rated data, and bookings, each vs a hand-written baseline (~12 min, +5 min to generate 1M and +13 min to rate a copy of it, once; needs wrk)
	@$(BIN)/python bench/all.py $(BENCH_ARGS)

bench-nearby: $(VENV)/.installed ## nearby search, explore page, in-view at BENCH_SIZES, then "Best match" on rated data, vs a hand-written baseline (own DB per size, ~4 min each; needs wrk)
	@$(BIN)/python bench/nearby.py $(BENCH_ARGS)

bench-booking: $(VENV)/.installed ## benchmark a 2,000-resident booking burst + 1,000 distinct slots vs a baseline (own DB, 2-8 min)
	@DATABASE_URL="$$(scripts/devdb.sh url onsite_bench_booking)" $(BIN)/python bench/booking_burst.py $(BENCH_ARGS)

bench-schedule: $(VENV)/.installed-dev ## time saving the largest allowed schedule vs hand-written SQL (own DB, ~1 min)
	@DATABASE_URL="$$(scripts/devdb.sh url onsite_bench_schedule)" $(BIN)/python bench/schedule.py $(BENCH_ARGS)

bench-integrity: $(VENV)/.installed ## time recomputing 10,000 merchants' integrity scores over a year of history (own DB, ~8 min)
	@$(BIN)/python bench/integrity.py $(BENCH_ARGS)

bench-radar: $(VENV)/.installed-dev ## demand radar: roll-up rate vs 500 searches/s, 5 km radar page p50 vs 200 ms on 10M searches (own DB, ~10 min)
	@DATABASE_URL="$$(scripts/devdb.sh url onsite_bench_radar)" $(BIN)/python bench/radar.py $(BENCH_ARGS)

stop: ## stop the private PostgreSQL cluster and the private Redis
	@scripts/devdb.sh stop; status=$$?; scripts/devredis.sh stop && exit $$status

status: ## say where the database and Redis are and whether they run
	@scripts/devdb.sh status; scripts/devredis.sh status

clean: stop ## remove the virtualenv (the database stays; scripts/devdb.sh destroy removes it)
	rm -rf $(VENV)
