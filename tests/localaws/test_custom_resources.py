"""CDK's restrict-default-security-group custom resource (localaws.models.custom_resources): its handler played through
EC2, and its function only there when its code asset was published first."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any


def template(bucket: str, key: str, account: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                },
            },
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"S3Bucket": bucket, "S3Key": key},
                    "Handler": "__entrypoint__.handler",
                    "Runtime": "nodejs22.x",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                },
            },
            "Restrict": {
                "Type": "Custom::VpcRestrictDefaultSG",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                    "DefaultSecurityGroupId": {"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]},
                    "Account": account,
                },
            },
        },
        "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}},
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => {};")
    return buffer.getvalue()


def test_the_default_security_group_loses_every_rule(deploy, client, account) -> None:
    name = f"restrict-{uuid.uuid4().hex[:8]}"
    client("s3").create_bucket(Bucket=name)
    client("s3").put_object(Bucket=name, Key="handler.zip", Body=_zip())
    stack = deploy(name, template(name, "handler.zip", account.account))
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    vpc = stack["Outputs"][0]["OutputValue"]
    (group,) = client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []


def test_an_unpublished_handler_asset_fails_the_stack(deploy, client, account) -> None:
    name = f"unpublished-{uuid.uuid4().hex[:8]}"
    client("s3").create_bucket(Bucket=name)
    stack = deploy(name, template(name, "never-published.zip", account.account))
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert stack["StackStatusReason"].startswith("The following resource(s) failed to create: [Handler].")
    assert "NoSuchKey" in stack["StackStatusReason"]
