# Hash-pinned requirements of the boto3-only pipeline steps (pre-flight, integration suite), which CodeBuild installs
# with `pip install --require-hashes --no-cache-dir -r <file>` and runs from the source tree. Each requirements.in
# names the direct pins; `make lock` compiles it into the requirements.txt beside it, every package pinned with its
# hashes (pip-tools, from requirements-dev.txt). LOCK_ARGS=--upgrade also moves the transitive pins.
# Included by the top-level Makefile (which defines VENV).

LOCKED := preflight/requirements.txt tests/integration/requirements.txt
LOCK_ARGS ?=
# No index or find-links lines: the files must install the same anywhere, from whatever index pip is configured with.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

.PHONY: lock

lock: $(VENV)/.installed ## recompile the hash-pinned requirements.txt of pre-flight and the integration suite (pip-tools)
	$(PIP_COMPILE) --output-file preflight/requirements.txt preflight/requirements.in
	$(PIP_COMPILE) --output-file tests/integration/requirements.txt tests/integration/requirements.in
