# Hearth: `make run` starts everything on this machine, `make test` checks everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# uv on PATH, else the one `make install` put in $(PYTHON)'s packages. Expanded when used,
# so it sees a uv that `make install` has just installed.
UV = $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")

LIB_SRC := $(wildcard libs/*/src)
SERVICE_SRC := $(wildcard services/*/src)
DOMAIN_SRC := $(wildcard services/*/src/*/domain services/*/src/*/domain.py)
TEST_PATHS := $(wildcard libs/*/tests services/*/tests) tests
UNIT := not integration and not e2e

.PHONY: help install tools run test lint fmt typecheck unit integration e2e bench

help:
	@echo "make run     start Hearth on this machine (broker, services, gateway, Prometheus, demo council)"
	@echo "make test    lint, format check, types, unit, integration and end-to-end tests"
	@echo "make bench   run every bench/bench_*.py"
	@echo "make lint    ruff and mypy;  make fmt  format and fix"

install:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || { \
		echo "Installing uv with pip ..."; \
		$(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --break-system-packages uv \
		|| $(PYTHON) -m pip install --quiet --user uv; }
	$(UV) sync --frozen --all-packages || $(UV) sync --all-packages

# Prometheus for the local stack and the dashboard tests. Best effort: never fails.
tools:
	@if command -v prometheus >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Prometheus with apt-get (once) ..."; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends prometheus; } >/tmp/hearth-apt-prometheus.log 2>&1 \
		|| echo "note: could not install Prometheus (see /tmp/hearth-apt-prometheus.log); Hearth runs without it"; \
	else \
		echo "note: Prometheus is not installed; \`sudo apt-get install prometheus\` adds it (optional)"; \
	fi

# `make run ONLY=identity,gateway` runs some services only.
run: install tools
	$(UV) run python -m hearth_devstack run $(if $(ONLY),--only $(ONLY))

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	@$(MAKE) --no-print-directory typecheck

fmt: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

# Strict on the libraries and every service's domain; plain on the rest of the services.
typecheck:
	$(UV) run mypy --strict $(LIB_SRC) $(DOMAIN_SRC)
	$(if $(SERVICE_SRC),$(UV) run mypy $(SERVICE_SRC))

# One pytest stage, one pytest process per test folder (each package's conftest and test
# helpers stay its own; same-named test modules never meet). A folder without tests of the
# stage is fine (pytest exit 5); a stage without any test at all fails.
define pytest_stage
	@echo "== $(1) tests"
	@ran=0; failed=""; \
	for dir in $(TEST_PATHS); do \
		echo "-- $$dir"; rc=0; \
		$(UV) run pytest "$$dir" -m "$(2)" || rc=$$?; \
		case $$rc in 0) ran=1 ;; 5) ;; *) failed="$$failed $$dir" ;; esac; \
	done; \
	if [ -n "$$failed" ]; then echo "$(1) tests failed in:$$failed"; exit 1; fi; \
	if [ $$ran = 0 ]; then echo "no $(1) tests were selected (-m \"$(2)\")"; exit 5; fi
endef

unit:
	$(call pytest_stage,unit,$(UNIT))

integration:
	$(call pytest_stage,integration,integration and not e2e)

e2e:
	$(call pytest_stage,end-to-end,e2e)

test: install tools
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	@$(MAKE) --no-print-directory typecheck
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory e2e

bench: install tools
	@shopt -s nullglob; benches=(bench/bench_*.py); \
	if [ $${#benches[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	for bench in "$${benches[@]}"; do \
		echo "== $$bench"; $(UV) run python "$$bench"; \
	done
