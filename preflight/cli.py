"""What the pre-flight and health commands share: the environment's config from cdk.json and an AWS session."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lib.settings import EnvironmentSettings
from stages.config import CONTEXT_KEY, ConfigError, load_config

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_environment(name: str, cdk_json: Path = REPO_ROOT / "cdk.json") -> EnvironmentSettings:
    """The validated settings of one environment, as `cdk synth` sees them (raises ConfigError)."""
    try:
        raw = json.loads(cdk_json.read_text())["context"].get(CONTEXT_KEY)
    except (OSError, ValueError, KeyError) as error:
        raise ConfigError(f"Invalid config: {cdk_json} could not be read as a CDK app file ({error}).") from error
    return load_config(raw).environment(name)


def default_stack_name(env: EnvironmentSettings) -> str:
    """The CloudFormation stack name of the environment's platform (stage id + stack id, as CDK names it)."""
    return f"{env.name.capitalize()}-Platform"


def session_for(env: EnvironmentSettings, role_arn: str | None, purpose: str) -> Any:
    """A boto3 session in the environment's region, as ``role_arn`` when given (cross-account), else as the caller."""
    if not role_arn:
        return boto3.Session(region_name=env.region)
    credentials = boto3.client("sts", region_name=env.region).assume_role(
        RoleArn=role_arn, RoleSessionName=f"iot-{purpose}-{env.name}"[:64], DurationSeconds=3600
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=env.region,
    )


def common_arguments(parser: argparse.ArgumentParser) -> None:
    """--env, --role-arn, --stack-name, --config and --partition, shared by every command."""
    parser.add_argument(
        "--env",
        required=True,
        help="environment in cdk.json: dev, staging, prod, or <env>-<region> of an additional region",
    )
    parser.add_argument("--role-arn", default=None, help="role to assume in the environment's account (read-only)")
    parser.add_argument("--stack-name", default=None, help="the platform stack's name (default: <Env>-Platform)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "cdk.json", help="the CDK app file (cdk.json)")
    parser.add_argument("--partition", default="aws", help="AWS partition of the account (for alarm ARNs)")


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
