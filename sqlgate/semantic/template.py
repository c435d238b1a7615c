"""SQL snippets from model files: ``{CUBE}.amount * {price}`` split into text and references.

A template is resolved once, at compile time, to :class:`TableRef` / :class:`MemberRef` parts. Turning
it into a sqlglot expression for one dialect happens later (:mod:`sqlgate.semantic.sqlparse`), because
the text is written in the datasource's own dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ``{CUBE}``, ``{CUBE.member}``, ``{member}``, ``{Cube.member}``, ``{Cube}``; ``${…}`` (JS style) too.
_REF = re.compile(r"\$?\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNSUPPORTED_CONTEXT = ("FILTER_PARAMS", "FILTER_GROUP", "SECURITY_CONTEXT", "COMPILE_CONTEXT", "SQL_UTILS")


class TemplateError(ValueError):
    """A template that cannot be split into text and references (message says why)."""


@dataclass(frozen=True, slots=True)
class RawRef:
    """A reference as written: the dotted path inside the braces."""

    path: tuple[str, ...]

    @property
    def text(self) -> str:
        return "{" + ".".join(self.path) + "}"


@dataclass(frozen=True, slots=True)
class TableRef:
    """``{CUBE}`` or ``{OtherCube}``: the table alias of a cube in the generated query."""

    cube: str


@dataclass(frozen=True, slots=True)
class MemberRef:
    """``{member}``, ``{CUBE.member}`` or ``{Cube.member}``: another member's SQL, expanded."""

    cube: str
    member: str


Part = str | RawRef | TableRef | MemberRef


@dataclass(frozen=True, slots=True)
class SqlTemplate:
    """A SQL snippet: literal text interleaved with references."""

    text: str
    parts: tuple[Part, ...]

    @property
    def refs(self) -> tuple[TableRef | MemberRef, ...]:
        return tuple(p for p in self.parts if isinstance(p, TableRef | MemberRef))

    @property
    def member_refs(self) -> tuple[MemberRef, ...]:
        return tuple(p for p in self.parts if isinstance(p, MemberRef))

    def with_parts(self, parts: tuple[Part, ...]) -> SqlTemplate:
        return SqlTemplate(self.text, parts)


def split_template(text: str) -> SqlTemplate:
    """Split ``text`` into literal pieces and :class:`RawRef` references (not yet resolved)."""
    if "{{" in text or "{%" in text:
        raise TemplateError("Jinja templates are not supported yet")
    parts: list[Part] = []
    pos = 0
    for match in _REF.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        inner = match.group(1).strip()
        path = tuple(piece.strip() for piece in inner.split("."))
        if not inner or not all(_NAME.match(piece) for piece in path):
            raise TemplateError(f"invalid reference {match.group(0)!r}")
        if path[0] in _UNSUPPORTED_CONTEXT:
            raise TemplateError(f"{path[0]} is not supported in models yet")
        parts.append(RawRef(path))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return SqlTemplate(text, tuple(parts))
