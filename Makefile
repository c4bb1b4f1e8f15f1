# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-workspace
DEMO_HOME ?= demo-home
DEMO_USER ?= demo@example.com

.PHONY: install sysdeps peer-data demo test test-fast lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

# The demo report, then the same shop in the web app: a server home beside it serving the workspace as
# "demo", a fast mix model (MAP) for the model and budget pages, a full-ROI goal and a media budget on the
# demo's last quarter (its data ends on 2026-09-30), and an analyst login whose random password is printed
# once (it goes to `trueroi user add` on stdin, never on the command line).
demo: install
	$(VENV)/bin/trueroi demo --workspace $(DEMO_DIR) --fresh
	@rm -rf $(DEMO_HOME); log=$$(mktemp); \
	{ $(VENV)/bin/trueroi mmm fit --method map --out $(DEMO_DIR)/models/mmm --workspace $(DEMO_DIR) && \
	  $(VENV)/bin/trueroi goal add q3-full-roi --kpi full_roi --target 2.5 --from 2026-07-01 --to 2026-09-30 \
	    --workspace $(DEMO_DIR) && \
	  $(VENV)/bin/trueroi budget set q3-media --amount 90000 --from 2026-07-01 --to 2026-09-30 \
	    --workspace $(DEMO_DIR) && \
	  $(VENV)/bin/trueroi server init $(DEMO_HOME) && \
	  $(VENV)/bin/trueroi server add-workspace demo $(abspath $(DEMO_DIR)) --home $(DEMO_HOME); \
	} >$$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; rm -f $$log
	@password=$$($(PY) -c "import secrets; print(secrets.token_urlsafe(12))"); \
	  printf '%s\n' "$$password" | $(VENV)/bin/trueroi user add $(DEMO_USER) --role analyst --workspace demo \
	    --home $(DEMO_HOME) >/dev/null && \
	  printf '\nOpen the demo in the browser:\n  %s\n  then http://127.0.0.1:8000/ and log in as %s with the password %s (shown once)\n' \
	    "$(VENV)/bin/trueroi serve $(DEMO_HOME)" "$(DEMO_USER)" "$$password"

# The report tests render PDFs to images (poppler's pdftoppm) and open HTML in headless Chromium; the web
# tests start a throwaway PostgreSQL server (Debian's postgresql: initdb and pg_ctl in /usr/lib/postgresql); the
# tracking tests start a local nats-server -js (Debian's nats-server).
sysdeps:
	@command -v pdftoppm >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing Debian packages poppler-utils and chromium (report tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q poppler-utils chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q poppler-utils chromium >/dev/null; }; }
	@command -v nats-server >/dev/null || test -x /usr/sbin/nats-server || { \
	  echo "installing Debian package nats-server (tracking tests: the collector's queue on JetStream)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q nats-server >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q nats-server >/dev/null; }; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  echo "installing Debian package postgresql (web tests: metadata database on PostgreSQL)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q postgresql >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q postgresql >/dev/null; }; }

# ChannelAttribution's example data ships only in its GPL-3 sdist: fetched from PyPI, never committed.
peer-data: install
	$(PY) tests/attribution/peer_data.py

# Two workers (the machines have 2 cores), each taking whole files so that a module's fitted model or
# server is made once; session fixtures (the demo shop, PostgreSQL, Spark) start once per worker.
PYTEST_WORKERS ?= -n 2 --dist loadfile

test: install sysdeps peer-data
	$(PY) -m pytest $(PYTEST_WORKERS)

test-fast: install sysdeps peer-data
	$(PY) -m pytest $(PYTEST_WORKERS) -m "not slow"

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(DEMO_HOME) .pytest_cache build *.egg-info src/*.egg-info
