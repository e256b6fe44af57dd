"""`python -m preflight.review --env prod [--lookup-role]`: what would deploying cdk.out change in the environment?

Every deployment of the environment (its regions) is compared with its deployed stack, read-only: CloudFormation
GetTemplate as the caller, or with --lookup-role as each deployment's CDK bootstrap lookup role (assumed again before
it expires). Prints the report, writes reports/review-<deployment>.{md,json,xml} and reports/review-<env>.env
(REVIEW_SUMMARY, REVIEW_CHANGES, REVIEW_BASE: what the pipeline's approval carries and its pre-flight re-checks), and
exits 1 when the stateful-replacement guard stops the change (2 on invalid configuration, 3 when an account cannot be
asked).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from platform_config import ConfigError, EnvironmentSettings, PlatformConfig, load_config_file
from platform_config.assembly import CDK_OUT, CloudAssembly
from platform_config.loader import CDK_JSON
from platform_config.naming import stack_name
from preflight.cli import lookup_session
from preflight.review.base import base, deployed_template, template_fingerprint
from preflight.review.changes import StackChanges, diff
from preflight.review.guard import violations
from preflight.review.report import as_json, headline, junit, markdown


@dataclass(frozen=True)
class Review:
    """What cdk.out changes in one deployment's platform stack, what the guard stops, and what it was compared with."""

    changes: StackChanges
    stops: list[str]
    base: tuple[str, str]  # fingerprints of the deployed and the reviewed template (preflight.review.base)


def review(deployment: EnvironmentSettings, environment: str, assembly: CloudAssembly, cloudformation: Any) -> Review:
    """The changes cdk.out makes to ``deployment``'s platform stack, and what the guard stops (if it is on)."""
    stack = assembly.stack(stack_name(deployment.name))
    before = deployed_template(cloudformation, stack.name)
    changes = diff(before, stack.template, stack=stack.name, region=deployment.region)
    setting = f"environments.{environment}.review.allow_replacements"
    stops = violations(changes, deployment.review.allow_replacements, setting) if deployment.review.guard else []
    return Review(changes, stops, (template_fingerprint(before), template_fingerprint(stack.template)))


def write_reports(directory: Path, name: str, changes: StackChanges, stops: list[str]) -> str:
    """reports/review-<deployment>.{md,json,xml}; returns the Markdown report (what the log shows)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"review-{name}"
    text = markdown(name, changes, stops)
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(as_json(name, changes, stops))
    stem.with_suffix(".xml").write_text(junit(name, changes, stops))
    return text


def write_variables(directory: Path, environment: str, reviewed: dict[str, Review]) -> None:
    """reports/review-<env>.env: the variables the review step exports (what the approval and its condition read)."""
    summary = "; ".join(headline(name, r.changes) for name, r in reviewed.items())
    count = sum(len(r.changes.resources) + len(r.changes.outputs) for r in reviewed.values())
    fingerprints = base({name: r.base for name, r in reviewed.items()})
    text = f"REVIEW_SUMMARY={shlex.quote(summary)}\nREVIEW_CHANGES={count}\nREVIEW_BASE={fingerprints}\n"
    (directory / f"review-{environment}.env").write_text(text)


def run(
    config: PlatformConfig,
    environment: str,
    cdk_out: Path,
    reports: Path,
    clients: Callable[[EnvironmentSettings], Any],
) -> int:
    """Review every deployment of ``environment``; ``clients(deployment)`` gives its CloudFormation client."""
    env = config.environment(environment)
    assembly = CloudAssembly.read(cdk_out)
    reviewed: dict[str, Review] = {}
    stopped: list[str] = []
    for deployment in config.deployments(env):
        result = review(deployment, environment, assembly, clients(deployment))
        print(write_reports(reports, deployment.name, result.changes, result.stops))
        reviewed[deployment.name] = result
        stopped += result.stops
    write_variables(reports, environment, reviewed)
    for stop in stopped:
        print(stop, file=sys.stderr)
    return 1 if stopped else 0


def main(argv: list[str] | None = None, session: Any | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.review", description=__doc__)
    parser.add_argument("--env", required=True, help="environment in cdk.json (dev, staging, prod), or all of them")
    parser.add_argument("--lookup-role", action="store_true", help="read each deployment as its CDK lookup role")
    parser.add_argument("--cdk-out", type=Path, default=CDK_OUT, help="the cloud assembly (default: cdk.out)")
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="where the report files go")
    parser.add_argument("--config", type=Path, default=CDK_JSON, help="the CDK app file (cdk.json)")
    args = parser.parse_args(argv)

    def clients(deployment: EnvironmentSettings) -> Any:
        if session is not None:
            return session.client("cloudformation", region_name=deployment.region)
        return lookup_session(deployment, args.lookup_role, "review").client(
            "cloudformation", region_name=deployment.region
        )

    try:
        config = load_config_file(args.config)
        known = [env.name for env in config.environments]
        if args.env not in (*known, "all"):  # an environment, whose review covers its every region
            raise ConfigError(
                f"Invalid config: environments.{args.env} is not a configured environment; review one of "
                f"{', '.join(known)} or all."
            )
        names = known if args.env == "all" else [args.env]
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        return max(run(config, name, args.cdk_out, args.reports, clients) for name in names)
    except FileNotFoundError as error:  # no cloud assembly in --cdk-out: invalid input, not a guard stop (1)
        print(error, file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"Could not read the deployed stacks of {args.env}: {error}; run with its credentials.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
