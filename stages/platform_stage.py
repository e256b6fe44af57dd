"""IotPlatformStage: deploys one environment of the platform (its account, region and settings)."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from lib.api_gateway_account import ApiGatewayAccountStack
from lib.tap_stack import TapStack, TapStackProps
from platform_config import EnvironmentSettings
from platform_config.naming import ACCOUNT_SETTINGS_STACK, PLATFORM_STACK_ID, stack_name, stage_id


class IotPlatformStage(Stage):
    """One deployment of an environment (dev, staging, prod, or one more region of one): a TapStack in its account
    and region, named by platform_config.naming; with ``account_settings``, also the settings its account and region
    need once (API Gateway's logging role), deployed first: the first deployment there in promotion order holds them."""

    def __init__(
        self,
        scope: Construct,
        *,
        settings: EnvironmentSettings,
        integration_test_account: str | None = None,
        account_settings: bool = False,
    ) -> None:
        env = Environment(account=settings.account, region=settings.region)
        super().__init__(scope, stage_id(settings.name), env=env)
        self.settings = settings
        self.platform = TapStack(
            self,
            PLATFORM_STACK_ID,
            TapStackProps(
                environment_suffix=settings.name,
                settings=settings,
                integration_test_account=integration_test_account,
                env=env,
                stack_name=stack_name(settings.name),
                description=f"IoT sensor platform ({settings.name})",
            ),
        )
        self.account_settings: ApiGatewayAccountStack | None = None
        if account_settings:
            self.account_settings = ApiGatewayAccountStack(
                self,
                "ApiGatewayAccount",
                env=env,
                stack_name=ACCOUNT_SETTINGS_STACK,
                description="API Gateway's account settings for every IoT platform environment of this account/region",
            )
            self.platform.add_stack_dependency(self.account_settings)
        Tags.of(self).add("Project", "iot-sensor-platform")
        Tags.of(self).add("Environment", settings.name)
