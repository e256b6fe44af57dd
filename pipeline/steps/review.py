"""Review: before anything deploys, what this revision would change in an environment (a report: per resource added,
modified, replaced, removed; IAM and network changes flagged), and the stateful-replacement guard, which stops the
change before CloudFormation is called (preflight/review).

It reads the synthesized cdk.out (the synth's output) and, read-only, each deployment's deployed template (every
region of the environment) as that account's CDK lookup role. It exports REVIEW_SUMMARY (one line), REVIEW_CHANGES
(a count), REVIEW_URL (this build, with the report), which the manual approval shows and links and a stage condition
can read, and REVIEW_BASE (what it compared with), which the pre-flight after the approval re-checks.
"""

from __future__ import annotations

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from pipeline.codebuild import report_statement
from pipeline.steps.buildspec import BuildspecStep
from platform_config import EnvironmentSettings
from platform_config.naming import bootstrap_role_arn, stage_id


class ReviewStep(BuildspecStep):
    def __init__(
        self,
        stack: Stack,
        environment: EnvironmentSettings,
        deployments: tuple[EnvironmentSettings, ...],
        source: pipelines.IFileSetProducer,
        cloud_assembly: pipelines.IFileSetProducer,
        reports: codebuild.IReportGroup,
    ) -> None:
        lookups = [bootstrap_role_arn("lookup", d.account, d.region, stack.partition) for d in deployments]
        super().__init__(
            f"Review{stage_id(environment.name)}",
            buildspec="review",
            reports={"review": reports.report_group_arn},
            input=source,
            additional_inputs={"cdk.out": cloud_assembly},
            env={"ENVIRONMENT": environment.name},
            role_policy_statements=[
                report_statement(reports),
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=lookups),
            ],
            cache=codebuild.Cache.none(),  # hash-pinned packages only, nothing another project wrote
        )
        # CDK Pipelines wires a variable only through one reference object: make each once, use it everywhere.
        self.summary = self.exported_variable("REVIEW_SUMMARY")
        self.changes = self.exported_variable("REVIEW_CHANGES")
        self.url = self.exported_variable("REVIEW_URL")
        self.base = self.exported_variable("REVIEW_BASE")
