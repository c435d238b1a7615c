"""The shape of a statement: its text with the literals taken out, found without parsing.

Clients send the same statements over and over with other values (``WHERE id = 42``, then
``WHERE id = 43``). A regular expression finds the plain literals — ``'…'`` strings and unsigned
numbers — in one pass in C, so a repeated shape can be recognised, and its cached plan reused, without
sqlglot parsing the statement again. Texts with anything the expression does not model exactly
(comments, dollar quotes, ``E''``/``B''``/``X''``/``U&''`` strings, backslashes) have no shape: they
always take the parsing path.

Which literals a plan lifts into parameters is learnt once per shape, from the parsed statement
(:meth:`Shape.positions_for`); the others stay part of the cache key (``LIMIT 10``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Anything whose lexical rules the literal expression below does not follow.
_UNSUPPORTED = re.compile(r"\$(?!\d)|--|/\*|\\|[uU]&")
_LITERAL = re.compile(
    r"""([\w$]?)('(?:[^']|'')*')"""  # 1: a prefix (then no shape), 2: a standard string ('' only)
    r"""|("(?:[^"]|"")*")"""  # 3: a quoted identifier (kept: digits inside it are no literal)
    r"""|(?<![\w$.])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.'"])"""  # 4: an unsigned number
)
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
STRING_MARK = "\x00s"
NUMBER_MARK = "\x00n"
MAX_SHAPE_TEXT = 1 << 20


@dataclass(frozen=True, slots=True)
class Shape:
    """A statement's text with every literal replaced by a marker, and those literals in order as
    (value text, is a string) pairs (a string's value unescaped)."""

    key: str
    literals: tuple[tuple[str, bool], ...]
    sql: str

    def split(self, positions: Sequence[int | None]) -> tuple[tuple[str, ...], list[tuple[str, bool]]] | None:
        """(texts of the literals that stay in the plan, lifted literals in the plan's order) for the
        ``positions`` learnt from this shape (None when they do not fit)."""
        if len(positions) != len(self.literals):
            return None
        fixed: list[str] = []
        lifted: list[tuple[str, bool] | None] = [None] * (len(positions) - positions.count(None))
        for literal, position in zip(self.literals, positions, strict=True):
            if position is None:
                fixed.append(("s" if literal[1] else "n") + literal[0])
            else:
                lifted[position] = literal
        if None in lifted:
            return None
        return tuple(fixed), lifted  # type: ignore[return-value]

    def ends(self) -> list[int]:
        """The offset of each literal's last character (a string's closing quote)."""
        ends = []
        for match in _LITERAL.finditer(self.sql):
            if match.group(2) is not None or match.group(4) is not None:
                ends.append(match.end() - 1)
        return ends

    def positions_for(self, lifted: Sequence[tuple[int | None, str, bool]]) -> tuple[int | None, ...] | None:
        """For each literal of the shape, the index of the lifted value it is (None: it stays in the
        plan). ``lifted`` gives, in the plan's order, each lifted literal's end offset in the text,
        value and kind, as the parser saw them; None when they do not all match a literal here."""
        by_end = {end: index for index, end in enumerate(self.ends())}
        positions: list[int | None] = [None] * len(self.literals)
        for lifted_index, (end, text, is_string) in enumerate(lifted):
            index = by_end.get(end) if end is not None else None
            if index is None:
                return None
            if self.literals[index] != (text, is_string) or positions[index] is not None:
                return None
            positions[index] = lifted_index
        return tuple(positions)


def shape_of(sql: str) -> Shape | None:
    """The shape of one statement's text, or None when it has a construct shapes do not model."""
    if len(sql) > MAX_SHAPE_TEXT:
        return None
    return _shape_cached(sql) if len(sql) <= 65536 else _shape(sql)


@functools.lru_cache(maxsize=4096)
def _shape_cached(sql: str) -> Shape | None:
    return _shape(sql)


def _shape(sql: str) -> Shape | None:
    if _UNSUPPORTED.search(sql) is not None:
        return None
    # re.split does the scanning in C: [text, prefix, string, identifier, number, text, …]. The rest
    # is list slicing and comprehensions (a 1,000-value IN list is 1,000 literals).
    parts = _LITERAL.split(sql)
    prefixes = parts[1::5]
    if any(prefixes):
        return None  # a prefixed string (E'…', B'…', X'…', N'…')
    strings, idents, numbers = parts[2::5], parts[3::5], parts[4::5]
    marks = [
        STRING_MARK if s is not None else (NUMBER_MARK if n is not None else i)
        for s, i, n in zip(strings, idents, numbers, strict=True)
    ]
    texts = parts[0::5]
    pieces = [None] * (len(texts) + len(marks))
    pieces[0::2] = texts
    pieces[1::2] = marks
    literals = [
        (s[1:-1].replace("''", "'") if "''" in s else s[1:-1], True) if s is not None else (n, False)
        for s, n in zip(strings, numbers, strict=True)
        if s is not None or n is not None
    ]
    return Shape("".join(pieces), tuple(literals), sql)  # type: ignore[arg-type]
