# CDK app: pinned CLI and Node.js LTS from package.json, `make synth` with every gate, and the synth benchmark.
# Included by the top-level Makefile (which defines VENV, VPY, setup and test).

NODE_STAMP := node_modules/.installed
NODE_BIN := $(CURDIR)/node_modules/.bin
# node_modules/.bin first: the pinned `cdk` CLI, and npm's `node` package (Node 22 LTS) for the CLI and for jsii.
CDK_ENV := PATH="$(NODE_BIN):$$PATH" CDK_DISABLE_CLI_TELEMETRY=true
CDK_SYNTH := $(CDK_ENV) npx --no-install cdk synth --quiet --no-notices --no-version-reporting
# With CDK_APP_COVERAGE=1 (make test), the app runs under coverage, so the gate counts what the synth executes.
comma := ,
CDK_APP := $(if $(CDK_APP_COVERAGE),--app "$(VENV)/bin/coverage run --source=$(subst $() ,$(comma),$(COVERED)) app.py")
BENCH_RUNS ?= 5

.PHONY: synth bench-synth node-deps

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: $(NODE_STAMP) ## install the pinned CDK CLI and Node.js 22 (npm ci)

# Needs only the Python and Node packages (not the servers `setup` installs), so CodeBuild runs it as is.
synth: $(VENV)/.installed $(NODE_STAMP) ## cdk synth with every gate (cdk-nag, CloudFormation validation with validation/*.rego) and a summary
	rm -rf cdk.out .coverage
	$(CDK_SYNTH) $(CDK_APP)
	$(VPY) scripts/synth_summary.py cdk.out

bench-synth: setup $(NODE_STAMP) ## median synth wall time of the whole app vs a bare one-stack app; ends with synth_ratio=<x>
	$(CDK_ENV) $(VPY) scripts/bench_synth.py --runs $(BENCH_RUNS)

TEST_PREREQS += $(NODE_STAMP)
