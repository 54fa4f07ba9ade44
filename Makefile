# linli — two commands: `make run` (try the bot locally) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SANDBOX_PORT ?= 8081
# test processes for `make test` (pytest-xdist; each has its own PostgreSQL database): TEST_WORKERS=0 runs in one
TEST_WORKERS ?= 2

# `make run` talks to the local WeChat sandbox, never to real WeChat servers.
SANDBOX_ENV := LINLI_WECHAT_API_BASE=$${LINLI_WECHAT_API_BASE:-http://127.0.0.1:$(SANDBOX_PORT)} LINLI_DELIVERY_IN_WEB=$${LINLI_DELIVERY_IN_WEB:-1}

.PHONY: run test check install sandbox serve bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/linli db upgrade
	$(SANDBOX_ENV) $(BIN)/linli org demo
	@$(BIN)/linli sandbox --port $(SANDBOX_PORT) --callback http://127.0.0.1:$${LINLI_PORT:-8080}/wechat & \
	  sandbox=$$!; trap "kill $$sandbox 2>/dev/null" EXIT INT TERM; \
	  sleep 1; $(SANDBOX_ENV) $(BIN)/linli menu push || true; \
	  $(SANDBOX_ENV) $(BIN)/linli serve

test: $(STAMP) check
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# the checks that keep the code one shape: lint and import order, types (configured in pyproject.toml)
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/webhook.py

clean:
	rm -rf $(VENV) data .pytest_cache
