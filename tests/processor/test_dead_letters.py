"""Malformed records: each lands in the dead-letter file with its reason, and processing goes on."""

from __future__ import annotations

import base64
import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from localaws.processes import wait_until
from processor.batch import decode_batch
from processor.deadletter import DeadLetterWriter
from processor.readings import InvalidReading, parse_reading
from tests.processor.helpers import dead_letters, put_readings, reading, stored_count

MALFORMED: list[tuple[bytes, str]] = [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe\x00binary", "not valid JSON"),
    (b"[1, 2, 3]", "JSON object"),
    (b'{"sensorId": "s1", "timestamp": "2025-12-04T00:00:00Z", "temperature": 1}', "missing field(s): humidity"),
    (json.dumps({**reading("s1", 0), "temperature": "hot"}).encode(), "temperature must be a number"),
    (json.dumps({**reading("s1", 0), "humidity": True}).encode(), "humidity must be a number"),
    (json.dumps({**reading("s1", 0), "timestamp": "yesterday"}).encode(), "RFC 3339"),
    (json.dumps({**reading("s1", 0), "timestamp": "2025-12-04T00:00:00"}).encode(), "RFC 3339"),  # no zone
    (json.dumps({**reading("s1", 0), "timestamp": "2025-13-04T00:00:00Z"}).encode(), "not a valid date-time"),
    (json.dumps({**reading("s1", 0), "sensorId": ""}).encode(), "sensorId"),
    (json.dumps({**reading("s1", 0), "sensorId": "a/b"}).encode(), "sensorId"),
    (json.dumps({**reading("s1", 0), "pressure": "high"}).encode(), "pressure must be a number"),
    (json.dumps({**reading("s1", 0), "\u0000": 1}).encode(), "extra field name"),  # jsonb would refuse it
    (b'{"sensorId": "s1", "timestamp": "2025-12-04T00:00:00Z", "temperature": NaN, "humidity": 1}', "JSON"),
]


def test_malformed_records_are_dead_lettered_and_valid_ones_stored(
    kinesis, stream, db, data_dir, processor_env, start_processor
):
    valid = [reading("sensor-ok", t) for t in range(20)]
    mixed: list[dict | bytes] = []
    for index, doc in enumerate(valid):
        mixed.append(doc)
        if index < len(MALFORMED):
            mixed.append(MALFORMED[index][0])
    put_readings(kinesis, stream, mixed)

    consumer = start_processor("consume", processor_env)
    wait_until(lambda: stored_count(db) == len(valid), 60, message="valid readings stored")
    wait_until(lambda: len(dead_letters(data_dir)) == len(MALFORMED), 30, message="dead letters written")
    assert consumer.terminate() == 0

    letters = dead_letters(data_dir)
    for letter, (raw, reason) in zip(letters, MALFORMED, strict=True):
        data = letter["data"].encode() if letter["dataEncoding"] == "utf-8" else base64.b64decode(letter["data"])
        assert data == raw
        assert reason in letter["reason"]
        assert letter["shardId"] == "shardId-000000000000" and letter["sequenceNumber"]
    assert len({letter["sequenceNumber"] for letter in letters}) == len(MALFORMED)
    assert "record dead-lettered" in consumer.output()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=12,
)
near_readings = st.fixed_dictionaries(
    {},
    optional={
        "sensorId": st.text(alphabet=string.printable, max_size=20) | json_values,
        "timestamp": st.sampled_from(["2025-12-04T00:00:00Z", "2025-12-04 10:00:00+02:00", "2025-12-04"])
        | st.text(max_size=30)
        | json_values,
        "temperature": st.floats() | st.integers() | json_values,
        "humidity": st.floats() | st.integers() | json_values,
        "voltage": st.floats() | json_values,
    },
)
payloads = (
    st.binary(max_size=200)
    | near_readings.map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=300, deadline=None)
@given(st.lists(payloads, max_size=20))
def test_fuzzed_records_are_either_stored_or_dead_lettered_never_lost(tmp_path_factory, batch):
    records = [{"Data": data, "SequenceNumber": str(index), "PartitionKey": "p"} for index, data in enumerate(batch)]
    batch = decode_batch("shardId-000000000000", None, records, finished=False)
    dead = batch.dead
    # A byte-identical repeat within the batch is a counted duplicate (a producer's retry), not a loss.
    assert len(batch.rows) + len(dead) + batch.duplicates == len(records)
    writer = DeadLetterWriter(tmp_path_factory.mktemp("dl"), "stream")
    writer.write(dead)
    written = dead_letters(writer.directory)
    assert [w["sequenceNumber"] for w in written] == [d.sequence_number for d in dead]
    for line, letter in zip(written, dead, strict=True):
        raw = line["data"].encode() if line["dataEncoding"] == "utf-8" else base64.b64decode(line["data"])
        assert raw == letter.data and line["reason"]


def _general(data: bytes) -> object:
    try:
        return parse_reading(data).to_row()
    except InvalidReading:
        return InvalidReading


def _fast_path(data: bytes) -> object:
    """What `consume` makes of the record: decode_batch's inline fast path, the general parser only for the rest."""
    batch = decode_batch("shard", None, [{"Data": data, "SequenceNumber": "1"}], finished=False)
    return batch.rows[0] if batch.rows else InvalidReading


@settings(max_examples=500, deadline=None)
@given(
    payloads
    | st.builds(
        lambda s, t, x, y: json.dumps({"sensorId": s, "timestamp": t, "temperature": x, "humidity": y}).encode(),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True) | st.text(max_size=5),
        st.sampled_from(
            [
                "2025-12-04T00:00:00Z",
                "2025-02-30T00:00:00Z",
                "2025-12-04t00:00:00z",
                "2025-12-04 01:00:00+01:00",
                "2025-12-04T00:00:00.5Z",
            ]
        ),
        st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False) | st.none(),
    )
)
def test_fast_path_accepts_exactly_what_the_general_parser_accepts(data):
    assert _fast_path(data) == _general(data)
