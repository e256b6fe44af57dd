"""Pre-flight and health checks the pipeline runs against a target account before (and after) a deployment.

Plain Python on boto3, runnable the same way locally and in CodeBuild:
`python -m preflight --env staging` (can this deployment succeed?), `python -m preflight.health bake --env staging`
(did the alarms stay OK?) and `python -m preflight.health arm-rollback --env prod` (CloudFormation rollback triggers).
Each failed check prints one sentence that names the cdk.json setting to change.
"""
