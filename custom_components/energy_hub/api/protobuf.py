"""Just enough of the protobuf wire format to read a vendor's chart messages.

No schema compiler and no dependency: a message is read into its fields by number; the caller
knows which field holds what. Unknown fields are skipped, as protobuf readers do.
"""

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
import sys
from typing import Any

from .errors import ApiResponseError

VARINT = 0
FIXED64 = 1
LENGTH = 2
FIXED32 = 5

_MAX_VARINT_BYTES = 10


@dataclass(slots=True)
class Message:
    """A decoded message: each field number's occurrences in order, with their wire type
    (ints for varints and fixed numbers, bytes for length-delimited ones, which may be
    strings, messages or packed numbers: the caller decides)."""

    fields: dict[int, list[tuple[int, int | bytes]]] = field(default_factory=dict)

    def _values(self, number: int, wire: int) -> list[Any]:
        return [value for kind, value in self.fields.get(number, ()) if kind == wire]

    def strings(self, number: int) -> list[str]:
        """Every value of a string field (invalid UTF-8 replaced, never raised)."""
        return [value.decode("utf-8", errors="replace") for value in self._values(number, LENGTH)]

    def string(self, number: int) -> str | None:
        """The last value of a string field (protobuf: the last one wins)."""
        values = self.strings(number)
        return values[-1] if values else None

    def messages(self, number: int) -> list[Message]:
        """Every value of an embedded-message field."""
        return [decode(value) for value in self._values(number, LENGTH)]

    def message(self, number: int) -> Message | None:
        values = self.messages(number)
        return values[-1] if values else None

    def integer(self, number: int) -> int | None:
        """The last value of an integer (varint) field."""
        values = self._values(number, VARINT)
        return int(values[-1]) if values else None

    def floats(self, number: int, count_hint: int | None = None) -> list[float]:
        """A repeated float or double field, packed or not.

        Packed data is read as float32, or as float64 when ``count_hint`` (the number of
        values expected) says 8 bytes a value.
        """
        out: list[float] = []
        for wire, value in self.fields.get(number, ()):
            if isinstance(value, bytes):
                out.extend(_packed_floats(value, count_hint))
            elif wire == FIXED32:
                out.append(_as_float(value, 4))
            elif wire == FIXED64:
                out.append(_as_float(value, 8))
        return out


def _as_float(bits: int, size: int) -> float:
    raw = bits.to_bytes(size, "little")
    return array("f" if size == 4 else "d", raw)[0]


def _packed_floats(raw: bytes, count_hint: int | None) -> list[float]:
    size = 4
    if len(raw) % 4:
        raise ApiResponseError("packed floats of an odd length")
    if len(raw) % 8 == 0 and count_hint and len(raw) == 8 * count_hint:
        size = 8
    values = array("f" if size == 4 else "d")
    values.frombytes(raw)
    if sys.byteorder != "little":  # pragma: no cover (wire format is little-endian)
        values.byteswap()
    return values.tolist()


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 7 * _MAX_VARINT_BYTES, 7):
        if pos >= len(data):
            raise ApiResponseError("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    raise ApiResponseError("protobuf varint too long")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field in ``data``; malformed input raises
    :class:`ApiResponseError`."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ApiResponseError("protobuf field number 0")
        value: int | bytes
        if wire == VARINT:
            value, pos = _varint(data, pos)
        elif wire == FIXED64:
            if pos + 8 > end:
                raise ApiResponseError("truncated protobuf fixed64")
            value = int.from_bytes(data[pos : pos + 8], "little")
            pos += 8
        elif wire == LENGTH:
            length, pos = _varint(data, pos)
            if pos + length > end:
                raise ApiResponseError("truncated protobuf field")
            value = data[pos : pos + length]
            pos += length
        elif wire == FIXED32:
            if pos + 4 > end:
                raise ApiResponseError("truncated protobuf fixed32")
            value = int.from_bytes(data[pos : pos + 4], "little")
            pos += 4
        else:
            raise ApiResponseError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def decode(data: bytes) -> Message:
    """One message's fields (not recursive: embedded messages stay bytes until asked for)."""
    message = Message()
    for number, wire, value in iter_fields(data):
        message.fields.setdefault(number, []).append((wire, value))
    return message
