"""`python -m preflight --env staging`: can the environment's configuration deploy into its account right now?

Prints one line per check and exits 1 when any check fails (2 on invalid configuration, 3 when the account cannot
be asked).
"""

from __future__ import annotations

import argparse
import sys

from platform_config import EnvironmentSettings
from platform_config.naming import stack_name
from preflight.checks import FAIL, PASS, SKIP, run_checks
from preflight.cli import common_arguments, run_against_account, session_for


def main(argv: list[str] | None = None, session: object | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__)
    common_arguments(parser)
    args = parser.parse_args(argv)

    def preflight(env: EnvironmentSettings) -> int:
        account = session if session is not None else session_for(env, args.role_arn, "preflight")
        results = run_checks(account, env, args.stack_name or stack_name(env.name))
        for result in results:
            print(f"{result.status} {result.name}: {result.message}")
        counts = {status: sum(r.status == status for r in results) for status in (PASS, FAIL, SKIP)}
        print(f"preflight {env.name}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} skipped")
        return 1 if counts[FAIL] else 0

    return run_against_account(args, preflight)


if __name__ == "__main__":
    sys.exit(main())
