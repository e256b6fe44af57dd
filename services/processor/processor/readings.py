"""Parsing and validation of one sensor reading (the JSON a device sends)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, NamedTuple

import msgspec
import orjson

MAX_SENSOR_ID_LENGTH = 128
MAX_EXTRA_FIELDS = 32
# RFC 3339 date-time: full date, 'T' (or space), time with optional fraction, and a mandatory offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
_SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
_REQUIRED = ("sensorId", "timestamp", "temperature", "humidity")
MAX_FIELD_NAME_LENGTH = 64
# Extra field names are stored as jsonb keys and shown by the API: printable, no control characters (jsonb refuses
# \u0000, which would otherwise fail the whole batch's transaction again and again).
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")


class InvalidReading(ValueError):
    """A record that is not a valid reading; the message says why."""


class Reading(NamedTuple):
    """A valid reading. A NamedTuple: the consumer builds one per record, and it is the cheapest immutable type."""

    sensor_id: str
    timestamp: datetime
    temperature: float
    humidity: float
    extra: dict[str, float]
    timestamp_text: str  # the timestamp in its canonical form (format_timestamp), as the API shows it

    def to_json(self) -> dict[str, object]:
        return reading_document(self.sensor_id, self.timestamp, self.temperature, self.humidity, self.extra)

    def to_json_bytes(self) -> bytes:
        """`to_json()` serialised. Readings with no extra fields, the usual case, skip building a dict: sensorId
        and the canonical timestamp need no escaping, and repr() of a finite float is a JSON number."""
        if self.extra:
            return orjson.dumps(self.to_json())
        return (
            f'{{"sensorId":"{self.sensor_id}","timestamp":"{self.timestamp_text}",'
            f'"temperature":{self.temperature!r},"humidity":{self.humidity!r}}}'
        ).encode()


def reading_document(
    sensor_id: str, timestamp: datetime, temperature: float, humidity: float, extra: dict[str, float] | None
) -> dict[str, object]:
    """The reading as the API and Redis show it: the device's JSON shape."""
    return {
        "sensorId": sensor_id,
        "timestamp": format_timestamp(timestamp),
        "temperature": temperature,
        "humidity": humidity,
        **(extra or {}),
    }


def format_timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def validate_sensor_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidReading("sensorId must be a non-empty string")
    if len(value) > MAX_SENSOR_ID_LENGTH:
        raise InvalidReading(f"sensorId must be at most {MAX_SENSOR_ID_LENGTH} characters")
    if not _SENSOR_ID.match(value):
        raise InvalidReading("sensorId may contain only letters, digits and . _ : - (starting with a letter or digit)")
    return value


def _is_plain_utc(value: str) -> bool:
    """`YYYY-MM-DDTHH:MM:SSZ`, what devices send almost always: checked without a regex."""
    return (
        len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
        and value[:4].isdigit()  # fromisoformat checks the other digits
    )


def parse_timestamp(value: object, field: str = "timestamp") -> datetime:
    """An RFC 3339 date-time with a time zone; raises InvalidReading naming ``field``."""
    return _timestamp_and_text(value, field)[0]


def _timestamp_and_text(value: object, field: str = "timestamp") -> tuple[datetime, str]:
    """The date-time and its canonical text (format_timestamp): a plain UTC one already is, the rest is formatted."""
    if type(value) is str and _is_plain_utc(value):  # what devices send almost always
        try:
            return datetime.fromisoformat(value), value
        except ValueError:
            raise InvalidReading(f"{field} is not a valid date-time: {value!r}") from None
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidReading(f"{field} must be an RFC 3339 date-time with a time zone, e.g. 2025-12-04T00:00:00Z")
    text: str = value  # type: ignore[assignment]
    fraction = match.group(1)
    if fraction and len(fraction) > 7:  # Python keeps microseconds; drop finer digits
        text = text.replace(fraction, fraction[:7], 1)
    try:
        moment = datetime.fromisoformat(text if text.isupper() else text.upper())  # RFC 3339 allows 't' and 'z'
    except ValueError:
        raise InvalidReading(f"{field} is not a valid date-time: {value!r}") from None
    return moment, format_timestamp(moment)


def _number(value: object, field: str) -> float:
    # Exact type checks: bool is an int subclass, but `true` is not a measurement.
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]  # always finite: orjson rejects NaN and Infinity
    if kind is int:
        return float(value)  # type: ignore[arg-type]
    raise InvalidReading(f"{field} must be a number")


class _PlainReading(msgspec.Struct, forbid_unknown_fields=True):
    """The usual reading (the four fields, no extras), decoded and type-checked in C by msgspec."""

    sensorId: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SENSOR_ID_LENGTH, pattern=_SENSOR_ID.pattern)]
    timestamp: str
    temperature: float
    humidity: float


_decode_plain = msgspec.json.Decoder(_PlainReading).decode


def parse_reading(data: bytes | str) -> Reading:
    """Decode and validate one record's data; raises InvalidReading naming the problem.

    The usual reading takes a fast path; anything else (extra fields, or anything invalid) goes through the
    general parser, which accepts exactly the same readings (a property test checks it) and gives the reason.
    """
    try:
        plain = _decode_plain(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return parse_reading_general(data)
    moment, text = _timestamp_and_text(plain.timestamp)
    return Reading(plain.sensorId, moment, plain.temperature, plain.humidity, {}, text)


def parse_reading_general(data: bytes | str) -> Reading:
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
                if not _FIELD_NAME.match(key):
                    raise InvalidReading(
                        f"extra field name {key[:40]!r} must be 1-{MAX_FIELD_NAME_LENGTH} letters, digits or _ . : -"
                    )
                extra[key] = _number(value, key)
    moment, text = _timestamp_and_text(timestamp)
    return Reading(
        validate_sensor_id(sensor_id),
        moment,
        _number(temperature, "temperature"),
        _number(humidity, "humidity"),
        extra,
        text,
    )
