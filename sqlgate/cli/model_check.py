"""Validate model files the way the gateway will compile them, before ``models push`` stores them."""

from __future__ import annotations

from collections.abc import Sequence


def validate_for_push(files: Sequence[tuple[str, str]], db_type: str) -> tuple[list[str], list[str]]:
    """Errors and warnings (one line each, naming file, line and member) for YAML model files.

    SQL snippets are parsed in the datasource's dialect when sqlgate knows it, so a typo in a
    member's ``sql`` is reported at push time rather than at the first query.
    """
    if not files:
        return [], []
    # Imported here: sqlglot is heavy and most commands never need it.
    from sqlgate.semantic import validate_files
    from sqlgate.sources.registry import sql_dialect

    result = validate_files(files, dialect=sql_dialect(db_type))
    return [str(e) for e in result.errors], list(result.warnings)
