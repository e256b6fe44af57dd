"""Dead-letter files: records that failed validation, as JSON lines under DATA_DIR (the EFS mount)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson


@dataclass(frozen=True)
class DeadLetter:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    reason: str
    sub_sequence_number: int | None = None  # the user record's place in a KPL-aggregated record


def _encode(data: bytes) -> dict[str, str]:
    try:
        return {"data": data.decode("utf-8"), "dataEncoding": "utf-8"}
    except UnicodeDecodeError:
        return {"data": base64.b64encode(data).decode("ascii"), "dataEncoding": "base64"}


class DeadLetterWriter:
    """Appends to `<DATA_DIR>/dead-letter/<stream>/<shard>.jsonl`.

    One file per shard keeps a single writer per file (a shard has one owner at a time), which matters on
    EFS where appends from several clients are not atomic. Lines are fsynced before the batch's checkpoint
    commits, so a dead letter is never lost; after a crash a batch may be dead-lettered again, and
    (shardId, sequenceNumber, subSequenceNumber) identifies the duplicate.
    """

    def __init__(self, data_dir: Path, stream_name: str) -> None:
        self.directory = data_dir / "dead-letter" / stream_name
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, shard_id: str) -> Path:
        return self.directory / f"{shard_id}.jsonl"

    def write(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        by_shard: dict[str, list[bytes]] = {}
        for letter in letters:
            line = orjson.dumps(
                {
                    "shardId": letter.shard_id,
                    "sequenceNumber": letter.sequence_number,
                    **({} if letter.sub_sequence_number is None else {"subSequenceNumber": letter.sub_sequence_number}),
                    "partitionKey": letter.partition_key,
                    "reason": letter.reason,
                    "deadLetteredAt": now,
                    **_encode(letter.data),
                }
            )
            by_shard.setdefault(letter.shard_id, []).append(line + b"\n")
        for shard_id, lines in by_shard.items():
            fd = os.open(self.path_for(shard_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                _write_all(fd, b"".join(lines))
                os.fdatasync(fd)  # the data and the file's new size; not the timestamps
            finally:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked (a signal, a full quota, NFS/EFS): write the rest, never drop it."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(f"dead-letter write made no progress ({len(view)} bytes left)")
        view = view[written:]
