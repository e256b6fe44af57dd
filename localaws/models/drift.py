"""CloudFormation drift detection, which moto 5.2.5 lacks (DetectStackDrift, DescribeStackDriftDetectionStatus and
DescribeStackResourceDrifts answer NotImplementedError).

What it reproduces: for each resource of a stack, the template's properties as deployed (the stack's current template,
its references resolved against the stack's resources, as CloudFormation records the expected values) are compared
with what the service's backend describes now, property by property and nested (`/StreamEncryption/KeyId`): a
difference is NOT_EQUAL (REMOVE when the property is gone); a resource whose physical resource no longer exists is
DELETED; only properties the template sets are compared (CloudFormation's rule for expected values). The detection
completes at once (DETECTION_COMPLETE, StackDriftStatus DRIFTED or IN_SYNC, DriftedStackResourceCount), and
`describe_stacks` then shows the stack's `DriftInformation`.

Which types are checked: `AWS::Kinesis::Stream` (RetentionPeriodHours, ShardCount, StreamModeDetails,
StreamEncryption, Name) and `AWS::Logs::LogGroup` (RetentionInDays, KmsKeyId, LogGroupName), read from moto's Kinesis
and CloudWatch Logs backends. Every other type reports NOT_CHECKED, as CloudFormation does for the types it does not
support; a property of a checked type outside those lists is not compared. Not reproduced: asynchronous detection,
DetectStackResourceDrift and DetectStackSetDrift, and drift of tags.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.kinesis.models import kinesis_backends
from moto.logs.models import logs_backends

Reader = Callable[[str, str, str], dict[str, Any] | None]  # (account, region, physical id) -> actual, None: deleted


def _kinesis_stream(account_id: str, region: str, physical_id: str) -> dict[str, Any] | None:
    stream = kinesis_backends[account_id][region].streams.get(physical_id)
    if stream is None:
        return None
    actual: dict[str, Any] = {
        "Name": stream.stream_name,
        "RetentionPeriodHours": stream.retention_period_hours,
        "StreamModeDetails": {"StreamMode": stream.stream_mode.get("StreamMode", "PROVISIONED")},
    }
    if actual["StreamModeDetails"]["StreamMode"] == "PROVISIONED":
        actual["ShardCount"] = sum(1 for shard in stream.shards.values() if shard.is_open)
    if stream.encryption_type != "NONE":
        actual["StreamEncryption"] = {"EncryptionType": stream.encryption_type, "KeyId": stream.key_id}
    return actual


def _log_group(account_id: str, region: str, physical_id: str) -> dict[str, Any] | None:
    group = logs_backends[account_id][region].groups.get(physical_id)
    if group is None:
        return None
    actual: dict[str, Any] = {"LogGroupName": group.name}
    if group.retention_in_days is not None:
        actual["RetentionInDays"] = group.retention_in_days
    if group.kms_key_id:
        actual["KmsKeyId"] = group.kms_key_id
    return actual


# type -> what reads the resource now, and the properties it reports
READERS: dict[str, tuple[Reader, frozenset[str]]] = {
    "AWS::Kinesis::Stream": (
        _kinesis_stream,
        frozenset({"Name", "RetentionPeriodHours", "ShardCount", "StreamModeDetails", "StreamEncryption"}),
    ),
    "AWS::Logs::LogGroup": (_log_group, frozenset({"LogGroupName", "RetentionInDays", "KmsKeyId"})),
}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def differences(expected: Any, actual: Any, path: str = "") -> list[dict[str, str]]:
    """Property differences of ``actual`` from ``expected`` over the properties ``expected`` sets."""
    if isinstance(expected, dict):
        found = []
        for key, value in expected.items():
            if not isinstance(actual, dict) or key not in actual:
                found.append(
                    {
                        "PropertyPath": f"{path}/{key}",
                        "ExpectedValue": _text(value),
                        "ActualValue": "null",
                        "DifferenceType": "REMOVE",
                    }
                )
            else:
                found += differences(value, actual[key], f"{path}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for index, item in enumerate(expected) for d in differences(item, actual[index], f"{path}/{index}")]
    if _text(expected) == _text(actual) or str(expected).lower() == str(actual).lower():
        return []
    return [
        {
            "PropertyPath": path,
            "ExpectedValue": _text(expected),
            "ActualValue": _text(actual),
            "DifferenceType": "NOT_EQUAL",
        }
    ]


def _resource_drift(stack: Any, logical_id: str, resource_json: dict[str, Any], now: Any) -> dict[str, Any]:
    resource = stack.resource_map._parsed_resources.get(logical_id)
    physical_id = getattr(resource, "physical_resource_id", None)
    drift: dict[str, Any] = {
        "StackId": stack.stack_id,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id or "",
        "ResourceType": resource_json["Type"],
        "StackResourceDriftStatus": "NOT_CHECKED",
        "Timestamp": now,
    }
    if resource_json["Type"] not in READERS or physical_id is None:
        return drift
    reader, compared = READERS[resource_json["Type"]]
    actual = reader(stack.account_id, stack.region_name, physical_id)
    expected_all = parsing.clean_json(resource_json.get("Properties", {}), stack.resource_map)
    if actual is None:
        drift.update(StackResourceDriftStatus="DELETED", ExpectedProperties=json.dumps(expected_all, sort_keys=True))
        return drift
    expected = {key: value for key, value in expected_all.items() if key in compared}
    found = differences(expected, actual)
    drift.update(
        StackResourceDriftStatus="MODIFIED" if found else "IN_SYNC",
        ExpectedProperties=json.dumps(expected, sort_keys=True),
        ActualProperties=json.dumps({key: actual[key] for key in expected if key in actual}, sort_keys=True),
        PropertyDifferences=found,
    )
    return drift


def detect(stack: Any) -> dict[str, Any]:
    """One drift detection of ``stack``: the detection status, with every resource's drift."""
    now = utcnow()
    drifts = [
        _resource_drift(stack, name, body, now) for name, body in stack.template_dict.get("Resources", {}).items()
    ]
    drifted = sum(1 for d in drifts if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED"))
    stack.drift_information = {"StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC", "LastCheckTimestamp": now}
    return {
        "StackId": stack.stack_id,
        "StackDriftDetectionId": str(uuid.uuid4()),
        "StackDriftStatus": stack.drift_information["StackDriftStatus"],
        "DetectionStatus": "DETECTION_COMPLETE",
        "DriftedStackResourceCount": drifted,
        "Timestamp": now,
        "drifts": drifts,
    }


_DETECTIONS: dict[str, dict[str, Any]] = {}  # detection id -> detection (one moto server process)


def _detect_stack_drift(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    detection = detect(stack)
    _DETECTIONS[detection["StackDriftDetectionId"]] = detection
    return ActionResult({"StackDriftDetectionId": detection["StackDriftDetectionId"]})


def _describe_stack_drift_detection_status(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    if detection_id not in _DETECTIONS:
        raise ValidationError(message=f"Stack drift detection {detection_id} does not exist")
    return ActionResult({k: v for k, v in _DETECTIONS[detection_id].items() if k != "drifts"})


def _describe_stack_resource_drifts(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    filters = self._get_param("StackResourceDriftStatusFilters", [])
    latest = [d for d in _DETECTIONS.values() if d["StackId"] == stack.stack_id]
    if not latest:
        raise ValidationError(message=f"No drift detection has run on stack {stack.name}")
    drifts = max(latest, key=lambda d: d["Timestamp"])["drifts"]
    chosen = [d for d in drifts if not filters or d["StackResourceDriftStatus"] in filters]
    return ActionResult({"StackResourceDrifts": chosen})


ACTIONS = {
    "detect_stack_drift": _detect_stack_drift,
    "describe_stack_drift_detection_status": _describe_stack_drift_detection_status,
    "describe_stack_resource_drifts": _describe_stack_resource_drifts,
}


def patch() -> None:
    for name, action in ACTIONS.items():
        if hasattr(cfn_responses.CloudFormationResponse, name):
            raise RuntimeError(f"moto now implements CloudFormation {name}: re-check localaws.models.drift")
        setattr(cfn_responses.CloudFormationResponse, name, action)
