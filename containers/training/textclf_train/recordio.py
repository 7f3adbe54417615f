"""RecordIO, the framing SageMaker uses in Pipe mode when a channel's RecordWrapperType
is RecordIO (one record per augmented-manifest attribute).

Each record: a little-endian uint32 magic 0xced7230a, a uint32 whose low 29 bits are the
payload length and whose top 3 bits say whether the payload is whole (0) or the first (1),
a middle (2) or the last (3) part of a record that was split where it contained the magic
number, then the payload padded to a multiple of 4 bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_HEADER = struct.Struct("<II")
_LENGTH_MASK = (1 << 29) - 1


class RecordIOError(ValueError):
    """The stream is not valid RecordIO."""


def read_records(stream: BinaryIO) -> Iterator[bytes]:
    """Every record of the stream, split records joined again."""
    parts: list[bytes] = []
    offset = 0
    while True:
        header = _read_exactly(stream, _HEADER.size, offset, allow_eof=not parts)
        if header is None:
            return
        magic, word = _HEADER.unpack(header)
        if magic != MAGIC:
            raise RecordIOError(f"bad magic number {magic:#010x} at byte {offset}")
        flag, length = word >> 29, word & _LENGTH_MASK
        payload = _read_exactly(stream, length, offset + _HEADER.size, allow_eof=False) or b""
        padding = (-length) % 4
        if padding:
            _read_exactly(stream, padding, offset + _HEADER.size + length, allow_eof=False)
        offset += _HEADER.size + length + padding
        if flag == 0:
            if parts:
                raise RecordIOError(f"whole record inside a split record at byte {offset}")
            yield payload
        elif flag == 1:
            if parts:
                raise RecordIOError(f"split record started twice at byte {offset}")
            parts = [payload]
        elif flag in (2, 3):
            if not parts:
                raise RecordIOError(f"continuation without a first part at byte {offset}")
            parts.append(payload)
            if flag == 3:
                yield _MAGIC_BYTES.join(parts)
                parts = []
        else:
            raise RecordIOError(f"unknown record flag {flag} at byte {offset}")


def _read_exactly(stream: BinaryIO, size: int, offset: int, *, allow_eof: bool) -> bytes | None:
    data = stream.read(size)
    if not data and allow_eof:
        return None
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            raise RecordIOError(
                f"stream ends inside a record at byte {offset + len(data)} "
                f"({size - len(data)} more bytes expected)"
            )
        data += more
    return data
