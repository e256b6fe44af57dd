"""What the pre-flight command needs around its checks: the environment's config from cdk.json, an AWS session as
the environment's role (refreshed before it expires), the shared command-line arguments and exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from platform_config import ConfigError, EnvironmentSettings, load_config_file
from platform_config.loader import CDK_JSON
from platform_config.naming import bootstrap_role_arn
from preflight.session import assumed_role_session


def load_environment(name: str, cdk_json: Path = CDK_JSON) -> EnvironmentSettings:
    """The validated settings of one deployment, as `cdk synth` sees them (raises ConfigError)."""
    return load_config_file(cdk_json).environment(name)


def session_for(env: EnvironmentSettings, role_arn: str | None, purpose: str) -> boto3.Session:
    """A boto3 session in the environment's region: as ``role_arn`` when given (cross-account), assumed again before
    its credentials expire; else as the caller."""
    if not role_arn:
        return boto3.Session(region_name=env.region)
    return assumed_role_session(role_arn, f"iot-{purpose}-{env.name}", env.region)


def lookup_session(env: EnvironmentSettings, lookup_role: bool, purpose: str) -> boto3.Session:
    """`session_for` as the deployment's CDK lookup role when ``lookup_role`` (in the partition of its region, as the
    pipeline grants it), else as the caller."""
    if not lookup_role:
        return session_for(env, None, purpose)
    partition = boto3.Session().get_partition_for_region(env.region)
    return session_for(env, bootstrap_role_arn("lookup", env.account, env.region, partition), purpose)


def common_arguments(parser: argparse.ArgumentParser) -> None:
    """--env, --role-arn, --stack-name and --config."""
    parser.add_argument(
        "--env",
        required=True,
        help="environment in cdk.json: dev, staging, prod, or <env>-<region> of an additional region",
    )
    parser.add_argument("--role-arn", default=None, help="role to assume in the environment's account (read-only)")
    parser.add_argument("--stack-name", default=None, help="the platform stack's name (default: <Env>-Platform)")
    parser.add_argument("--config", type=Path, default=CDK_JSON, help="the CDK app file (cdk.json)")


def run_against_account(args: argparse.Namespace, command: Callable[[EnvironmentSettings], int]) -> int:
    """Run ``command`` for ``--env``: exit 2 on invalid configuration, 3 when its account cannot be asked."""
    try:
        env = load_environment(args.env, args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        return command(env)
    except (BotoCoreError, ClientError) as error:
        print(
            f"Could not ask account {env.account} in {env.region}: {error}; run with its credentials.", file=sys.stderr
        )
        return 3
