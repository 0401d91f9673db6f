# Two commands for a newcomer: `make up` and `make test`. Both build .venv from the
# lock files in requirements/ (every package pinned, every download hash-checked) when
# it is missing or older than them. `make lock` rewrites the lock files from
# pyproject.toml (see requirements/README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
LOCKS := requirements/build.txt requirements/dev.txt requirements/runtime.txt
# --universal: one lock for Linux and macOS, CPython 3.11 to 3.14.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --generate-hashes \
	--python-version 3.11 --custom-compile-command "make lock"

.PHONY: up test lint format bench bench-scale clean-data browser lock

$(STAMP): pyproject.toml requirements/build.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SmartCrop needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/build.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
	  echo "the lock files do not satisfy pyproject.toml: run make lock"; exit 1; }
	@touch $(STAMP)

# After changing a pin in pyproject.toml (or to take newer transitive releases):
# rewrites the three lock files, then reinstalls from them.
lock: $(STAMP)
	$(UV_COMPILE) requirements/build.in -o requirements/build.txt
	$(UV_COMPILE) pyproject.toml --extra dev -o requirements/dev.txt
	$(UV_COMPILE) pyproject.toml -c requirements/dev.txt -o requirements/runtime.txt
	$(MAKE) $(STAMP)

up: $(STAMP)
	$(BIN)/smartcrop up

test: $(STAMP) lint browser
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The crop page's test drives Debian's chromium (Playwright's own browser download
# does not work on these machines). Installed only when missing and we are root;
# otherwise that one test is skipped and says why (in CI it must run: CI=true).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "crop-page test: installing Debian's chromium (apt-get update; apt-get install -y chromium)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || { echo "crop-page test: installing chromium failed"; [ -z "$$CI" ]; }; \
	else echo "crop-page test: no /usr/bin/chromium and not root (or no apt-get): it will be skipped"; fi

# mypy: strict over the production packages ([tool.mypy] in pyproject.toml); its cache
# (.mypy_cache) makes a second run take about a second.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format --quiet .

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

# Costs at scale: the API at 100,000 and at 3,000,000 work items (about 20 minutes,
# 10 GB of disk in a temporary folder); results in bench/results/scale.{json,md}.
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale

clean-data:
	rm -rf .smartcrop
