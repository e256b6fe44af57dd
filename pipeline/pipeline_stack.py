"""PipelineStack: the CodePipeline (V2) that updates itself and then deploys dev, staging and prod in order.

Source is the repository's `main` branch through a CodeConnections connection (a push starts a run). The Synth
step runs buildspecs/synth.yml: unit tests with a JUnit report into a CodeBuild report group, then `cdk synth` with
every gate. Self-mutation updates the pipeline before any deployment, all assets are published by one CodeBuild
project, and the environments are deployed in the configured order; an environment whose config sets
`requires_approval` waits for a ManualApprovalStep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from aws_cdk import Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from constructs import Construct

from lib.compliance import acknowledge
from stages.config import PlatformConfig
from stages.platform_stage import IotPlatformStage

SYNTH_BUILDSPEC = Path(__file__).resolve().parents[1] / "buildspecs" / "synth.yml"
REPORT_ACTIONS = (
    "codebuild:BatchPutCodeCoverages",
    "codebuild:BatchPutTestCases",
    "codebuild:CreateReport",
    "codebuild:UpdateReport",
)


def synth_build_spec(report_group_arn: str, path: Path = SYNTH_BUILDSPEC) -> dict[str, Any]:
    """The synth buildspec from buildspecs/, with its unit-test report bound to the given report group."""
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    spec["reports"] = {report_group_arn: spec["reports"]["unit-tests"]}
    return spec


class PipelineStack(Stack):
    """Self-mutating CDK pipeline that promotes the platform through every configured environment."""

    def __init__(self, scope: Construct, construct_id: str, *, config: PlatformConfig, **kwargs: Any) -> None:
        settings = config.pipeline
        super().__init__(
            scope, construct_id, env=Environment(account=settings.account, region=settings.region), **kwargs
        )
        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn, trigger_on_push=True
        )
        self.unit_test_reports = codebuild.ReportGroup(
            self,
            "UnitTestReports",
            type=codebuild.ReportGroupType.TEST,
            removal_policy=RemovalPolicy.DESTROY,
        )
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=source,
            commands=[],
            partial_build_spec=codebuild.BuildSpec.from_object(
                synth_build_spec(self.unit_test_reports.report_group_arn)
            ),
            primary_output_directory="cdk.out",
            role_policy_statements=[
                iam.PolicyStatement(actions=list(REPORT_ACTIONS), resources=[self.unit_test_reports.report_group_arn])
            ],
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="iot-sensor-platform",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=synth,
            self_mutation=True,
            publish_assets_in_parallel=False,
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                )
            ),
        )
        self.stages: list[IotPlatformStage] = []
        for env in config.environments:
            name = env.name.capitalize()
            stage = IotPlatformStage(self, name, settings=env)
            pre: list[pipelines.Step] = []
            if env.requires_approval:
                pre.append(pipelines.ManualApprovalStep(f"PromoteTo{name}", comment=f"Promote to {env.name}?"))
            self.pipeline.add_wave(name, pre=pre).add_stage(stage)
            self.stages.append(stage)
        self.pipeline.build_pipeline()
        self._acknowledge_generated_grants(settings.account, settings.region)

    def _acknowledge_generated_grants(self, account: str, region: str) -> None:
        """Acknowledge the wildcard grants CDK Pipelines generates for its own roles (reviewed, listed below)."""
        pipeline = self.pipeline.pipeline
        bucket = self.get_logical_id(pipeline.artifact_bucket.node.default_child)  # type: ignore[arg-type]
        project_ids = {
            name: self.get_logical_id(project.node.default_child)  # type: ignore[arg-type]
            for name, project in (
                ("synth", self.pipeline.synth_project),
                ("mutation", self.pipeline.self_mutation_project),
            )
        }
        acknowledge(
            pipeline.artifact_bucket,
            "The artifact bucket holds only transient pipeline artifacts, encrypted with the pipeline's KMS key and "
            "reachable only by the pipeline's roles (CloudTrail records access); an access-log bucket would need "
            "its own log bucket in turn.",
            "AwsSolutions-S1",
        )
        artifact_grants = [
            f"AwsSolutions-IAM5[Action::{action}]"
            for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
        ] + [
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
        ]
        codebuild_grants = [
            f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/*]",
            f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/*]",
        ] + [
            grant
            for project in project_ids.values()
            for grant in (
                f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{project}>:*]",
                f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/<{project}>-*]",
            )
        ]
        acknowledge(
            self.pipeline,
            "CDK Pipelines grants its own roles read/write on objects of the pipeline's artifact bucket (s3 and kms "
            "action groups, objects under the bucket ARN) and on their own CodeBuild log groups and report groups; "
            "every grant is scoped to this pipeline's bucket, key and projects.",
            *artifact_grants,
            *codebuild_grants,
        )
        acknowledge(
            self.pipeline,
            "Self-mutation and asset publishing assume the CDK bootstrap roles (cdk-*) of the target accounts and "
            "call ecr:GetAuthorizationToken / cloudformation:DescribeStacks, which take no narrower resource.",
            "AwsSolutions-IAM5[Resource::*]",
            f"AwsSolutions-IAM5[Resource::arn:*:iam::{account}:role/*]",
        )
