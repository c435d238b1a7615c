"""PostgreSQL's other string syntaxes, turned into plain string literals before planning.

sqlglot keeps dollar-quoted (``$$…$$``, ``$tag$…$tag$``), escape (``E'…'``) and Unicode-escape
(``U&'…' [UESCAPE 'c']``) strings as their own node types. Their values are ordinary strings, so the
semantic planner sees them as such: they are lifted into bound parameters like any other literal,
and no dialect ever has to render PostgreSQL-only string syntax.
"""

from __future__ import annotations

from sqlglot import exp

from sqlgate.errors import PgError

_KINDS = (exp.RawString, exp.ByteString, exp.UnicodeString)
INVALID_ESCAPE = "22025"
_HEX = frozenset("0123456789abcdefABCDEF")
_HINT = "Unicode escapes must be \\XXXX or \\+XXXXXX."


def plain_strings(tree: exp.Expression, *, copy: bool) -> exp.Expression:
    """``tree`` with every dollar-quoted, E'' and U&'' string replaced by a plain string literal."""
    if not any(True for _ in tree.find_all(*_KINDS)):
        return tree
    if copy:
        tree = tree.copy()
    for node in list(tree.find_all(*_KINDS)):
        literal = exp.Literal.string(_value(node))
        if node is tree:
            return literal
        node.replace(literal)
    return tree


def _value(node: exp.Expression) -> str:
    text = str(node.this)
    if isinstance(node, exp.UnicodeString):
        escape = node.args.get("escape")
        return decode_unicode_escapes(text, escape.this if isinstance(escape, exp.Literal) else "\\")
    return text  # sqlglot has already decoded E'' escapes; $$ strings have none


def decode_unicode_escapes(text: str, escape: str = "\\") -> str:
    """The value of ``U&'text'``: ``<e>XXXX`` and ``<e>+XXXXXX`` code points, ``<e><e>`` for ``<e>``."""
    if len(escape) != 1 or escape in "0123456789abcdefABCDEF+'\" \t\n\r":
        raise PgError(INVALID_ESCAPE, "invalid Unicode escape character")
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != escape:
            out.append(char)
            i += 1
            continue
        if text[i + 1 : i + 2] == escape:
            out.append(escape)
            i += 2
            continue
        if text[i + 1 : i + 2] == "+":
            digits, step = text[i + 2 : i + 8], 8
            wanted = 6
        else:
            digits, step = text[i + 1 : i + 5], 5
            wanted = 4
        if len(digits) != wanted or any(c not in _HEX for c in digits):
            raise PgError(INVALID_ESCAPE, "invalid Unicode escape", hint=_HINT)
        point = int(digits, 16)
        if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
            raise PgError(INVALID_ESCAPE, "invalid Unicode code point", hint=_HINT)
        out.append(chr(point))
        i += step
    return "".join(out)
