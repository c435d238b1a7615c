"""Runs of complete DataRow messages as a server sends them: cut them by row count, decode them.

The PostgreSQL datasource's pass-through path hands the wire whole DataRow messages; these helpers
are what is needed when those bytes cannot simply be forwarded (a client row limit that falls inside
a run, or a column whose values must be converted first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlgate.pgproto.buffer import I16, I32, U32

_U32_FROM = U32.unpack_from
_I32_FROM = I32.unpack_from
_I16_FROM = I16.unpack_from


def split_rows(data: bytes, count: int) -> tuple[bytes, bytes]:
    """``data`` (DataRow messages) cut after the first ``count`` messages: (head, rest)."""
    pos = 0
    for _ in range(count):
        if pos >= len(data):
            break
        pos += 1 + _U32_FROM(data, pos + 1)[0]
    return data[:pos], data[pos:]


def decode_rows(data: bytes, decoders: Sequence[Callable[[bytes], Any]]) -> list[tuple[Any, ...]]:
    """The values of the DataRow messages in ``data``, each column through its decoder."""
    rows: list[tuple[Any, ...]] = []
    view = memoryview(data)
    pos = 0
    end = len(data)
    while pos < end:
        length = _U32_FROM(data, pos + 1)[0]
        nxt = pos + 1 + length
        fields = _I16_FROM(data, pos + 5)[0]
        p = pos + 7
        values: list[Any] = []
        for index in range(fields):
            size = _I32_FROM(data, p)[0]
            p += 4
            if size < 0:
                values.append(None)
                continue
            values.append(decoders[index](bytes(view[p : p + size])))
            p += size
        rows.append(tuple(values))
        pos = nxt
    return rows
