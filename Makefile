# One entry point for every task. Each target sets up what it needs on a fresh machine.
#   make test    every test: processor (real PostgreSQL + Redis + moto), CDK unit tests, rehearsal
#   make synth   synthesize the whole app with every gate (see mk/cdk.mk)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Coverage gate on the CDK app, its configuration and the pre-flight checks, counting what the app's own `cdk synth`
# executes (make synth with CDK_APP_COVERAGE=1) and what the tests do (the processor is exercised mostly in child
# processes, as it runs in ECS).
COVERED := lib stages pipeline preflight platform_config
COVERAGE := $(addprefix --cov=,$(COVERED)) --cov-append --cov-report=term --cov-fail-under=95
# Extra prerequisites other parts of the build add to `make test` (mk/*.mk).
TEST_PREREQS :=

.PHONY: help setup system-packages test lint bench clean

help:
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

$(VENV)/.installed: requirements.txt requirements-dev.txt services/processor/requirements.txt services/processor/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed system-packages ## create .venv and install every Python and system package

system-packages: ## PostgreSQL and Redis servers (Debian packages) for the processor's tests
	@scripts/install-system-packages.sh

include mk/*.mk

test: setup $(TEST_PREREQS) ## one gated synth, then every test on its cloud assembly (JUnit report in build/junit.xml)
	$(MAKE) --no-print-directory synth CDK_APP_COVERAGE=1
	$(VPY) -m pytest $(COVERAGE) --junitxml=build/junit.xml $(PYTEST_ARGS)

bench: bench-processor bench-synth ## every benchmark

lint: setup ## ruff over all Python
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean: ## remove build output (keeps .venv and node_modules)
	rm -rf cdk.out cfn-outputs .pytest_cache .coverage* junit*.xml build
