"""Pull-request validation: every pull request to the pipeline's branch runs the synth step's gates, the processor's
tests, and the change each environment would see (preflight/review, guard included) before it can be merged. Nothing
is deployed: the projects may assume only the environments' read-only CDK lookup roles.

Native GitHub status checks come from CodeBuild webhooks (`report_build_status`): one check per project
("iot-platform/gates", "iot-platform/processor-tests"), whose link opens the build, its log and its reports (unit
tests, and one review case per changed resource). A CodePipeline V2 pull-request trigger would run the whole pipeline
(self-mutation, deployments) on unmerged code and reports no status to GitHub, so it is not used. Builds of pull
requests from forks wait for a comment of a maintainer (CodeBuild's pull-request build policy), since they run code
that may read the environments' deployed templates. Their download caches live in a bucket of their own, since a
pull request's code could otherwise plant packages the pipeline's synth would restore.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import Construct

from lib.compliance import acknowledge
from pipeline.codebuild import BUILD_IMAGE, SYNTH_COMPUTE, BuildCache, report_statement, with_runtime
from pipeline.repository import repository_project
from pipeline.steps.buildspec import buildspec_document
from pipeline.steps.processor_tests import ON_PROCESSOR_BASE, processor_test_environment
from platform_config import PipelineSettings

EVENTS = (
    codebuild.EventAction.PULL_REQUEST_CREATED,
    codebuild.EventAction.PULL_REQUEST_UPDATED,
    codebuild.EventAction.PULL_REQUEST_REOPENED,
)


class PullRequestValidation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: PipelineSettings,
        lookup_roles: list[str],
        unit_test_reports: codebuild.IReportGroup,
        review_reports: codebuild.IReportGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        # A cache bucket of their own: code of a pull request must never write what the pipeline's builds restore.
        cache = BuildCache(self)
        reports = {"unit-tests": unit_test_reports.report_group_arn, "review": review_reports.report_group_arn}
        self.gates = self._project(
            "Gates",
            "iot-platform/gates",
            settings,
            with_runtime(buildspec_document("pull-request", reports)) | {"cache": cache.document},
            codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=SYNTH_COMPUTE),
            cache.cache,
        )
        self.gates.add_to_role_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=lookup_roles))
        cache.acknowledge_user(self.gates)
        self.processor_tests = self._project(
            "ProcessorTests",
            "iot-platform/processor-tests",
            settings,
            buildspec_document("processor-tests", {"processor-tests": unit_test_reports.report_group_arn}),
            processor_test_environment(),
            None,
        )
        # Each writes only the report groups its buildspec names.
        self.gates.add_to_role_policy(report_statement(unit_test_reports, review_reports))
        self.processor_tests.add_to_role_policy(report_statement(unit_test_reports))
        reason, rule_ids = ON_PROCESSOR_BASE
        acknowledge(self.processor_tests, reason, *rule_ids)

    def _project(
        self,
        name: str,
        context: str,
        settings: PipelineSettings,
        spec: dict[str, object],
        environment: codebuild.BuildEnvironment,
        cache: codebuild.Cache | None,
    ) -> codebuild.Project:
        source = {
            "webhook": True,
            "webhook_filters": [
                # Anchored: and_base_branch_is() would also match any branch the name starts.
                codebuild.FilterGroup.in_event_of(*EVENTS).and_base_ref_is(f"^refs/heads/{settings.branch}$")
            ],
            "report_build_status": True,
            "build_status_context": context,
        }
        project = repository_project(
            self,
            name,
            settings,
            source,
            build_spec=codebuild.BuildSpec.from_object(spec),
            environment=environment,
            cache=cache,
            timeout=Duration.minutes(45),
            description=f"Pull requests to {settings.branch}: {name}, never deploys",
        )
        cfn = project.node.default_child
        assert isinstance(cfn, codebuild.CfnProject)
        cfn.add_property_override(
            "Triggers.PullRequestBuildPolicy",
            {"RequiresCommentApproval": "FORK_PULL_REQUESTS", "ApproverRoles": ["GITHUB_MAINTAIN", "GITHUB_ADMIN"]},
        )
        return project
