"""`python -m preflight --env staging`: can the environment's configuration deploy into its account right now?

Prints one line per check and exits 1 when any check fails (2 on invalid configuration).
"""

from __future__ import annotations

import argparse
import sys

from botocore.exceptions import BotoCoreError, ClientError

from preflight.checks import FAIL, PASS, SKIP, run_checks
from preflight.cli import common_arguments, default_stack_name, load_environment, session_for
from stages.config import ConfigError


def main(argv: list[str] | None = None, session: object | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__)
    common_arguments(parser)
    args = parser.parse_args(argv)
    try:
        env = load_environment(args.env, args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        session = session if session is not None else session_for(env, args.role_arn, "preflight")
        results = run_checks(session, env, args.stack_name or default_stack_name(env))
    except (BotoCoreError, ClientError) as error:
        print(
            f"Could not ask account {env.account} in {env.region}: {error}; run with its credentials.", file=sys.stderr
        )
        return 3
    for result in results:
        print(f"{result.status} {result.name}: {result.message}")
    counts = {status: sum(r.status == status for r in results) for status in (PASS, FAIL, SKIP)}
    print(f"preflight {env.name}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped")
    return 1 if counts[FAIL] else 0


if __name__ == "__main__":
    sys.exit(main())
