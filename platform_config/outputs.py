"""The platform stack's outputs: what the integration suite, the rehearsal and operators read of a deployment.

lib/outputs.py publishes exactly these, each under its own name as the logical id, so a name never changes by accident.
"""

from __future__ import annotations

OUTPUT_NAMES = (
    "VpcId",
    "StreamName",
    "StreamArn",
    "StreamKeyArn",
    "DatabaseEndpoint",
    "DatabasePort",
    "DatabaseIdentifier",
    "DatabaseSecretArn",
    "DatabaseAppSecretArn",
    "DatabaseKeyArn",
    "RedisEndpoint",
    "RedisPort",
    "RedisAuthTokenSecretArn",
    "CacheKeyArn",
    "FileSystemId",
    "FileSystemAccessPointId",
    "FileSystemKeyArn",
    "ClusterName",
    "ConsumeServiceName",
    "ServeServiceName",
    "ConsumeLogGroupName",
    "LoadBalancerDnsName",
    "ApiUrl",
    "ApiId",
)
