"""CloudWatch: `AWS::CloudWatch::Alarm` and `::CompositeAlarm`, which moto's CloudFormation skips, and the state of a
composite alarm, which moto never evaluates.

- `::Alarm`: created through the backend's PutMetricAlarm with every property the template sets (metric or metric
  math `Metrics`, threshold, comparison, periods, actions, missing-data treatment, tags). Updated in place as
  PutMetricAlarm updates an existing alarm: the configuration is replaced, the state is kept. `AlarmName` is
  create-only (a new name replaces the alarm; localaws.models.updates decides that from CloudFormation's schema).
- `::CompositeAlarm`: created with its `AlarmRule`, and evaluated as CloudWatch does whenever an alarm it names changes
  state (SetAlarmState, or a child composite changing): the rule language's `ALARM(x)`, `OK(x)`,
  `INSUFFICIENT_DATA(x)` (x an alarm name or ARN, quoted or not), `AND`, `OR`, `NOT`, parentheses, `TRUE`, `FALSE`.
  Its state is evaluated at creation too.
Not reproduced: metric evaluation (no alarm leaves its state because of data points; moto creates metric alarms OK,
and only SetAlarmState moves them), alarm actions (SNS, scaling) and actions suppression.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudwatch import models as cloudwatch_models
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends

from localaws.models.base import Model, flag, tags

_TOKEN = re.compile(r'\s*(\(|\)|"[^"]*"|[A-Za-z_]+(?=\s*\()|[^\s()"]+)')
_STATE_FUNCTIONS = ("ALARM", "OK", "INSUFFICIENT_DATA")


def _metric_queries(metrics: list[dict[str, Any]]) -> list[MetricDataQuery]:
    """The template's `Metrics` (metric math) as the backend's query objects, as PutMetricAlarm builds them."""
    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat:
            described = stat["Metric"]
            dimensions = [Dimension(d["Name"], d["Value"]) for d in described.get("Dimensions", [])]
            metric_stat = MetricStat(
                metric=Metric(described["MetricName"], described.get("Namespace"), dimensions),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=metric["Id"],
                label=metric.get("Label"),
                period=metric.get("Period"),
                return_data=metric.get("ReturnData"),
                expression=metric.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


def _put_alarm(backend: Any, name: str, props: dict[str, Any], rule: str | None = None) -> Any:
    """PutMetricAlarm (or PutCompositeAlarm with `rule`); an existing alarm keeps its state, as in CloudWatch."""
    existing = backend.alarms.get(name)
    alarm = backend.put_metric_alarm(
        name=name,
        namespace=props.get("Namespace"),
        metric_name=props.get("MetricName"),
        metric_data_queries=_metric_queries(props["Metrics"]) if props.get("Metrics") else None,
        comparison_operator=props.get("ComparisonOperator"),
        evaluation_periods=props.get("EvaluationPeriods"),
        datapoints_to_alarm=props.get("DatapointsToAlarm"),
        period=props.get("Period"),
        threshold=float(props["Threshold"]) if "Threshold" in props else None,
        statistic=props.get("Statistic"),
        extended_statistic=props.get("ExtendedStatistic"),
        description=props.get("AlarmDescription"),
        dimensions=props.get("Dimensions", []),
        alarm_actions=props.get("AlarmActions", []),
        ok_actions=props.get("OKActions", []),
        insufficient_data_actions=props.get("InsufficientDataActions", []),
        unit=props.get("Unit"),
        actions_enabled=flag(props.get("ActionsEnabled", True)),
        treat_missing_data=props.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=props.get("ThresholdMetricId"),
        rule=rule,
        tags=tags(props),
    )
    if existing is not None:
        alarm.state_value, alarm.state_reason = existing.state_value, existing.state_reason
        alarm.state_reason_data, alarm.state_updated_timestamp = (
            existing.state_reason_data,
            existing.state_updated_timestamp,
        )
        alarm.history = existing.history
    return alarm


class CloudWatchAlarm(Model):
    """A metric alarm, created and updated through PutMetricAlarm."""

    TYPE = "AWS::CloudWatch::Alarm"
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CloudWatchAlarm:
        props = cloudformation_json["Properties"]
        name = props.get("AlarmName", resource_name)
        alarm = _put_alarm(cloudwatch_backends[account_id][region_name], name, props)
        return cls(name, {"Arn": alarm.alarm_arn})

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CloudWatchAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CloudWatchAlarm:
        """In place: the configuration is replaced, the state kept (the name is create-only)."""
        props = cloudformation_json["Properties"]
        backend = cloudwatch_backends[account_id][region_name]
        alarm = _put_alarm(backend, original_resource.physical_resource_id, props)
        _evaluate_composites(backend, alarm)
        return cls(original_resource.physical_resource_id, {"Arn": alarm.alarm_arn})

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


class CloudWatchCompositeAlarm(CloudWatchAlarm):
    """A composite alarm: its rule over other alarms' states, evaluated whenever one of them changes."""

    TYPE = "AWS::CloudWatch::CompositeAlarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> CloudWatchCompositeAlarm:
        props = cloudformation_json["Properties"]
        name = props.get("AlarmName", resource_name)
        backend = cloudwatch_backends[account_id][region_name]
        alarm = _put_alarm(backend, name, props, rule=props["AlarmRule"])
        _set_from_rule(backend, alarm, "Composite alarm created")
        return cls(name, {"Arn": alarm.alarm_arn})

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CloudWatchAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CloudWatchCompositeAlarm:
        props = cloudformation_json["Properties"]
        backend = cloudwatch_backends[account_id][region_name]
        alarm = _put_alarm(backend, original_resource.physical_resource_id, props, rule=props["AlarmRule"])
        _set_from_rule(backend, alarm, "Composite alarm rule updated")
        return cls(original_resource.physical_resource_id, {"Arn": alarm.alarm_arn})


def _tokens(rule: str) -> list[str]:
    found, position = [], 0
    while position < len(rule.rstrip()):
        match = _TOKEN.match(rule, position)
        if match is None:
            raise ValidationError(message=f"AlarmRule cannot be parsed at: {rule[position:]}")
        found.append(match[1])
        position = match.end()
    return found


def evaluate_rule(rule: str, state_of: Any) -> bool:
    """The truth of a composite alarm's rule, `state_of(name_or_arn)` giving each named alarm's state."""
    tokens = _tokens(rule)

    def expression(index: int) -> tuple[bool, int]:
        value, index = term(index)
        while index < len(tokens) and tokens[index].upper() == "OR":
            right, index = term(index + 1)
            value = value or right
        return value, index

    def term(index: int) -> tuple[bool, int]:
        value, index = factor(index)
        while index < len(tokens) and tokens[index].upper() == "AND":
            right, index = factor(index + 1)
            value = value and right
        return value, index

    def factor(index: int) -> tuple[bool, int]:
        word = tokens[index].upper()
        if word == "NOT":
            value, index = factor(index + 1)
            return not value, index
        if word == "(":
            value, index = expression(index + 1)
            return value, index + 1  # the closing parenthesis
        if word in ("TRUE", "FALSE"):
            return word == "TRUE", index + 1
        if word in _STATE_FUNCTIONS and tokens[index + 1] == "(":
            name = tokens[index + 2].strip('"')
            return state_of(name) == word, index + 4  # function, "(", name, ")"
        raise ValidationError(message=f"AlarmRule: unexpected {tokens[index]!r} in {rule}")

    value, end = expression(0)
    if end != len(tokens):
        raise ValidationError(message=f"AlarmRule: unexpected {tokens[end]!r} in {rule}")
    return value


def _state_of(backend: Any) -> Any:
    by_arn = {alarm.alarm_arn: alarm for alarm in backend.alarms.values()}

    def state(name_or_arn: str) -> str:
        alarm = by_arn.get(name_or_arn) or backend.alarms.get(name_or_arn)
        return alarm.state_value if alarm is not None else "INSUFFICIENT_DATA"

    return state


def _set_from_rule(backend: Any, composite: Any, reason: str) -> None:
    state = "ALARM" if evaluate_rule(composite.rule, _state_of(backend)) else "OK"
    if state != composite.state_value:
        composite.update_state(reason, "{}", state)
        _evaluate_composites(backend, composite)


def _evaluate_composites(backend: Any, changed: Any) -> None:
    """Re-evaluate every composite alarm whose rule names ``changed`` (by name or ARN)."""
    for alarm in list(backend.alarms.values()):
        if (
            alarm.rule
            and alarm is not changed
            and (changed.alarm_arn in alarm.rule or f'"{changed.name}"' in alarm.rule)
        ):
            _set_from_rule(backend, alarm, f"{changed.name} is {changed.state_value}")


_original_set_alarm_state = cloudwatch_models.CloudWatchBackend.set_alarm_state


def _set_alarm_state(
    self: cloudwatch_models.CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
) -> None:
    """SetAlarmState, then the composite alarms over it re-evaluated, as CloudWatch does."""
    _original_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    _evaluate_composites(self, self.alarms[alarm_name])


MODELS = (CloudWatchAlarm, CloudWatchCompositeAlarm)


def patch() -> None:
    cloudwatch_models.CloudWatchBackend.set_alarm_state = _set_alarm_state  # type: ignore[method-assign]
