# The rehearsal: the synthesized dev stage (cdk.out) deployed into moto as CDK Pipelines deploys it, the processor run
# on it, the integration suite run against its outputs, then the day-2 and review scenarios on the same emulated
# account (localaws/rehearsal/). `make test` runs it too, as tests/rehearsal.
# Included by the top-level Makefile (which defines VENV, VPY and setup; mk/cdk.mk defines synth).

.PHONY: rehearse

rehearse: setup synth ## deploy the dev stage into moto, run the integration suite, day 2 and review; ends with integration_passed=<n> ... review_failed=<s>
	$(VPY) scripts/rehearse.py
