"""A small PostgreSQL lexer: split a query string into statements and tokenize session commands.

It knows exactly as much of PostgreSQL's lexical rules as splitting needs: single-quoted strings
('' escapes; backslash escapes only in ``E''`` strings, since standard_conforming_strings is on),
dollar-quoted strings (``$tag$ … $tag$``), double-quoted identifiers, ``--`` line comments and nested
``/* */`` block comments. Everything else is words, numbers, parameters (``$1``) and operators.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from sqlgate.errors import SYNTAX_ERROR, PgError

WORD = "word"  # identifier or keyword (value lower-cased in .lower)
QUOTED_IDENT = "ident"  # "Quoted" identifier (value without quotes, "" unescaped)
STRING = "string"  # string literal (value unescaped)
NUMBER = "number"
PARAM = "param"  # $n
OP = "op"  # operator or punctuation
COMMENT = "comment"

_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") | frozenset(
    chr(c) for c in range(128, 256)
)
_WORD_CHARS = _WORD_START | frozenset("0123456789$")
_DIGITS = frozenset("0123456789")
_OP_CHARS = frozenset("+-*/<>=~!@#%^&|`?")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.value.lower()

    def is_word(self, *words: str) -> bool:
        return self.kind == WORD and self.value.lower() in words


def _unterminated(what: str, sql: str, pos: int) -> PgError:
    snippet = sql[pos : pos + 20]
    return PgError(SYNTAX_ERROR, f'unterminated {what} at or near "{snippet}"', position=pos + 1)


def _scan_quoted(sql: str, pos: int, backslash: bool) -> tuple[str, int]:
    """Scan a '…' string starting at the quote at ``pos``; return (value, end index)."""
    out: list[str] = []
    i = pos + 1
    n = len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            if i + 1 < n and sql[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        if backslash and c == "\\" and i + 1 < n:
            out.append(_unescape_one(sql, i))
            i += _escape_length(sql, i)
            continue
        out.append(c)
        i += 1
    raise _unterminated("quoted string", sql, pos)


_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _escape_length(sql: str, i: int) -> int:
    nxt = sql[i + 1]
    if nxt in "01234567":
        j = i + 1
        while j < len(sql) and j < i + 4 and sql[j] in "01234567":
            j += 1
        return j - i
    if nxt == "x":
        j = i + 2
        while j < len(sql) and j < i + 4 and sql[j] in "0123456789abcdefABCDEF":
            j += 1
        return max(j - i, 2)
    if nxt in "uU":
        width = 4 if nxt == "u" else 8
        return 2 + width
    return 2


def _unescape_one(sql: str, i: int) -> str:
    nxt = sql[i + 1]
    if nxt in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[nxt]
    length = _escape_length(sql, i)
    body = sql[i + 1 : i + length]
    try:
        if nxt in "01234567":
            return chr(int(body, 8))
        if nxt == "x" and len(body) > 1:
            return chr(int(body[1:], 16))
        if nxt in "uU":
            return chr(int(body[1:], 16))
    except ValueError:
        raise PgError("22025", "invalid Unicode escape value") from None
    return nxt


def _dollar_tag(sql: str, pos: int) -> str | None:
    """The ``$tag$`` opening at ``pos``, or None when ``$`` starts something else (``$1``)."""
    n = len(sql)
    j = pos + 1
    if j < n and sql[j] == "$":
        return "$$"
    if j >= n or sql[j] not in _WORD_START:
        return None
    while j < n and (sql[j] in _WORD_START or sql[j] in _DIGITS):
        j += 1
    if j < n and sql[j] == "$":
        return sql[pos : j + 1]
    return None


def _string_prefix(sql: str, i: int) -> tuple[int, bool] | None:
    """When a string literal starts at ``i``: (index of its opening quote, backslash escapes?)."""
    c = sql[i]
    if c == "'":
        return i, False
    if sql[i + 1 : i + 2] == "'":
        if c in "eE":
            return i + 1, True
        if c in "bBxXnN":
            return i + 1, False
    if c in "uU" and sql[i + 1 : i + 3] == "&'":
        return i + 2, False
    return None


def tokenize(sql: str, *, strict: bool = True, comments: bool = False) -> Iterator[Token]:
    """Yield the tokens of ``sql``. With ``strict`` an unterminated string or comment raises 42601;
    without it the rest of the text becomes one token (used by :func:`split_statements`)."""
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
            continue
        start = i
        # comments
        if c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            if comments:
                yield Token(COMMENT, sql[start:i], start, i)
            continue
        if c == "/" and sql.startswith("/*", i):
            depth = 0
            while i < n:
                if sql.startswith("/*", i):
                    depth += 1
                    i += 2
                elif sql.startswith("*/", i):
                    depth -= 1
                    i += 2
                    if depth == 0:
                        break
                else:
                    i += 1
            else:
                if depth and strict:
                    raise _unterminated("/* comment", sql, start)
            if comments:
                yield Token(COMMENT, sql[start:i], start, i)
            continue
        # strings: E'..' (backslash escapes), B'..' X'..' N'..', U&'..', plain '..'
        quote = _string_prefix(sql, i)
        if quote is not None:
            body_start, backslash = quote
            try:
                value, i = _scan_quoted(sql, body_start, backslash=backslash)
            except PgError:
                if strict:
                    raise
                value, i = sql[body_start + 1 :], n
            yield Token(STRING, value, start, i)
            continue
        if c == '"' or (c in "uU" and sql.startswith('&"', i + 1)):
            q = i if c == '"' else i + 2
            end = q + 1
            parts: list[str] = []
            while True:
                close = sql.find('"', end)
                if close < 0:
                    if strict:
                        raise _unterminated("quoted identifier", sql, start)
                    parts.append(sql[end:])
                    end = n
                    break
                parts.append(sql[end:close])
                if close + 1 < n and sql[close + 1] == '"':
                    parts.append('"')
                    end = close + 2
                    continue
                end = close + 1
                break
            i = end
            yield Token(QUOTED_IDENT, "".join(parts), start, i)
            continue
        if c == "$":
            tag = _dollar_tag(sql, i)
            if tag is not None:
                close = sql.find(tag, i + len(tag))
                if close < 0:
                    if strict:
                        raise _unterminated("dollar-quoted string", sql, start)
                    i = n
                    yield Token(STRING, sql[start + len(tag) :], start, i)
                    continue
                i = close + len(tag)
                yield Token(STRING, sql[start + len(tag) : close], start, i)
                continue
            j = i + 1
            while j < n and sql[j] in _DIGITS:
                j += 1
            if j > i + 1:
                i = j
                yield Token(PARAM, sql[start:i], start, i)
                continue
            i += 1
            yield Token(OP, "$", start, i)
            continue
        if c in _WORD_START:
            j = i + 1
            while j < n and sql[j] in _WORD_CHARS:
                j += 1
            i = j
            yield Token(WORD, sql[start:i], start, i)
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and sql[i + 1] in _DIGITS):
            j = i
            while j < n and (sql[j] in _DIGITS or sql[j] in "._"):
                j += 1
            if j < n and sql[j] in "eE":
                k = j + 1
                if k < n and sql[k] in "+-":
                    k += 1
                if k < n and sql[k] in _DIGITS:
                    j = k
                    while j < n and sql[j] in _DIGITS:
                        j += 1
            i = j
            yield Token(NUMBER, sql[start:i], start, i)
            continue
        if c == ":" and sql.startswith("::", i):
            i += 2
            yield Token(OP, "::", start, i)
            continue
        if c in _OP_CHARS:
            j = i + 1
            while (
                j < n and sql[j] in _OP_CHARS and not sql.startswith("--", j) and not sql.startswith("/*", j)
            ):
                j += 1
            i = j
            yield Token(OP, sql[start:i], start, i)
            continue
        i += 1
        yield Token(OP, c, start, i)


def split_statements(sql: str) -> list[str]:
    """Split on top-level semicolons; statements that hold only whitespace and comments are dropped
    (PostgreSQL does the same; a query with no statement at all answers EmptyQueryResponse).

    Results for texts up to 64 kB are cached: the wire splits a simple query and the planner splits
    each statement again, and tools send the same statements over and over."""
    single = _single_statement(sql)
    if single is not None:
        return single
    if len(sql) <= 65536:
        return list(_split_cached(sql))
    return _split(sql)


def _single_statement(sql: str) -> list[str] | None:
    """The common case without tokenizing: no semicolon (but perhaps one at the very end) and no
    comment, so the text is one statement whatever its quotes hold. None: tokenize to be sure."""
    text = sql.strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
        if "'" in text or '"' in text or "$" in text:
            return None  # the semicolon may be inside an unterminated quote
    if ";" in text or "--" in text or "/*" in text:
        return None
    return [text] if text else []


@functools.lru_cache(maxsize=2048)
def _split_cached(sql: str) -> tuple[str, ...]:
    return tuple(_split(sql))


def _split(sql: str) -> list[str]:
    statements: list[str] = []
    start = 0
    has_content = False
    for tok in tokenize(sql, strict=False):
        if tok.kind == OP and tok.value == ";":
            if has_content:
                statements.append(sql[start : tok.start].strip())
            start = tok.end
            has_content = False
        else:
            has_content = True
    if has_content:
        statements.append(sql[start:].strip())
    return statements


def significant_tokens(sql: str, limit: int | None = None) -> list[Token]:
    """Tokens without comments (at most ``limit``); raises 42601 on unterminated quotes."""
    out: list[Token] = []
    for tok in tokenize(sql):
        out.append(tok)
        if limit is not None and len(out) >= limit:
            break
    return out


def first_word(sql: str) -> str:
    """The first keyword of ``sql``, lower-cased ("" when it does not start with a word)."""
    for tok in tokenize(sql, strict=False):
        return tok.lower if tok.kind == WORD else ""
    return ""
