# FlightDesk — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LINT_PATHS := $(wildcard app tests bench migrations scripts)

.PHONY: run test install lint test-backend test-frontend frontend clean test-tools test-faults audit test-cluster redis-tools

run: install frontend
	$(PY) -m app.cli run

test: install
	$(MAKE) lint
	$(MAKE) test-backend
	@if [ -f frontend/package.json ]; then $(MAKE) test-frontend; fi

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy app
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/import_graph.py

test-backend: install test-tools
	$(VENV)/bin/pytest -q -p no:cacheprovider

frontend:
	@if [ -f frontend/package.json ]; then $(MAKE) -C frontend build; fi

test-frontend:
	$(MAKE) -C frontend test

# Kills and restarts real PostgreSQL / Redis / API / worker processes (private ones, never the
# machine's shared servers): a few minutes, so CI runs it after `make test`.
test-faults: install
	FLIGHTDESK_FAULT_TESTS=1 $(VENV)/bin/pytest -q -p no:cacheprovider tests/faults

# The booking, search, bulk and seat write-back tests again on a three-master Redis Cluster the run
# starts on free loopback ports (REDIS_CLUSTER=true), then the cluster fault tests (node flush, a
# master killed and restarted empty). CI runs it after `make test-faults`.
CLUSTER_TESTS := tests/test_booking.py tests/test_booking_concurrency.py tests/test_booking_itineraries.py \
  tests/test_booking_recovery.py tests/test_search.py tests/test_search_updates.py tests/test_search_cards.py \
  tests/test_search_reads.py tests/test_search_build.py tests/test_bulk_upload.py tests/test_bulk_races.py tests/test_bulk_recovery.py \
  tests/test_seat_sync.py tests/test_scale_out.py tests/test_cluster.py tests/test_lua_scripts.py tests/test_search_filters.py \
  tests/test_orders.py tests/test_orders_holds.py tests/test_orders_concurrency.py tests/test_search_timetable.py \
  tests/test_search_neighbourhood.py tests/test_search_incremental_pruning.py tests/test_redis_reads.py
test-cluster: install redis-tools
	FLIGHTDESK_TEST_REDIS_CLUSTER=1 $(VENV)/bin/pytest -q -p no:cacheprovider $(CLUSTER_TESTS)

# redis-server and redis-cli for the tests' own Redis Cluster (Debian's redis package).
redis-tools:
	@command -v redis-server >/dev/null && command -v redis-cli >/dev/null || \
	  apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq redis-server redis-tools >/dev/null 2>&1; }

# pip-audit + npm audit; warns (exit 0) when the advisory services are unreachable.
audit: install
	$(PY) scripts/audit_deps.py

clean:
	rm -rf $(VENV) .data frontend/node_modules frontend/dist

# nginx runs frontend/nginx.conf for real in tests/test_deployment.py, pgbouncer in front of PostgreSQL
# in tests/test_pgbouncer.py (each skipped without it).
test-tools:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
	  { apt-get install -y -qq nginx-light >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq nginx-light >/dev/null 2>&1; }; } || \
	  echo "nginx could not be installed: the nginx tests will skip"
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
	  { apt-get install -y -qq pgbouncer >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq pgbouncer >/dev/null 2>&1; }; } || \
	  echo "pgbouncer could not be installed: the PgBouncer tests will skip"
