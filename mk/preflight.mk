# What the pipeline's read-only checks say about one environment, run by hand against its AWS account (preflight/).
# Included by the Makefile. Each runs with the caller's credentials, or as ROLE_ARN where it takes one.
#   make preflight ENV=staging [ROLE_ARN=arn:aws:iam::...:role/...]   can this environment deploy right now?
#   make review ENV=prod                                               what would deploying cdk.out change there?
#   make drift [ENV=prod]                                              did anything change outside git?

ENV ?= dev
ROLE_ARN ?=
PREFLIGHT_ARGS = --env $(ENV) $(if $(ROLE_ARN),--role-arn $(ROLE_ARN))

.PHONY: preflight review drift

preflight: $(VENV)/.installed ## pre-flight checks of ENV (default dev) against its account: versions, sizes, quotas
	$(VPY) -m preflight $(PREFLIGHT_ARGS)

review: $(VENV)/.installed ## the change cdk.out makes to ENV's deployed stacks, and the stateful-replacement guard
	@test -f cdk.out/manifest.json || { echo "cdk.out not found: run make synth first"; exit 1; }
	$(VPY) -m preflight.review --env $(ENV)

drift: $(VENV)/.installed ## drift of ENV's deployed stacks (every deployment without ENV) from what git deployed
	$(VPY) -m preflight.drift $(if $(filter command line environment,$(origin ENV)),--env $(ENV))
