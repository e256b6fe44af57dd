"""The rehearsal: a synthesized stage deployed into moto as CDK Pipelines deploys it, its services run as local
processes, the integration suite run against its outputs, then what a real month does to it (day 2) and the review
gates of a change, each a pass/fail scenario on the same emulated account and local servers.

- `account`: the emulated account as the pipeline sees it (CDK bootstrap roles, `cdk bootstrap`'s resources).
- `assets`, `deploy`: file assets published as cdk-assets does; the stage's stacks created or updated in order.
- `database`, `tasks`, `awslogs`: the RDS instance played by a local PostgreSQL; ECS tasks (init containers first) as
  local processes; their output in CloudWatch Logs.
- `suite`: the integration suite, as the pipeline's integration step runs it.
- `day2`, `gates`, `review`: the scenarios; `scenarios`: how one is played and reported.
- `runner.rehearse`: all of it, from a fresh emulator to the last line.
"""

from localaws.rehearsal.runner import RehearsalResult, rehearse

__all__ = ["RehearsalResult", "rehearse"]
