"""Outputs: stable names, no exports (lib/outputs.py)."""

from __future__ import annotations

from platform_config.outputs import OUTPUT_NAMES
from tests.assembly import ENVIRONMENTS, Synth


def test_outputs_have_stable_names_and_no_exports(synth: Synth) -> None:
    for env in ENVIRONMENTS:
        outputs = synth.templates[env]["Outputs"]
        assert set(outputs) == set(OUTPUT_NAMES)
        assert all("Export" not in o for o in outputs.values())
    required = {"StreamName", "StreamArn", "StreamKeyArn", "DatabaseEndpoint", "DatabasePort", "DatabaseIdentifier"}
    required |= {"DatabaseSecretArn", "RedisEndpoint", "RedisPort", "FileSystemId", "ClusterName", "ConsumeServiceName"}
    required |= {"ServeServiceName", "ApiUrl", "ApiId", "VpcId"}
    assert required <= set(OUTPUT_NAMES)
