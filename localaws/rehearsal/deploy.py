"""A stage deployed as CDK Pipelines deploys it: its stacks in dependency order (the account settings stack before the
platform stack), each stack's file assets published first (its template among them), then the stack created or
updated with `TemplateURL` (the template asset's `stackTemplateAssetObjectUrl`, as CDK Pipelines' deploy action
passes it; a template the rehearsal changed is uploaded to the assets bucket under its hash first), waited for, and
its outputs read."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws.rehearsal.account import Account
from localaws.rehearsal.assets import publish_file_assets
from platform_config.assembly import CloudAssembly, StackArtifact
from platform_config.naming import stage_id

STACK_TIMEOUT_SECONDS = 120
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeploymentFailed(RuntimeError):
    """A stack did not reach *_COMPLETE; the message names the stack, its status and the reason."""


@dataclass(frozen=True)
class StageStack:
    artifact: StackArtifact
    assets: Path | None  # the stack's asset manifest
    dependencies: tuple[str, ...]  # construct paths of the stacks it depends on
    template_url: str  # s3://<bucket>/<key> of the published template (the manifest's stackTemplateAssetObjectUrl)


def stage_stacks(assembly: CloudAssembly, deployment: str) -> list[StageStack]:
    """The stacks of ``deployment``'s stage, each after the stacks it depends on (the manifest's dependencies)."""
    prefix = f"Pipeline/{stage_id(deployment)}/"
    chosen = [a for path, a in assembly.stacks.items() if path.startswith(prefix)]
    stacks: dict[str, StageStack] = {}
    for artifact in chosen:
        manifest = json.loads((artifact.template_file.parent / "manifest.json").read_text())["artifacts"]
        own = next(item for item in manifest.values() if item.get("displayName") == artifact.path)
        ids = {key: item.get("displayName") or "" for key, item in manifest.items()}
        dependencies = tuple(ids[d] for d in own.get("dependencies", []) if ids.get(d, "").startswith(prefix))
        assets = [
            artifact.template_file.parent / manifest[d]["properties"]["file"]
            for d in own.get("dependencies", [])
            if manifest.get(d, {}).get("type") == "cdk:asset-manifest"
        ]
        url = own["properties"].get("stackTemplateAssetObjectUrl", "")
        stacks[artifact.path] = StageStack(artifact, assets[0] if assets else None, dependencies, url)
    ordered: list[StageStack] = []
    while len(ordered) < len(stacks):
        ready = [
            s
            for s in stacks.values()
            if s not in ordered and all(d in {o.artifact.path for o in ordered} for d in s.dependencies)
        ]
        if not ready:
            raise ValueError(f"circular stack dependencies in {prefix}")
        ordered += sorted(ready, key=lambda s: s.artifact.path)
    return ordered


def https_url(account: Account, s3_url: str) -> str:
    """s3://<bucket>/<key> as the HTTPS URL CloudFormation takes."""
    bucket, key = s3_url.removeprefix("s3://").split("/", 1)
    return f"https://s3.{account.region}.amazonaws.com/{bucket}/{key}"


def upload_template(account: Account, template: dict[str, Any]) -> str:
    """A changed template in the assets bucket under its hash; returns its HTTPS URL."""
    body = json.dumps(template, indent=1).encode()
    key = f"{hashlib.sha256(body).hexdigest()}.json"
    account.client("s3").put_object(Bucket=account.assets_bucket, Key=key, Body=body)
    return https_url(account, f"s3://{account.assets_bucket}/{key}")


def wait(account: Account, stack_name: str, expected: str) -> dict[str, Any]:
    """Wait for the stack to leave *_IN_PROGRESS; DeploymentFailed unless it ends ``expected``."""
    cloudformation = account.client("cloudformation")
    deadline = time.monotonic() + STACK_TIMEOUT_SECONDS
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if stack["StackStatus"] != expected:
        raise DeploymentFailed(f"{stack_name} ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    return stack


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])}


def exists(account: Account, stack_name: str) -> bool:
    try:
        account.client("cloudformation").describe_stacks(StackName=stack_name)
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return False
        raise
    return True


def deploy_stack(account: Account, stack_name: str, template: dict[str, Any], url: str = "") -> dict[str, str]:
    """Create the stack, or update it when it exists, from ``url`` (the published template) or else ``template``
    (uploaded first); returns its outputs. An update that changes nothing raises ClientError ("No updates are to be
    performed."), as `aws cloudformation update-stack` does."""
    cloudformation = account.client("cloudformation")
    url = https_url(account, url) if url else upload_template(account, template)
    if exists(account, stack_name):
        cloudformation.update_stack(StackName=stack_name, TemplateURL=url, Capabilities=CAPABILITIES)
        return outputs_of(wait(account, stack_name, "UPDATE_COMPLETE"))
    cloudformation.create_stack(StackName=stack_name, TemplateURL=url, Capabilities=CAPABILITIES)
    return outputs_of(wait(account, stack_name, "CREATE_COMPLETE"))


def deploy_stage(
    account: Account, assembly: CloudAssembly, deployment: str, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, str]]:
    """Every stack of the stage, in order, each after its file assets; ``overrides`` replaces a stack's template (by
    stack name). Returns each stack's outputs by stack name."""
    outputs = {}
    for stack in stage_stacks(assembly, deployment):
        if stack.assets is not None:
            publish_file_assets(account, stack.assets)
        override = (overrides or {}).get(stack.artifact.name)
        if override is None or override == stack.artifact.template:
            outputs[stack.artifact.name] = deploy_stack(account, stack.artifact.name, {}, stack.template_url)
        else:
            outputs[stack.artifact.name] = deploy_stack(account, stack.artifact.name, override)
    return outputs
