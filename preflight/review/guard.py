"""The stateful-replacement guard: a change that would replace or delete a stateful resource stops before CloudFormation
is called, one sentence per resource naming the property that forces it, unless the environment's configuration
allows exactly that one (`review.allow_replacements`: "<construct path>:<property>", or "<construct path>:delete")."""

from __future__ import annotations

from collections.abc import Iterable

from preflight.review.changes import YES, ResourceChange, StackChanges

# Resources whose replacement loses data or breaks what holds data: a new database, secret, file system, stream, cache
# or key is an empty one.
STATEFUL_TYPES = (
    "AWS::RDS::DBInstance",
    "AWS::SecretsManager::Secret",
    "AWS::EFS::FileSystem",
    "AWS::Kinesis::Stream",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::KMS::Key",
)


def allowance(change: ResourceChange, cause: str) -> str:
    """How the configuration allows this one replacement (or deletion)."""
    return f"{change.path}:{cause.split(' ')[0]}"


def violations(changes: StackChanges, allowed: Iterable[str], setting: str) -> list[str]:
    """One sentence per stateful resource the change would replace or delete and ``allowed`` does not allow;
    ``setting`` is the dotted config key of the allowance list."""
    allowed = set(allowed)
    found = []
    for change in changes.resources:
        if change.resource_type not in STATEFUL_TYPES:
            continue
        if change.action == "Remove":
            if f"{change.path}:delete" not in allowed:
                found.append(
                    f"{changes.stack}: {change.path} ({change.resource_type}) would be deleted, and its data with it; "
                    f'keep its construct id and logical id, or allow it with {setting}: ["{change.path}:delete"].'
                )
        elif change.replacement == YES:
            blocking = [cause for cause in change.causes if allowance(change, cause) not in allowed]
            if blocking:
                cause = blocking[0]
                forced = (
                    f"{cause.split(' ')[0]} refers to {cause.split(' -> ')[1]}, which is replaced"
                    if " -> " in cause
                    else f"{cause} is create-only"
                )
                found.append(
                    f"{changes.stack}: {change.path} ({change.resource_type}) would be replaced, an empty one "
                    f'created: {forced}; keep it, or allow it with {setting}: ["{allowance(change, cause)}"].'
                )
    return found
