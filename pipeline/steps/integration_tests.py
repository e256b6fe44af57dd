"""Integration tests after a deployment: tests/integration against the deployed stack's outputs, as the stage's own
integration-test role, with a JUnit report.

The step runs with a role of its own under a fixed name (`integration_runner_role_name`), the one principal the
stage's test role trusts; it holds nothing but sts:AssumeRole on that role and its report group. The environment's
`integration_suite` chooses the tests: "smoke" runs the read-only subset (`-m smoke`), "full" everything but the
dead-letter file check, which needs the EFS mount the pipeline's CodeBuild (outside the stage's VPC) lacks.
"""

from __future__ import annotations

from aws_cdk import Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from pipeline.codebuild import report_statement
from pipeline.steps.buildspec import BuildspecStep
from platform_config import EnvironmentSettings
from platform_config.naming import integration_role_name, integration_runner_role_name, role_arn, stack_name, stage_id

PYTEST_MARKERS = {"full": "not efs_mount", "smoke": "smoke"}


class IntegrationTestsStep(BuildspecStep):
    def __init__(
        self,
        stack: Stack,
        settings: EnvironmentSettings,
        source: pipelines.IFileSetProducer,
        reports: codebuild.IReportGroup,
    ) -> None:
        test_role = role_arn(settings.account, integration_role_name(settings.name), stack.partition)
        self.runner = iam.Role(
            stack,
            f"IntegrationTestsRunner{stage_id(settings.name)}",
            role_name=integration_runner_role_name(settings.name),
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"The pipeline's integration-test step of {settings.name}",
        )
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
                "PYTEST_MARKERS": PYTEST_MARKERS[settings.integration_suite],
            },
            role=self.runner,
            role_policy_statements=[
                report_statement(reports),
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[test_role]),
            ],
            cache=codebuild.Cache.none(),  # hash-pinned packages only, nothing another project wrote
        )
