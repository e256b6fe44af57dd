"""Steps that run side by side with the Synth action, before self-mutation and any asset or deployment.

CDK Pipelines has no public way to run a step in parallel with the synth: every step it places comes after the Assets
stage, or (as a dependency of the synth) before the synth. So once the pipeline is built, each step here becomes a
CodeBuild action of its own in the synth action's stage, with the same run order, through the public API of the
built `codepipeline.Pipeline` (`CodePipeline.pipeline`, `IStage.add_action`). The synth's stage is found by its action,
not by a stage name, and the step keeps its own buildspec, variables, role statements and timeout, rendered into a
`PipelineProject` with the pipeline's CodeBuild defaults (image, compute, download caches).
"""

from __future__ import annotations

import copy

from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import pipelines
from constructs import Construct

from lib.compliance import acknowledge
from pipeline.built_pipeline import stage_of
from pipeline.codebuild import BUILD_IMAGE, STEP_COMPUTE, BuildCache, with_runtime
from pipeline.steps.buildspec import BuildspecStep


class BesideSynth(Construct):
    """CodeBuild actions in the synth's stage (run order of the synth), built from `pipelines.CodeBuildStep`s."""

    def __init__(self, scope: Construct, construct_id: str, *, cache: BuildCache) -> None:
        super().__init__(scope, construct_id)
        self.cache = cache
        self.steps: list[BuildspecStep] = []
        self.projects: dict[str, codebuild.PipelineProject] = {}

    def add(self, step: BuildspecStep) -> None:
        self.steps.append(step)

    def attach(self, pipeline: pipelines.CodePipeline, synth: pipelines.Step) -> None:
        """Call after `build_pipeline()`: add every step to the stage that holds ``synth``'s action."""
        stage, synth_action = stage_of(pipeline.pipeline, synth.id)
        source = synth_action.action_properties.inputs[0]
        key = pipeline.pipeline.artifact_bucket.encryption_key
        for step in self.steps:
            cache = step.cache or self.cache.cache
            document = {**copy.deepcopy(step.document), "cache": self.cache.document}
            if step.build_environment is None:  # CodeBuild's image: the runtime every project shares
                document = with_runtime(document)
            project = codebuild.PipelineProject(
                self,
                step.id,
                build_spec=codebuild.BuildSpec.from_object(document),
                environment=step.build_environment
                or codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=STEP_COMPUTE),
                environment_variables={
                    name: codebuild.BuildEnvironmentVariable(value=value) for name, value in step.env.items()
                },
                cache=cache,
                timeout=step.timeout,
                role=step.role,
                encryption_key=key,
                description=f"Pipeline step {step.id}, beside the synth",
            )
            for statement in step.role_policy_statements or []:
                project.add_to_role_policy(statement)
            stage.add_action(
                actions.CodeBuildAction(
                    action_name=step.id,
                    project=project,
                    input=source,
                    run_order=synth_action.action_properties.run_order,
                )
            )
            self.projects[step.id] = project
            for reason, rule_ids in step.acknowledgements:
                acknowledge(project, reason, *rule_ids)
