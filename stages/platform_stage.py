"""IotPlatformStage: deploys one environment of the platform (its account, region and settings)."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from lib.settings import EnvironmentSettings
from lib.tap_stack import TapStack, TapStackProps


class IotPlatformStage(Stage):
    """One environment (dev, staging or prod): a TapStack in that environment's account and region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        integration_test_account: str | None = None,
    ) -> None:
        env = Environment(account=settings.account, region=settings.region)
        super().__init__(scope, construct_id, env=env)
        self.settings = settings
        self.platform = TapStack(
            self,
            "Platform",
            TapStackProps(
                environment_suffix=settings.name,
                settings=settings,
                integration_test_account=integration_test_account,
                env=env,
                description=f"IoT sensor platform ({settings.name})",
            ),
        )
        Tags.of(self).add("Project", "iot-sensor-platform")
        Tags.of(self).add("Environment", settings.name)
