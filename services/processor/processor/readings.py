"""Parsing and validation of one sensor reading (the JSON a device sends), straight to a row of the readings table.

The timestamp window: a reading's time must be at or after EARLIEST (2000-01-01T00:00:00Z) and at most
`max_future` (MAX_FUTURE_SECONDS, default 15 minutes of clock skew) after the moment Kinesis received the record
(its ApproximateArrivalTimestamp). Judging "future" against the arrival time, not the clock, gives the same verdict
when a batch is replayed days later, so a record is never stored on one try and dead-lettered on another.
Readings outside the window are dead letters: a year-10000 instant cannot be loaded back from PostgreSQL, and a
reading dated 2099 would stay the sensor's "latest" forever.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, NamedTuple

import msgspec
import orjson

MAX_SENSOR_ID_LENGTH = 128
MAX_EXTRA_FIELDS = 32
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_MAX_FUTURE = timedelta(minutes=15)
_SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
_REQUIRED = ("sensorId", "timestamp", "temperature", "humidity")
MAX_FIELD_NAME_LENGTH = 64
# Extra field names are stored as jsonb keys and shown by the API: printable, no control characters (jsonb refuses
# \u0000, which would otherwise fail the whole batch's transaction again and again).
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")

# A row of the readings table: sensor_id, ts, temperature, humidity, extra (further numeric fields, or None).
Row = tuple[str, datetime, float, float, dict[str, float] | None]


class InvalidReading(ValueError):
    """A record that is not a valid reading; the message says why."""


class Reading(NamedTuple):
    """A valid reading, its time in UTC."""

    sensor_id: str
    timestamp: datetime
    temperature: float
    humidity: float
    extra: dict[str, float]

    def to_json(self) -> dict[str, object]:
        return reading_document(self.sensor_id, self.timestamp, self.temperature, self.humidity, self.extra)

    def to_row(self) -> Row:
        return (self.sensor_id, self.timestamp, self.temperature, self.humidity, self.extra or None)


def reading_document(
    sensor_id: str, timestamp: datetime, temperature: float, humidity: float, extra: dict[str, float] | None
) -> dict[str, object]:
    """The reading as the API and Redis show it: the device's JSON shape, its time in UTC."""
    return {
        "sensorId": sensor_id,
        "timestamp": format_timestamp(timestamp),
        "temperature": temperature,
        "humidity": humidity,
        **(extra or {}),
    }


def document_bytes(row: Row) -> bytes:
    """`reading_document` of a row, serialised. Rows without extra fields, the usual case, skip building a dict:
    sensorId and the canonical timestamp need no escaping, and repr() of a finite float is a JSON number."""
    sensor_id, ts, temperature, humidity, extra = row
    if extra:
        return orjson.dumps(reading_document(*row))
    return (
        f'{{"sensorId":"{sensor_id}","timestamp":"{format_timestamp(ts)}",'
        f'"temperature":{temperature!r},"humidity":{humidity!r}}}'
    ).encode()


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`: the one form every answer uses, whatever offset the device sent (PostgreSQL's
    timestamptz keeps the instant, not the offset, so UTC is the only form /latest and /readings can agree on)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat() + "Z"


def validate_sensor_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidReading("sensorId must be a non-empty string")
    if len(value) > MAX_SENSOR_ID_LENGTH:
        raise InvalidReading(f"sensorId must be at most {MAX_SENSOR_ID_LENGTH} characters")
    if not _SENSOR_ID.match(value):
        raise InvalidReading("sensorId may contain only letters, digits and . _ : - (starting with a letter or digit)")
    return value


# msgspec parses RFC 3339 in C; tz=True refuses a date-time without an offset.
_Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]


def parse_timestamp(value: object, field: str = "timestamp") -> datetime:
    """An RFC 3339 date-time with a time zone (any offset, any fraction, rounded to microseconds), in UTC;
    raises InvalidReading naming ``field``."""
    if not isinstance(value, str):
        raise InvalidReading(f"{field} must be an RFC 3339 date-time with a time zone, e.g. 2025-12-04T00:00:00Z")
    try:
        moment = msgspec.convert(value, _Timestamp)
    except msgspec.ValidationError:
        raise InvalidReading(
            f"{field} must be an RFC 3339 date-time with a time zone, e.g. 2025-12-04T00:00:00Z; "
            f"{value[:40]!r} is not a valid date-time"
        ) from None
    return _utc(moment, field)


def _utc(moment: datetime, field: str = "timestamp") -> datetime:
    if moment.tzinfo is UTC:
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is in the year 10000 UTC
        raise InvalidReading(f"{field} {moment.isoformat()} is outside the accepted window") from None


def check_window(ts: datetime, latest: datetime) -> None:
    """Raise InvalidReading unless EARLIEST <= ts <= latest (see the module's docstring)."""
    if not 1 < ts.year < 9999:  # may not even have a UTC form (9999-12-31T23:59:59-01:00 is in the year 10000)
        raise InvalidReading(f"timestamp {ts.isoformat()} is outside the accepted window")
    if ts < EARLIEST:
        raise InvalidReading(f"timestamp {format_timestamp(ts)} is before {format_timestamp(EARLIEST)}")
    if ts > latest:
        raise InvalidReading(
            f"timestamp {format_timestamp(ts)} is in the future: later than {format_timestamp(latest)} "
            "(the record's arrival in Kinesis plus the allowed clock skew)"
        )


def _number(value: object, field: str) -> float:
    # Exact type checks: bool is an int subclass, but `true` is not a measurement.
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]  # always finite: orjson rejects NaN and Infinity
    if kind is int:
        return float(value)  # type: ignore[arg-type]
    raise InvalidReading(f"{field} must be a number")


# Sensor ids already matched against _SENSOR_ID. A fleet sends the same ids again and again: a set lookup costs a
# tenth of the regular expression that a msgspec `pattern` runs for every record (about 0.5 us of ~3 us per record).
# Bounded, in case ids never repeat: past the bound, new ids are matched each time.
_GOOD_IDS: set[str] = set()


def good_sensor_id(value: str) -> bool:
    """Whether a non-empty string of at most MAX_SENSOR_ID_LENGTH characters is a valid sensorId (cached)."""
    if value in _GOOD_IDS:
        return True
    if not _SENSOR_ID.match(value):
        return False
    if len(_GOOD_IDS) < 100_000:
        _GOOD_IDS.add(value)
    return True


class _ReadingWithExtras(msgspec.Struct, gc=False):
    """The four fields checked in C by msgspec, whatever else the object holds (the extras are read separately).
    The sensorId's characters are not checked here: callers check them with `good_sensor_id`."""

    sensorId: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SENSOR_ID_LENGTH)]
    timestamp: _Timestamp
    temperature: float
    humidity: float


_decode_four = msgspec.json.Decoder(_ReadingWithExtras).decode


# Extra field names already checked: devices send the same few names again and again (bounded, in case not).
_GOOD_NAMES: set[str] = set()


class NotUsual(Exception):
    """A record the fast path leaves to the general parser, which accepts it or says why it is invalid."""


def extra_fields(data: bytes) -> dict[str, float] | None:
    """The extra fields of a record whose four fields `_decode_four` accepted; raises NotUsual unless every one has
    a known name and a float value (the general parser then checks, or says why)."""
    try:
        doc = orjson.loads(data)  # msgspec has just read it, but the two may disagree at the edges (huge numbers)
        for key in _REQUIRED:
            del doc[key]  # all four are there: msgspec has just read them
    except (orjson.JSONDecodeError, KeyError):
        raise NotUsual from None
    if len(doc) > MAX_EXTRA_FIELDS or not _GOOD_NAMES.issuperset(doc):
        raise NotUsual
    for value in doc.values():
        if type(value) is not float:
            raise NotUsual
    return doc or None


def parse_row_general(data: bytes | str) -> Row:
    """Decode and validate any reading, extra numeric fields included; raises InvalidReading naming the problem."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidReading(f"not valid JSON: {exc}") from None
    if type(doc) is not dict:
        raise InvalidReading("a reading must be a JSON object")
    try:
        sensor_id, timestamp, temperature, humidity = (
            doc["sensorId"], doc["timestamp"], doc["temperature"], doc["humidity"]
        )  # fmt: skip
    except KeyError:
        raise InvalidReading(f"missing field(s): {', '.join(n for n in _REQUIRED if n not in doc)}") from None
    extra: dict[str, float] = {}
    if len(doc) > len(_REQUIRED):
        if len(doc) - len(_REQUIRED) > MAX_EXTRA_FIELDS:
            raise InvalidReading(f"at most {MAX_EXTRA_FIELDS} extra fields are allowed")
        for key, value in doc.items():
            if key not in _REQUIRED:
                if key not in _GOOD_NAMES:
                    if not _FIELD_NAME.match(key):
                        raise InvalidReading(
                            f"extra field name {key[:40]!r} must be 1-{MAX_FIELD_NAME_LENGTH} letters, digits "
                            "or _ . : -"
                        )
                    if len(_GOOD_NAMES) < 10_000:
                        _GOOD_NAMES.add(key)
                extra[key] = _number(value, key)
    return (
        validate_sensor_id(sensor_id),
        parse_timestamp(timestamp),
        _number(temperature, "temperature"),
        _number(humidity, "humidity"),
        extra or None,
    )


def _now_latest() -> datetime:
    return datetime.now(UTC) + DEFAULT_MAX_FUTURE


def parse_reading(data: bytes | str, latest: datetime | None = None) -> Reading:
    """One record's data as a Reading, window included (`latest` defaults to now plus the default clock skew), by
    the general parser: what `batch.decode_batch` accepts on its fast path (a property test checks it)."""
    sensor_id, ts, temperature, humidity, extra = parse_row_general(data)
    check_window(ts, latest or _now_latest())
    return Reading(sensor_id, ts, temperature, humidity, extra or {})
