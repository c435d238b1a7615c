"""Model SQL snippets as sqlglot trees, per datasource dialect, with references marked.

``{CUBE}.amount + {tax}`` is parsed (in the datasource's dialect) as ``__sgref_0.amount + __sgref_1``;
:func:`substitute` then puts the table alias of the cube in place of ``__sgref_0`` and the expanded
expression of member ``tax`` in place of ``__sgref_1``. Parsing is cached per (template, dialect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sqlgate.semantic.template import MemberRef, SqlTemplate, TableRef, TemplateError

REF_PREFIX = "__sgref_"


@dataclass(frozen=True, slots=True)
class ParsedTemplate:
    """A template's tree (references replaced by ``__sgref_<i>`` identifiers) and its references."""

    tree: exp.Expression
    refs: tuple[TableRef | MemberRef, ...]


def _ref_index(name: str) -> int | None:
    if name.startswith(REF_PREFIX):
        try:
            return int(name[len(REF_PREFIX) :])
        except ValueError:
            return None
    return None


@lru_cache(maxsize=8192)
def parse_template(template: SqlTemplate, dialect: str, statement: bool = False) -> ParsedTemplate:
    """Parse ``template`` in ``dialect`` (an expression, or a SELECT when ``statement``).

    Raises :class:`TemplateError` when the text is not valid SQL in that dialect.
    """
    pieces: list[str] = []
    refs: list[TableRef | MemberRef] = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, TableRef | MemberRef):
            pieces.append(f"{REF_PREFIX}{len(refs)}")
            refs.append(part)
        else:  # an unresolved reference: the compiler rejected the model already
            raise TemplateError(f"unresolved reference {part!r}")
    text = "".join(pieces).strip()
    if not text:
        raise TemplateError("empty SQL")
    try:
        trees = sqlglot.parse(text, read=dialect)
    except (ParseError, TokenError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TemplateError(f"invalid SQL for {dialect}: {message}") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise TemplateError("expected one SQL expression")
    tree = trees[0]
    if statement and not isinstance(tree, exp.Query):
        raise TemplateError("expected a SELECT query")
    if not statement and isinstance(tree, exp.Query | exp.Command | exp.DDL | exp.DML):
        raise TemplateError("expected an SQL expression, not a statement")
    return ParsedTemplate(tree, tuple(refs))


def substitute(
    parsed: ParsedTemplate,
    *,
    table: Callable[[TableRef], exp.Identifier],
    member: Callable[[MemberRef], exp.Expression],
    default_table: exp.Identifier | None,
) -> exp.Expression:
    """A fresh copy of ``parsed.tree`` with references replaced.

    ``table`` gives the alias identifier of a referenced cube, ``member`` the expression of a
    referenced member. Unqualified columns outside nested queries are qualified with
    ``default_table`` (the owning cube's alias), so ``sql: amount`` stays unambiguous in joins.
    """
    tree = parsed.tree.copy()
    refs = parsed.refs
    for column in list(tree.find_all(exp.Column)):
        qualifier = column.args.get("table")
        if qualifier is not None:
            index = _ref_index(qualifier.name)
            if index is not None:
                ref = refs[index]
                if not isinstance(ref, TableRef):
                    raise TemplateError(f"{{{ref.cube}.{ref.member}}} cannot be used as a table")
                column.set("table", table(ref))
            continue
        index = _ref_index(column.name)
        if index is not None:
            ref = refs[index]
            if isinstance(ref, TableRef):
                raise TemplateError(f"{{{ref.cube}}} must be followed by a column name")
            replacement = member(ref)
            if not isinstance(replacement, exp.Column | exp.Literal | exp.Paren | exp.Null | exp.Boolean):
                replacement = exp.Paren(this=replacement)
            if column is tree:
                tree = replacement
            else:
                column.replace(replacement)
            continue
        if default_table is not None and column.find_ancestor(exp.Query) is None:
            column.set("table", default_table.copy())
    return tree
