"""Just enough of the protobuf wire format to write a vendor's chart messages.

No schema compiler and no dependency: a message is the concatenation of its encoded fields, each
made by one of the functions below from its field number and value; an embedded message is
the bytes of the inner message given to `message_field`. As proto3 writers do, empty repeated
fields encode to nothing; scalar fields are written as given (the caller leaves defaults out).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
import sys
from typing import Final

VARINT: Final = 0
FIXED64: Final = 1
LENGTH: Final = 2
FIXED32: Final = 5

_UINT64: Final = 1 << 64


def varint(value: int) -> bytes:
    """Base-128 varint; a negative number takes ten bytes (two's complement, as int32/int64)."""
    if value < 0:
        value += _UINT64
    if not 0 <= value < _UINT64:
        raise ValueError(f"{value} does not fit a protobuf varint")
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(number: int, wire: int) -> bytes:
    """A field's key: its number and wire type."""
    if number < 1:
        raise ValueError("protobuf field numbers start at 1")
    return varint(number << 3 | wire)


def int_field(number: int, value: int) -> bytes:
    """An int32/int64/uint32/uint64/bool/enum field."""
    return tag(number, VARINT) + varint(value)


def bytes_field(number: int, data: bytes) -> bytes:
    """A length-delimited field: raw bytes, a string's UTF-8 or an embedded message."""
    return tag(number, LENGTH) + varint(len(data)) + data


def string_field(number: int, text: str) -> bytes:
    return bytes_field(number, text.encode())


def message_field(number: int, message: bytes) -> bytes:
    """An embedded message (the inner message's encoded fields)."""
    return bytes_field(number, message)


def repeated_strings(number: int, texts: Iterable[str]) -> bytes:
    """A repeated string field: one length-delimited field per value."""
    return b"".join(string_field(number, text) for text in texts)


def packed_floats(number: int, values: Iterable[float], *, double: bool = False) -> bytes:
    """A packed repeated `float` (float32) or, with `double`, `double` (float64) field; nothing
    when there are no values."""
    packed = array("d" if double else "f", values)
    if not packed:
        return b""
    if sys.byteorder != "little":  # pragma: no cover (the wire format is little-endian)
        packed.byteswap()
    return bytes_field(number, packed.tobytes())
