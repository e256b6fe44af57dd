"""The platform's configuration and shared names, free of the CDK.

- `loader`: the one reader of cdk.json; `load_config` validates the ``platform`` context once (pydantic models in
  `settings` and `platform`), every error one sentence naming the dotted key.
- `naming`, `alarms`, `outputs`: names that the CDK app, the pipeline, the pre-flight and health gates, the integration
  suite and the local emulator must agree on.
"""

from platform_config.errors import ConfigError
from platform_config.loader import CONTEXT_KEY, cdk_context, load_config, load_config_file
from platform_config.platform import ENVIRONMENT_NAMES, NotificationSettings, PipelineSettings, PlatformConfig
from platform_config.settings import EnvironmentSettings

__all__ = [
    "CONTEXT_KEY",
    "ENVIRONMENT_NAMES",
    "ConfigError",
    "EnvironmentSettings",
    "NotificationSettings",
    "PipelineSettings",
    "PlatformConfig",
    "cdk_context",
    "load_config",
    "load_config_file",
]
