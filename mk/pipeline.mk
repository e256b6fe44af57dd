# The delivery pipeline's lead time (pipeline/lead_time.py; the CDK Pipelines-defaults baseline is built by
# scripts/bench_pipeline.py itself). Included by the top-level Makefile
# (which defines VENV, VPY and setup; mk/cdk.mk defines NODE_STAMP, CDK_ENV and the synth target).

.PHONY: bench-pipeline

bench-pipeline: synth ## critical path + CodeBuild projects vs CDK Pipelines' defaults; ends with critical_path=<n> default_critical_path=<m> codebuild_projects=<p> default_codebuild_projects=<q>
	$(CDK_ENV) $(VPY) scripts/bench_pipeline.py --template cdk.out/Pipeline.template.json

bench: bench-pipeline
