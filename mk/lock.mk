# Hash-pinned requirements of the boto3-only pipeline steps (pre-flight, integration suite), which CodeBuild installs
# with `pip install --require-hashes --no-cache-dir -r <file>` and runs from the source tree. Each step's
# requirements.in names its direct pins; `make lock` compiles every one into the requirements.txt beside it, each
# package pinned with its hashes (pip-tools, from requirements-dev.txt). LOCK_ARGS=--upgrade also moves the transitive
# pins. Included by the top-level Makefile (which defines VENV).

LOCK_INPUTS := $(wildcard preflight/requirements.in preflight/*/requirements.in tests/integration/requirements.in)
LOCK_ARGS ?=
# No index or find-links lines: the files must install the same anywhere, from whatever index pip is configured with.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-header \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

.PHONY: lock

lock: $(VENV)/.installed ## recompile the hash-pinned requirements.txt of every boto3-only step (pip-tools)
	@for in in $(LOCK_INPUTS); do \
		echo "lock: $$in -> $${in%.in}.txt"; \
		$(PIP_COMPILE) --output-file "$${in%.in}.txt" "$$in" || exit 1; \
	done
