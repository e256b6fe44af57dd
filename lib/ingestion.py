"""Ingestion: the Kinesis Data Stream that API Gateway writes sensor readings into.

Provisions the stream (capacity mode, shard count and retention from config) encrypted with a customer-managed
KMS key with automatic rotation, so that the key policy, not just IAM, decides who can read readings.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from lib.cdk_enums import REMOVAL_POLICY
from lib.compliance import acknowledge
from lib.keys import customer_managed_key
from platform_config import EnvironmentSettings


class Ingestion(Construct):
    """KMS-encrypted Kinesis Data Stream for incoming readings."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, construct_id)
        stream = settings.stream
        self.key = customer_managed_key(self, "Key", purpose="Kinesis stream of sensor readings", settings=settings)
        provisioned = stream.capacity_mode == "PROVISIONED"
        self.stream = kinesis.Stream(
            self,
            "Stream",
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=self.key,
            stream_mode=kinesis.StreamMode.PROVISIONED if provisioned else kinesis.StreamMode.ON_DEMAND,
            shard_count=stream.shard_count if provisioned else None,
            retention_period=Duration.hours(stream.retention_hours),
            removal_policy=REMOVAL_POLICY[settings.removal_policy],
        )
        acknowledge(
            self.stream,
            "The stream is deliberately encrypted with this customer-managed key instead of aws/kinesis, so that the "
            "key policy and the explicit kms:Decrypt / kms:GenerateDataKey grants decide who reads readings.",
            "AwsSolutions-KDS3",
        )
