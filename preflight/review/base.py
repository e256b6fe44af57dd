"""What a review was computed against: a fingerprint of each deployment's deployed template, so that an approval can
only deploy the change it showed.

The review exports REVIEW_BASE (`<deployment>:<deployed>:<reviewed>` per deployment, comma-separated: sha256 prefixes
of the deployed template, `none` for a stack not deployed yet, and of the template it reviewed). After the approval,
each deployment's pre-flight runs `python -m preflight.review.base --env <deployment> --expect "$REVIEWED_BASE"`, and
fails, naming the stack, when its deployed stack is neither (another pipeline execution, or someone else, deployed in
between): the approval showed a different change than the one that would run, and releasing the change again reviews
it afresh. A stack that already is the reviewed template (the stage run again after its deployment) passes.

Needs only boto3 (the pre-flight's hash-pinned requirements), not the review's schemas.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from platform_config import ConfigError, EnvironmentSettings, load_config_file
from platform_config.loader import CDK_JSON
from platform_config.naming import stack_name
from preflight.cli import lookup_session

NOT_DEPLOYED = "none"


def deployed_template(cloudformation: Any, stack: str) -> dict[str, Any] | None:
    """The template the stack was last deployed with; None when there is no such stack yet."""
    try:
        body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return None
        raise
    return dict(json.loads(body) if isinstance(body, str) else body)


def template_fingerprint(template: dict[str, Any] | None) -> str:
    if template is None:
        return NOT_DEPLOYED
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:16]


def base(fingerprints: dict[str, tuple[str, str]]) -> str:
    """REVIEW_BASE of an environment from each deployment's (deployed, reviewed) fingerprints."""
    return ",".join(f"{name}:{deployed}:{reviewed}" for name, (deployed, reviewed) in sorted(fingerprints.items()))


def parse(value: str) -> dict[str, tuple[str, str]]:
    entries = [item.split(":") for item in value.split(",") if item]
    if not entries or any(len(entry) != 3 for entry in entries):
        raise ValueError(
            f"REVIEWED_BASE {value!r} is not <deployment>:<deployed>:<reviewed>[,...] as the review exports it"
        )
    return {name: (deployed, reviewed) for name, deployed, reviewed in entries}


def changed_since(expected: dict[str, tuple[str, str]], current: dict[str, str]) -> list[str]:
    """One sentence per deployment whose deployed stack is neither what the review saw nor what it reviewed."""
    return [
        f"{stack_name(name)} ({name}) was deployed since its review was approved "
        f"(reviewed against {expected[name][0] if name in expected else 'nothing'}, now "
        f"{current.get(name, 'nothing')}): the approval showed another change than this one would make; release the "
        "change again to review it afresh."
        for name in sorted(set(expected) | set(current))
        if current.get(name) not in expected.get(name, ())
    ]


def main(argv: list[str] | None = None, clients: Callable[[EnvironmentSettings], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.review.base", description=__doc__)
    parser.add_argument("--env", required=True, help="the deployment to check (dev, staging, prod, <env>-<region>)")
    parser.add_argument("--expect", required=True, help="the REVIEW_BASE its review exported")
    parser.add_argument("--lookup-role", action="store_true", help="read each deployment as its CDK lookup role")
    parser.add_argument("--config", type=Path, default=CDK_JSON, help="the CDK app file (cdk.json)")
    args = parser.parse_args(argv)
    try:
        config = load_config_file(args.config)
        deployment = config.environment(args.env)
        expected = {name: seen for name, seen in parse(args.expect).items() if name == deployment.name}
    except (ConfigError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2

    def client(deployment: EnvironmentSettings) -> Any:
        if clients is not None:
            return clients(deployment)
        session = lookup_session(deployment, args.lookup_role, "review-base")
        return session.client("cloudformation", region_name=deployment.region)

    try:
        deployed = deployed_template(client(deployment), stack_name(deployment.name))
        current = {deployment.name: template_fingerprint(deployed)}
    except (BotoCoreError, ClientError) as error:
        print(f"Could not read the deployed stack of {args.env}: {error}", file=sys.stderr)
        return 3
    problems = changed_since(expected, current)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{stack_name(deployment.name)} is as its review saw it ({current[deployment.name]}).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
