"""Every output the platform promises is present and non-empty."""

from __future__ import annotations

import pytest

from platform_config.outputs import OUTPUT_NAMES

pytestmark = pytest.mark.smoke


def test_every_output_is_present_and_non_empty(outputs: dict[str, str]) -> None:
    missing = [name for name in OUTPUT_NAMES if name not in outputs]
    empty = [name for name in OUTPUT_NAMES if name in outputs and not str(outputs[name]).strip()]
    assert not missing, f"stack outputs missing: {', '.join(missing)}"
    assert not empty, f"stack outputs empty: {', '.join(empty)}"


def test_outputs_look_like_what_they_name(output) -> None:
    assert output("VpcId").startswith("vpc-")
    assert output("FileSystemId").startswith("fs-")
    assert output("FileSystemAccessPointId").startswith("fsap-")
    assert output("DatabasePort") == "5432"
    assert output("RedisPort") == "6379"
    assert output("ApiUrl").startswith(f"https://{output('ApiId')}.execute-api.")
    for name in ("StreamArn", "StreamKeyArn", "DatabaseKeyArn", "CacheKeyArn", "FileSystemKeyArn"):
        assert output(name).startswith("arn:"), f"{name} is not an ARN: {output(name)}"
