"""Read-only commands the pipeline runs against an environment's account, on boto3 and the repository's
`platform_config` alone, from the source tree (preflight/requirements.txt, hash-pinned).

`python -m preflight --env staging [--role-arn ...]`: can this deployment succeed in its account right now? Each
failed check prints one sentence naming the cdk.json setting to change. The pipeline runs it as the environment
account's CDK bootstrap lookup role through `assumed_role_session` (credentials assumed again before they expire),
which the package's other commands and other boto3-only steps reuse.
"""

from preflight.session import assumed_role_session

__all__ = ["assumed_role_session"]
