#!/usr/bin/env python3
"""CDK entry point: validate the platform config from cdk.json once, then build the PipelineStack.

The pipeline stack contains one IotPlatformStage per environment (dev, staging, prod). cdk-nag (AwsSolutions) runs
over the whole app as a validation plugin, so an unacknowledged finding fails `cdk synth`.
"""

from __future__ import annotations

import sys

from aws_cdk import App

from lib.compliance import add_compliance_checks
from pipeline.pipeline_stack import PipelineStack
from platform_config import CONTEXT_KEY, ConfigError, PlatformConfig, load_config


def build_app(app: App) -> PipelineStack:
    """Add the whole platform to ``app``; raises ConfigError on invalid configuration."""
    config: PlatformConfig = load_config(app.node.try_get_context(CONTEXT_KEY))
    add_compliance_checks(app)
    return PipelineStack(app, "Pipeline", config=config, description="IoT sensor platform delivery pipeline")


def main(app: App | None = None) -> int:
    """Build and synthesize the app; an invalid config prints one sentence to stderr and returns 1."""
    app = app if app is not None else App()
    try:
        build_app(app)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
