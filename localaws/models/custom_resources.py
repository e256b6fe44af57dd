"""Custom resources of CDK's own providers, whose Lambda handlers moto could run only in Docker (its CloudFormation
would otherwise wait forever for the handler's answer: the stack stays CREATE_IN_PROGRESS).

- `Custom::VpcRestrictDefaultSG` (`ec2.Vpc(restrict_default_security_group=True)`): CDK's handler
  (`custom-resource-handlers/.../restrict-default-security-group-handler`) played step by step through moto's EC2
  backend, as the handler's SDK calls would: on Create it revokes the default security group's outbound rule to
  0.0.0.0/0 and its inbound rule from itself (either one already gone is not an error, as in the handler); on Update
  with another group, it restores the old group's rules and restricts the new one; on Delete it restores both rules.
  Faithful too: the `ServiceToken` must name a function that exists, and the function (`AWS::Lambda::Function`, moto's
  own model) exists only if its code was published to the bootstrap bucket first, as cdk-assets does: an unpublished
  asset fails the stack. The physical id is the request id, as CDK's provider framework returns it.
  Not reproduced: the Lambda runtime itself, its role's permissions and its logs.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.ec2.exceptions import InvalidPermissionNotFoundError
from moto.ec2.models import ec2_backends
from moto.ec2.responses.security_groups import parse_sg_attributes_from_dict

from localaws.models.base import Model


def _ingress_from_itself(group_id: str, account: str) -> dict[str, Any]:
    return {
        "GroupId": group_id,
        "IpPermissions": [{"UserIdGroupPairs": [{"GroupId": group_id, "UserId": account}], "IpProtocol": "-1"}],
    }


def _egress_to_anywhere(group_id: str) -> dict[str, Any]:
    return {"GroupId": group_id, "IpPermissions": [{"IpRanges": [{"CidrIp": "0.0.0.0/0"}], "IpProtocol": "-1"}]}


def _call(backend: Any, action: str, request: dict[str, Any], tolerate_missing: bool = False) -> None:
    """One EC2 API call of the handler, its IpPermissions parsed as the EC2 API parses them."""
    for permission in request["IpPermissions"]:
        protocol, from_port, to_port, ip_ranges, source_groups, prefix_lists = parse_sg_attributes_from_dict(permission)
        try:
            getattr(backend, action)(
                group_name_or_id=request["GroupId"],
                ip_protocol=protocol,
                from_port=from_port,
                to_port=to_port,
                ip_ranges=ip_ranges,
                source_groups=source_groups,
                prefix_list_ids=prefix_lists,
            )
        except InvalidPermissionNotFoundError:
            if not tolerate_missing:
                raise


def restrict(backend: Any, group_id: str, account: str) -> None:
    """The handler's Create: no rule left on the default security group."""
    _call(backend, "revoke_security_group_egress", _egress_to_anywhere(group_id), tolerate_missing=True)
    _call(backend, "revoke_security_group_ingress", _ingress_from_itself(group_id, account), tolerate_missing=True)


def restore(backend: Any, group_id: str, account: str) -> None:
    """The handler's Delete: the default security group's default rules back."""
    _call(backend, "authorize_security_group_ingress", _ingress_from_itself(group_id, account))
    _call(backend, "authorize_security_group_egress", _egress_to_anywhere(group_id))


class VpcRestrictDefaultSecurityGroup(Model):
    """CDK's restrict-default-security-group handler, played through the EC2 backend."""

    TYPE = "Custom::VpcRestrictDefaultSG"

    def __init__(self, physical_id: str, group_id: str, account: str) -> None:
        super().__init__(physical_id)
        self.group_id, self.account = group_id, account

    @staticmethod
    def _handler_exists(props: dict[str, Any], account_id: str, region_name: str) -> None:
        token = props.get("ServiceToken")
        try:
            lambda_backend(account_id, region_name).get_function(token)
        except Exception as error:  # the backend raises its own not-found exceptions
            raise ValidationError(message=f"Custom resource ServiceToken {token} names no function: {error}") from None

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> VpcRestrictDefaultSecurityGroup:
        props = cloudformation_json["Properties"]
        cls._handler_exists(props, account_id, region_name)
        group_id, account = props["DefaultSecurityGroupId"], props["Account"]
        restrict(ec2_backends[account_id][region_name], group_id, account)
        return cls(str(uuid.uuid4()), group_id, account)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: VpcRestrictDefaultSecurityGroup,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> VpcRestrictDefaultSecurityGroup:
        props = cloudformation_json["Properties"]
        cls._handler_exists(props, account_id, region_name)
        backend = ec2_backends[account_id][region_name]
        group_id, account = props["DefaultSecurityGroupId"], props["Account"]
        if group_id != original_resource.group_id:
            restore(backend, original_resource.group_id, account)
            restrict(backend, group_id, account)
        return cls(original_resource.physical_resource_id, group_id, account)

    def delete(self, account_id: str, region_name: str) -> None:
        restore(ec2_backends[account_id][region_name], self.group_id, self.account)


MODELS = (VpcRestrictDefaultSecurityGroup,)


_original_resource_class_from_type = parsing.resource_class_from_type


def _resource_class_from_type(resource_type: str) -> Any:
    """moto sends every `Custom::` type to its Lambda-invoking model; the ones modelled here come here instead."""
    for model in MODELS:
        if resource_type == model.TYPE:
            return model
    return _original_resource_class_from_type(resource_type)


def patch() -> None:
    parsing.resource_class_from_type = _resource_class_from_type
