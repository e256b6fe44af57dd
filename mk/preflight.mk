# Pre-flight and health checks of one environment against its AWS account (preflight/). Included by the Makefile.
#   make preflight ENV=staging [ROLE_ARN=arn:aws:iam::...:role/...]   can this environment deploy right now?
#   make bake ENV=staging                                              did its alarms stay OK for the bake time?

ENV ?= dev
ROLE_ARN ?=
PREFLIGHT_ARGS = --env $(ENV) $(if $(ROLE_ARN),--role-arn $(ROLE_ARN))

.PHONY: preflight bake

preflight: $(VENV)/.installed ## pre-flight checks of ENV (default dev) against its account: versions, sizes, quotas
	$(VPY) -m preflight $(PREFLIGHT_ARGS)

bake: $(VENV)/.installed ## ENV's alarms must stay OK for its configured monitoring.bake_minutes
	$(VPY) -m preflight.health bake $(PREFLIGHT_ARGS)
