"""Synth: the one `cdk synth` of the app with every gate, then the unit tests on that same cloud assembly.

`make synth` synthesizes (cdk-nag and CloudFormation validation fail it) and writes cdk.out; `pytest tests/unit` then
reads cdk.out (JUnit report into the unit-test report group). cdk.out is the step's output, which self-mutation and
every deployment use.
"""

from __future__ import annotations

from aws_cdk import aws_codebuild as codebuild
from aws_cdk import pipelines

from pipeline.codebuild import report_statement
from pipeline.steps.buildspec import BuildspecStep


class SynthStep(BuildspecStep):
    def __init__(self, source: pipelines.IFileSetProducer, reports: codebuild.IReportGroup) -> None:
        super().__init__(
            "Synth",
            buildspec="synth",
            reports={"unit-tests": reports.report_group_arn},
            input=source,
            primary_output_directory="cdk.out",
            role_policy_statements=[report_statement(reports)],
        )
