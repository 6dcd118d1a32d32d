# biomock: `make run` serves on :8000, `make test` runs every check.
# Both set up what they need on a fresh machine (a local .venv, the front end's packages).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest install clean \
	dashboard frontend-install frontend-lint frontend-typecheck frontend-unit frontend-build \
	frontend-e2e frontend-test frontend-bench bench-fanout

# The dashboard (streaming-frontend/): npm packages from the lock file, Debian's Chromium for
# the browser tests (Playwright never downloads a browser of its own here).
NPM ?= npm
FRONTEND := streaming-frontend
FE_STAMP := $(FRONTEND)/node_modules/.installed-stamp
FE_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts \
	$(FRONTEND)/tsconfig.json -type f 2>/dev/null)
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,testing]'
	touch $@

install: $(STAMP)

run: $(STAMP) dashboard
	$(BIN)/biomock serve --host $(HOST) --port $(PORT) --reload

# Rebuild the dashboard when its sources changed, if npm is there to do it.
dashboard:
	@if command -v $(NPM) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory frontend-build; \
	else \
		echo "npm not found: serving the dashboard as last built (if at all)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy biomock

# The dashboard is built first, so that the runtime-layout test serves the real build.
pytest: $(STAMP) dashboard $(REDIS_SERVER)
	$(BIN)/pytest -q

$(FE_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && $(NPM) ci --no-audit --no-fund
	touch $@

frontend-install: $(FE_STAMP)

frontend-lint: $(FE_STAMP)
	cd $(FRONTEND) && $(NPM) run --silent lint

frontend-typecheck: $(FE_STAMP)
	cd $(FRONTEND) && $(NPM) run --silent typecheck

frontend-unit: $(FE_STAMP)
	cd $(FRONTEND) && npx vitest run

$(FRONTEND)/dist/index.html: $(FE_STAMP) $(FE_SOURCES)
	cd $(FRONTEND) && $(NPM) run --silent build
	touch $@

frontend-build: $(FRONTEND)/dist/index.html

$(CHROMIUM):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium

# Debian's Redis for the shared-bus tests (pytest-redis starts one per test run on a free port).
$(REDIS_SERVER):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends redis-server

frontend-e2e: $(STAMP) frontend-build $(CHROMIUM)
	cd $(FRONTEND) && CHROMIUM_PATH=$(CHROMIUM) npx playwright test

frontend-test: frontend-lint frontend-typecheck frontend-unit frontend-e2e

# Not part of `make test`: 6 charts x 10,000 points at 60 fps, figures into docs/performance.md.
frontend-bench: $(FE_STAMP) $(CHROMIUM)
	cd $(FRONTEND) && CHROMIUM_PATH=$(CHROMIUM) $(NPM) run --silent bench

test: lint typecheck pytest frontend-test

# The fan-out comparison (about 22-26 minutes, the bus rows with a throwaway Redis included):
# rewrites docs/performance.md's tables and docs/img/fanout.png.
bench-fanout: $(STAMP) $(REDIS_SERVER)
	$(BIN)/python -m benchmarks.fanout.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	rm -rf $(FRONTEND)/node_modules $(FRONTEND)/dist $(FRONTEND)/bench-dist $(FRONTEND)/test-results
