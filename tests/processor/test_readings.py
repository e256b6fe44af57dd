"""Validation of one reading: what is accepted, and the reason given for what is not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processor.readings import InvalidReading, document_bytes, format_timestamp, parse_reading


def test_the_documented_example_is_valid():
    r = parse_reading(
        b'{"sensorId": "sensor-001", "timestamp": "2025-12-04T00:00:00Z", "temperature": 25.5, "humidity": 60.0}'
    )
    assert (r.sensor_id, r.timestamp, r.temperature, r.humidity, r.extra) == (
        "sensor-001",
        datetime(2025, 12, 4, tzinfo=UTC),
        25.5,
        60.0,
        {},
    )


@pytest.mark.parametrize(
    "text", ["2025-12-04t00:00:00z", "2025-12-04 02:00:00+02:00", "2025-12-04T00:00:00.0000001234Z"]
)
def test_rfc3339_variants_are_accepted(text):
    doc = {"sensorId": "a", "timestamp": text, "temperature": 1, "humidity": 2}
    assert parse_reading(json.dumps(doc)).timestamp == datetime(2025, 12, 4, tzinfo=UTC)


def test_extra_numeric_fields_are_kept_and_integers_become_floats():
    r = parse_reading(
        json.dumps(
            {
                "sensorId": "a",
                "timestamp": "2025-12-04T10:00:00.123456789+02:00",
                "temperature": 20,
                "humidity": 1,
                "pressure": 1013,
            }
        )
    )
    assert r.extra == {"pressure": 1013.0} and isinstance(r.temperature, float)
    # msgspec rounds a finer fraction to the nearest microsecond
    assert r.timestamp == datetime(2025, 12, 4, 10, 0, 0, 123457, tzinfo=timezone(timedelta(hours=2)))
    assert r.to_json()["timestamp"] == "2025-12-04T08:00:00.123457Z"
    assert r.to_json()["pressure"] == 1013.0


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"sensorId": 5}, "missing field(s): timestamp, temperature, humidity"),
        ({"sensorId": 5, "timestamp": "2025-12-04T00:00:00Z", "temperature": 1, "humidity": 1}, "sensorId must be"),
        ({"sensorId": "x" * 129, "timestamp": "2025-12-04T00:00:00Z", "temperature": 1, "humidity": 1}, "at most 128"),
        ({"sensorId": "s", "timestamp": "2025-12-04T00:00:00Z", "temperature": 1e999, "humidity": 1}, "not valid JSON"),
        ({"sensorId": "s", "timestamp": "2025-02-30T00:00:00Z", "temperature": 1, "humidity": 1}, "not a valid"),
        ({"sensorId": "s", "timestamp": 1733270400, "temperature": 1, "humidity": 1}, "RFC 3339"),
        ({"sensorId": "s", "timestamp": "2025-12-04T00:00:00Z", "temperature": 1, "humidity": None}, "humidity"),
        # jsonb refuses \u0000: such a name must be a dead letter, not a batch that fails forever.
        (
            {"sensorId": "s", "timestamp": "2025-12-04T00:00:00Z", "temperature": 1, "humidity": 1, "\u0000": 3},
            "extra field name",
        ),
        (
            {"sensorId": "s", "timestamp": "2025-12-04T00:00:00Z", "temperature": 1, "humidity": 1, "": 3},
            "extra field name",
        ),
        (
            {
                "sensorId": "s",
                "timestamp": "2025-12-04T00:00:00Z",
                "temperature": 1,
                "humidity": 1,
                **{f"f{i}": 1 for i in range(33)},
            },
            "at most 32 extra fields",
        ),
    ],
)
def test_invalid_readings_say_why(doc, reason):
    with pytest.raises(InvalidReading, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_reading(json.dumps(doc))


@given(
    sensor=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True),
    when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)),
    temperature=st.floats(allow_nan=False, allow_infinity=False),
    humidity=st.floats(allow_nan=False, allow_infinity=False),
)
def test_any_well_formed_reading_round_trips(sensor, when, temperature, humidity):
    doc = {"sensorId": sensor, "timestamp": format_timestamp(when), "temperature": temperature, "humidity": humidity}
    parsed = parse_reading(json.dumps(doc))
    assert parsed.to_json() == doc
    assert json.loads(document_bytes(parsed.to_row())) == doc
    assert parsed.timestamp == when


@given(
    offset_minutes=st.integers(-23 * 60, 23 * 60),
    micros=st.integers(0, 999_999),
    extra=st.dictionaries(
        st.from_regex(r"[A-Za-z0-9_.:-]{1,12}", fullmatch=True).filter(
            lambda k: k not in ("sensorId", "timestamp", "temperature", "humidity")
        ),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=3,
    ),
)
def test_serialised_reading_is_canonical_whatever_the_input_form(offset_minutes, micros, extra):
    zone = timezone(timedelta(minutes=offset_minutes))
    when = datetime(2025, 12, 4, 10, 0, 0, micros, tzinfo=zone)
    doc = {"sensorId": "s-1", "timestamp": when.isoformat(), "temperature": 1, "humidity": 2.5, **extra}
    parsed = parse_reading(json.dumps(doc))
    in_utc = (when.replace(tzinfo=None) - when.utcoffset()).isoformat() + "Z"  # always UTC, whatever the device sent
    expected = {**doc, "timestamp": in_utc, "temperature": 1.0}
    assert json.loads(document_bytes(parsed.to_row())) == parsed.to_json() == expected
