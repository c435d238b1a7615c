"""The data model: Cube-style YAML files compiled into cubes, views, members, joins and segments.

Public API::

    model = compile_model([("Orders.yml", text), ...])     # raises ModelError (file, line, member)
    result = validate_files(files)                          # every problem, without raising
    model.relation("orders")                                # cube/view by client name (case-insensitive)
    model.relation("Orders").lookup("count")                # member by client name
    model.join_graph.path("orders", "users")                # joins between cubes
    cache = ModelCache(); cache.get(datasource_id, checksum, load_files)
"""

from sqlgate.semantic.cache import ModelCache
from sqlgate.semantic.compiler import ValidationResult, compile_model, validate_files
from sqlgate.semantic.definitions import (
    JOIN_FIELD_COLUMN,
    USER_COLUMN,
    Cube,
    Join,
    Member,
    Relation,
    View,
    ViewOrigin,
)
from sqlgate.semantic.errors import ModelError, ModelErrors
from sqlgate.semantic.joins import JoinGraph
from sqlgate.semantic.model import CompiledModel

__all__ = [
    "JOIN_FIELD_COLUMN",
    "USER_COLUMN",
    "CompiledModel",
    "Cube",
    "Join",
    "JoinGraph",
    "Member",
    "ModelCache",
    "ModelError",
    "ModelErrors",
    "Relation",
    "ValidationResult",
    "View",
    "ViewOrigin",
    "compile_model",
    "validate_files",
]
