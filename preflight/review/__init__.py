"""Review of a change before it is deployed: what a synthesized stage would change in an environment's deployed stack
(per resource: added, modified, replaced, removed; IAM and network changes flagged), and a guard that stops the
replacement or deletion of a stateful resource unless the configuration allows that one.

`python -m preflight.review --env prod` compares cdk.out with the deployed stack (read-only, as the environment's CDK
lookup role), prints the report, writes it under reports/, and exits 1 when the guard stops the change. Which property
changes replace a resource comes from CloudFormation's own resource schemas (their create-only properties), as bundled
by cfn-lint, never from a hand-kept list.
"""
