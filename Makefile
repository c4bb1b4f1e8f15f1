# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-workspace

.PHONY: install sysdeps peer-data demo test test-fast lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/trueroi demo --workspace $(DEMO_DIR) --fresh

# The report tests render PDFs to images (poppler's pdftoppm) and open HTML in headless Chromium; the web
# tests start a throwaway PostgreSQL server (Debian's postgresql: initdb and pg_ctl in /usr/lib/postgresql).
sysdeps:
	@command -v pdftoppm >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing Debian packages poppler-utils and chromium (report tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q poppler-utils chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q poppler-utils chromium >/dev/null; }; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  echo "installing Debian package postgresql (web tests: metadata database on PostgreSQL)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q postgresql >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q postgresql >/dev/null; }; }

# ChannelAttribution's example data ships only in its GPL-3 sdist: fetched from PyPI, never committed.
peer-data: install
	$(PY) tests/attribution/peer_data.py

test: install sysdeps peer-data
	$(PY) -m pytest

test-fast: install sysdeps peer-data
	$(PY) -m pytest -m "not slow"

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build *.egg-info src/*.egg-info
