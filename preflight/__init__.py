"""Pre-flight checks the pipeline runs against an environment's account before a deployment, on boto3 alone.

`python -m preflight --env staging [--role-arn ...]`: can this deployment succeed in its account right now? Each
failed check prints one sentence naming the cdk.json setting to change. Read-only: the pipeline runs it as the
environment account's CDK bootstrap lookup role, through `assumed_role_session` (credentials assumed again before they
expire), which other boto3-only steps may reuse. Needs only boto3, pydantic and the repository's `platform_config`
(preflight/requirements.txt, hash-pinned).
"""

from preflight.session import assumed_role_session

__all__ = ["assumed_role_session"]
