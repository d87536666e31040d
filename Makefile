# msk-autopilot: one entry point for humans and CI.
#   make demo   run the whole autopilot locally (no AWS account, no Docker)
#   make test   lint, types, tests, template checks and sam build
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
TOOLS  := .tools
PY     := $(VENV)/bin/python
SAM    := $(TOOLS)/sam/bin/sam
STAMP  := $(VENV)/.installed
SAMSTAMP := $(TOOLS)/sam/.installed
CHECKOVSTAMP := $(TOOLS)/checkov/.installed

# The Lambda runtime is python3.13: use python3.13 from PATH if it runs, else pyenv's copy.
PYTHON313 := $(shell for c in python3.13 $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -n 1); do \
	  if "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then command -v "$$c" || echo "$$c"; break; fi; done)

.PHONY: help
help:
	@echo "make demo      run the autopilot end to end on this machine"
	@echo "make test      ruff, mypy, pytest (unit, integration, template) and sam build"
	@echo "make build     sam build of every function and the layer"
	@echo "make lint      ruff and mypy only"
	@echo "make bench     consumer throughput and cold-start benchmarks"
	@echo "make fuzz      10,000 fuzzed events per function handler"
	@echo "make clean     remove environments and build output"

.PHONY: python313
python313:
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "error: Python 3.13 (the Lambda runtime) was not found." >&2; \
	  echo "       Install it (e.g. 'pyenv install 3.13' or your OS package python3.13) and retry." >&2; \
	  exit 1; fi

$(STAMP): requirements-dev.txt layers/autopilot/requirements.txt pyproject.toml | python313
	@rm -rf $(VENV)
	$(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r layers/autopilot/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(SAMSTAMP): requirements-tools.txt | python313
	@rm -rf $(TOOLS)/sam
	$(PYTHON313) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	@touch $@

$(CHECKOVSTAMP): requirements-checkov.txt | python313
	@rm -rf $(TOOLS)/checkov
	$(PYTHON313) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

.PHONY: venv
venv: $(STAMP)

.PHONY: lint
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: chromium
# The audit's HTML report test opens the page in Debian's chromium, headless.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "error: the HTML report test needs chromium: run 'sudo apt-get install -y --no-install-recommends chromium' and retry." >&2; \
	    exit 1; \
	  fi; \
	fi

.PHONY: pytest
# The least-privilege check reads the AWS calls the whole main run recorded, so it runs second.
pytest: $(STAMP) $(SAMSTAMP) $(CHECKOVSTAMP) chromium
	rm -rf .pytest-calls
	PATH="$(dir $(PYTHON313)):$$PATH" SAM_CLI="$(abspath $(SAM))" \
	  CHECKOV_CLI="$(abspath $(TOOLS)/checkov/bin/checkov)" $(PY) -m pytest -n 2 -q
	MSK_AUTOPILOT_LEAST_PRIVILEGE=1 $(PY) -m pytest -q tests/least_privilege

.PHONY: fuzz
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -n 2 -q tests/fuzz

.PHONY: build
build: $(SAMSTAMP)
	PATH="$(dir $(PYTHON313)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build --parallel --cached

.PHONY: test
# Three chains side by side, mostly downloads: .venv then lint, SAM then sam build (pip
# installing the layer's dependencies), checkov. pytest then has every environment and the
# built artifacts (the deploy test's `sam build --cached` finds nothing to do).
test:
	$(MAKE) -j3 lint build $(CHECKOVSTAMP)
	$(MAKE) pytest

.PHONY: bench
# Both benchmarks always run; the target fails if either misses one of its targets.
bench: $(STAMP)
	@status=0; \
	$(PY) bench/consumer_bench.py --enforce-targets || status=1; \
	$(PY) bench/cold_start.py || status=1; \
	exit $$status

.PHONY: demo
demo: $(STAMP)
	$(VENV)/bin/msk-autopilot demo

.PHONY: clean
clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .mypy_cache .ruff_cache .pytest_cache
