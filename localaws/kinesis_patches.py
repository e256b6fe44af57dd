"""Where moto's emulation differs from AWS in ways our code depends on, make it behave like AWS.

Applied inside the moto server process by localaws.moto_server. Each patch names the AWS behaviour it
restores; none of them makes a check easier to pass, they make the emulator stricter, like AWS.

Kinesis resharding (moto 5.2.5):
- Writes after a split go to the closed parent: moto picks the first shard whose hash range matches, open or
  closed. AWS routes records only to open shards.
- A split moves the parent's records into the children under new sequence numbers. AWS keeps them in the parent,
  whose consumers must finish it before reading the children.
- Reading a closed shard never ends: moto always returns a NextShardIterator. AWS returns none once a closed
  shard has been read to its end, which is how consumers know it is finished.
"""

from __future__ import annotations

from hashlib import md5
from operator import attrgetter

from moto.kinesis import models as kinesis_models
from moto.kinesis.exceptions import InvalidArgumentError
from moto.kinesis.utils import decompose_shard_iterator


def _shard_for_key(self: kinesis_models.Stream, partition_key: str, explicit_hash_key: str):
    if not isinstance(partition_key, str) or len(partition_key) > 256:
        raise InvalidArgumentError("partition_key")
    if explicit_hash_key:
        key = int(explicit_hash_key)
        if key >= 2**128:
            raise InvalidArgumentError("explicit_hash_key")
    else:
        key = int(md5(partition_key.encode("utf-8")).hexdigest(), 16)
    for shard in self.shards.values():
        if shard.is_open and shard.starting_hash <= key <= shard.ending_hash:
            return shard
    return None


def _split_shard(self: kinesis_models.Stream, shard_to_split: str, new_starting_hash_key: str) -> None:
    shard = self.shards[shard_to_split]
    new_start = int(new_starting_hash_key)
    if not shard.starting_hash < new_start < shard.ending_hash:
        raise InvalidArgumentError(message=f"NewStartingHashKey {new_start} is outside shard {shard_to_split}")
    if not shard.is_open:
        raise InvalidArgumentError(message=f"Shard {shard_to_split} has already been merged or split")
    last_id = sorted(self.shards.values(), key=attrgetter("_shard_id"))[-1]._shard_id
    for offset, (start, end) in enumerate(((shard.starting_hash, new_start - 1), (new_start, shard.ending_hash))):
        child = kinesis_models.Shard(last_id + 1 + offset, starting_hash=start, ending_hash=end, parent=shard.shard_id)
        self.shards[child.shard_id] = child
    shard.is_open = False  # its records stay where they are


_original_get_records = kinesis_models.KinesisBackend.get_records


def _get_records(self: kinesis_models.KinesisBackend, stream_arn, shard_iterator, limit):
    next_iterator, records, millis_behind = _original_get_records(self, stream_arn, shard_iterator, limit)
    stream_name, shard_id, last_sequence = decompose_shard_iterator(next_iterator)
    shard = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name).get_shard(shard_id)
    if not shard.is_open and int(last_sequence) >= shard.get_max_sequence_number():
        next_iterator = None
    return next_iterator, records, millis_behind


def apply() -> None:
    kinesis_models.Stream.get_shard_for_key = _shard_for_key
    kinesis_models.Stream.split_shard = _split_shard
    kinesis_models.KinesisBackend.get_records = _get_records
