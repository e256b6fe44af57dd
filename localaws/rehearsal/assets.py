"""File assets published as cdk-assets publishes them: for every file asset of a stack's asset manifest
(`*.assets.json`), its source (a file as is, a directory as a zip) uploaded to each destination's bucket and key, as
the destination's publishing role, unless the object is already there. Container images are not built: the rehearsal
runs the processor from source as local processes (localaws.rehearsal.tasks)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws.rehearsal.account import Account


def _zip(directory: Path) -> bytes:
    """A directory as a zip archive, entries sorted and dated alike (cdk-assets' zips are reproducible too)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(directory)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _contents(manifest_dir: Path, source: dict[str, Any]) -> bytes:
    path = manifest_dir / source["path"]
    return _zip(path) if source.get("packaging") == "zip" else path.read_bytes()


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def publish_file_assets(account: Account, manifest: Path) -> list[str]:
    """Publish every file asset of ``manifest`` to ``account``; returns the `s3://bucket/key` of each one uploaded."""
    document = json.loads(manifest.read_text())
    publisher = account.assume("file-publishing", "cdk-assets")
    s3 = publisher.client("s3")
    uploaded = []
    for asset in document.get("files", {}).values():
        for destination in asset["destinations"].values():
            bucket, key = destination["bucketName"], destination["objectKey"]
            if _exists(s3, bucket, key):
                continue
            s3.put_object(Bucket=bucket, Key=key, Body=_contents(manifest.parent, asset["source"]))
            uploaded.append(f"s3://{bucket}/{key}")
    return uploaded
