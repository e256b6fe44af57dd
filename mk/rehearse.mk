# The rehearsal: the synthesized dev stage (cdk.out) deployed into moto, the processor run on it, the integration
# suite run against its outputs (localaws/rehearsal.py). `make test` runs it too, as tests/rehearsal.
# Included by the top-level Makefile (which defines VENV, VPY and setup; mk/cdk.mk defines synth).

.PHONY: rehearse

rehearse: setup synth ## deploy the dev stage into moto and run the integration suite; ends with integration_passed=<n> integration_failed=<m>
	$(VPY) scripts/rehearse.py
