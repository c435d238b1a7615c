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
from typing import NamedTuple

# Anything whose lexical rules the literal expression below does not follow.
_UNSUPPORTED = re.compile(r"\$(?!\d)|--|/\*|\\|[uU]&")
_LITERAL = re.compile(
    r"""'((?:[^']|'')*)'"""  # 1: a standard string ('' escapes only)
    r'''|"(?:[^"]|"")*"'''  # a quoted identifier (skipped: digits inside it are no literal)
    r"""|(?<![\w$.])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.'"])"""  # 2: an unsigned number
)
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
STRING_MARK = "\x00s"
NUMBER_MARK = "\x00n"
MAX_SHAPE_TEXT = 1 << 20


class Literal(NamedTuple):
    """One literal of a statement: its value text (a string unescaped), kind and place."""

    text: str
    is_string: bool
    end: int  # offset of its last character (the closing quote of a string)


@dataclass(frozen=True, slots=True)
class Shape:
    """A statement's text with every literal replaced by a marker, and those literals in order."""

    key: str
    literals: tuple[Literal, ...]

    def split(self, positions: Sequence[int | None]) -> tuple[tuple[str, ...], list[Literal]] | None:
        """(texts of the literals that stay in the plan, lifted literals in the plan's order) for the
        ``positions`` learnt from this shape (None when they do not fit)."""
        if len(positions) != len(self.literals):
            return None
        fixed: list[str] = []
        lifted: list[Literal | None] = [None] * sum(1 for p in positions if p is not None)
        for literal, position in zip(self.literals, positions, strict=True):
            if position is None:
                fixed.append(("s" if literal.is_string else "n") + literal.text)
            else:
                lifted[position] = literal
        if any(item is None for item in lifted):
            return None
        return tuple(fixed), lifted  # type: ignore[return-value]

    def positions_for(self, lifted: Sequence[tuple[int | None, str, bool]]) -> tuple[int | None, ...] | None:
        """For each literal of the shape, the index of the lifted value it is (None: it stays in the
        plan). ``lifted`` gives, in the plan's order, each lifted literal's end offset in the text,
        value and kind, as the parser saw them; None when they do not all match a literal here."""
        by_end = {literal.end: index for index, literal in enumerate(self.literals)}
        positions: list[int | None] = [None] * len(self.literals)
        for lifted_index, (end, text, is_string) in enumerate(lifted):
            index = by_end.get(end) if end is not None else None
            if index is None:
                return None
            literal = self.literals[index]
            if literal.text != text or literal.is_string != is_string or positions[index] is not None:
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
    # Hot loop (a 1,000-value IN list is 1,000 rounds): no attribute look-ups, tuples only.
    pieces: list[str] = []
    literals: list[Literal] = []
    add_piece = pieces.append
    add_literal = literals.append
    make = Literal._make
    position = 0
    for match in _LITERAL.finditer(sql):
        string, number = match.groups()
        if string is not None:
            start, end = match.span()
            if start and sql[start - 1] in _WORD_CHARS:
                return None  # a prefixed string (E'…', B'…', X'…', N'…')
            add_literal(make((string.replace("''", "'") if "''" in string else string, True, end - 1)))
            add_piece(sql[position:start])
            add_piece(STRING_MARK)
        elif number is not None:
            start, end = match.span()
            add_literal(make((number, False, end - 1)))
            add_piece(sql[position:start])
            add_piece(NUMBER_MARK)
        else:
            continue
        position = end
    pieces.append(sql[position:])
    return Shape("".join(pieces), tuple(literals))
