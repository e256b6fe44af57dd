"""Integration tests after a deployment: tests/integration against the deployed stack's outputs, as the stage's own
integration-test role (the step itself holds nothing but sts:AssumeRole on it), with a JUnit report.

Approval-gated environments (prod) run only the read-only smoke subset; the dead-letter file check needs the EFS mount,
which the pipeline's CodeBuild (outside the stage's VPC) lacks.
"""

from __future__ import annotations

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from pipeline.steps.buildspec import BuildspecStep
from pipeline.steps.synth import report_statement
from platform_config import EnvironmentSettings
from platform_config.naming import integration_role_name, role_arn, stack_name

FULL_SUITE = "not efs_mount"
SMOKE_SUITE = "smoke"


class IntegrationTestsStep(BuildspecStep):
    def __init__(
        self,
        stack: Stack,
        settings: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        reports: codebuild.IReportGroup,
    ) -> None:
        test_role = role_arn(settings.account, integration_role_name(settings.name), stack.partition)
        super().__init__(
            "IntegrationTests",
            buildspec="integration",
            reports={"integration-tests": reports.report_group_arn},
            input=source,
            env={
                "STACK_NAME": stack_name(settings.name),
                "AWS_REGION": settings.region,
                "ENVIRONMENT": settings.name,
                "TEST_ROLE_ARN": test_role,
                "PYTEST_MARKERS": SMOKE_SUITE if settings.requires_approval else FULL_SUITE,
            },
            role_policy_statements=[
                report_statement(reports),
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[test_role]),
            ],
        )
