# The two commands of README.md: `make dev` runs knitter, `make test` runs every check.
# Both set up what they need first, in .venv, on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; a plain `torch` requirement would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
PG15_SCRIPT := ../shared/tools/build-pgvector-pg15.sh

.PHONY: dev test test-functions install install-dev pg15-vector deploy-tools frontend test-frontend chromium redis types

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(BIN)/.torch: | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet $(TORCH)
	touch $@

install: $(BIN)/.torch
	$(BIN)/pip install --quiet -e '.[local]'

install-dev: $(BIN)/.torch
	$(BIN)/pip install --quiet -e '.[local,dev]'

dev: install frontend
	$(BIN)/knitter dev

# The migrations are also checked on PostgreSQL 15 + pgvector (what Supabase runs) when the
# machine has PostgreSQL 15; this builds pgvector for it once, where it can.
pg15-vector:
	@if [ -d /usr/lib/postgresql/15 ] && [ ! -f /usr/share/postgresql/15/extension/vector.control ] \
	   && [ -f $(PG15_SCRIPT) ] && [ "$$(id -u)" = 0 ]; then bash $(PG15_SCRIPT); fi

# nginx (config test of deploy/nginx.conf) and shellcheck (scripts/*.sh), from Debian.
deploy-tools:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	  command -v shellcheck >/dev/null || missing="$$missing shellcheck"; \
	  if [ -n "$$missing" ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends $$missing; fi; \
	fi

# The web app (frontend/): npm ci when the lock changes, a build when a source changes.
FRONTEND := frontend
FRONTEND_DEPS := $(FRONTEND)/node_modules/.package-lock.json
FRONTEND_SRC := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(addprefix $(FRONTEND)/,index.html package.json vite.config.ts tsconfig.json)

$(FRONTEND_DEPS): $(FRONTEND)/package-lock.json
	npm ci --prefix $(FRONTEND) --no-audit --no-fund
	touch $@

$(FRONTEND)/dist/index.html: $(FRONTEND_DEPS) $(FRONTEND_SRC)
	npm run build --prefix $(FRONTEND)

frontend: $(FRONTEND)/dist/index.html

# The web app's types, generated from the API's OpenAPI schema and the migrated database's
# catalog (tests/test_generated_types.py fails when the committed ones are stale).
types: install $(FRONTEND_DEPS)
	$(BIN)/python scripts/generate_types.py

test-frontend: $(FRONTEND_DEPS)
	npm run typecheck --prefix $(FRONTEND)
	npm test --prefix $(FRONTEND)

# Debian's Chromium for tests/e2e/ (Playwright drives it; never `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq chromium; fi

# Debian's Redis: the tests start their own redis-server when none answers at 127.0.0.1:6379.
# RUNLEVEL=1 keeps the package from starting a system service.
redis:
	@if ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ] \
	   && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
	    apt-get install -y -qq --no-install-recommends redis-server; fi

FUNCTIONS := supabase/functions
DENO := $(FUNCTIONS)/node_modules/.bin/deno

# Deno for the edge functions comes from npm (package-lock.json pins it).
$(DENO): $(FUNCTIONS)/package-lock.json
	npm ci --prefix $(FUNCTIONS) --no-audit --no-fund
	touch $@

test-functions: $(DENO)
	cd $(FUNCTIONS) && node_modules/.bin/deno check --config deno.json */index.ts
	cd $(FUNCTIONS) && node_modules/.bin/deno lint --config deno.json
	cd $(FUNCTIONS) && node_modules/.bin/deno test --allow-env --no-remote --config deno.json

test: install-dev pg15-vector deploy-tools test-functions test-frontend frontend chromium redis
	$(BIN)/ruff check api tests scripts
	$(BIN)/ruff format --check api tests scripts
	$(BIN)/mypy
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status
