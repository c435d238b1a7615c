"""``models push``: store model files as a new version of a datasource's branch.

Every file is read and checked before anything is written; one bad file means nothing is stored.
YAML files must parse and hold a mapping with ``cubes:`` and/or ``views:`` lists of named entries.
JavaScript files are stored as they are (Synmetrix can use them) with a warning: sqlgate cannot serve
JS models yet. Full semantic validation (members, joins, SQL) belongs to :mod:`sqlgate.semantic`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.metastore.admin.errors import InvalidInputError
from sqlgate.metastore.admin.resolve import as_uuid, resolve_datasource, resolve_team
from sqlgate.metastore.admin.session import transaction
from sqlgate.metastore.models import Branch, Dataschema, Version

MODEL_SUFFIXES = (".yml", ".yaml", ".js")
YAML_SUFFIXES = (".yml", ".yaml")
TOP_LEVEL_LISTS = ("cubes", "views")


@dataclass(frozen=True, slots=True)
class ModelSource:
    """A model file to push: its stored name (the file name), where it came from, and its text."""

    name: str
    path: str
    code: str


class ModelFileError(InvalidInputError):
    """A model file is unreadable or invalid; the message names the file and line."""


def collect_model_files(paths: list[str]) -> list[ModelSource]:
    """Read the model files named by ``paths`` (files, or folders searched recursively).

    Raises :class:`ModelFileError` for a missing path, a file with another suffix, a folder with no
    model files, two files with the same name, or a file that is not UTF-8 text.
    """
    if not paths:
        raise ModelFileError("give at least one model file or folder")
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in MODEL_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                raise ModelFileError(f"{raw}: no model files ({', '.join(MODEL_SUFFIXES)}) in this folder")
            found.extend(files)
        elif path.is_file():
            if path.suffix.lower() not in MODEL_SUFFIXES:
                raise ModelFileError(f"{raw}: not a model file (expected {', '.join(MODEL_SUFFIXES)})")
            found.append(path)
        else:
            raise ModelFileError(f"{raw}: no such file or folder")
    sources: list[ModelSource] = []
    seen: dict[str, Path] = {}
    for path in found:
        if path.name in seen:
            raise ModelFileError(
                f"two model files are named {path.name} ({seen[path.name]} and {path}); "
                "file names must be unique in a version"
            )
        seen[path.name] = path
        try:
            code = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except OSError as exc:
            raise ModelFileError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
        sources.append(ModelSource(name=path.name, path=str(path), code=code))
    return sources


def check_model_file(source: ModelSource) -> list[str]:
    """Problems of one file as ``"<file>: line N: message"`` strings (empty when it is fine)."""
    if not source.name.lower().endswith(YAML_SUFFIXES):
        return []
    try:
        root = yaml.compose(source.code, Loader=yaml.SafeLoader)
        yaml.safe_load(source.code)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.problem:
            started = f" started at line {exc.context_mark.line + 1}" if exc.context_mark else ""
            problem = f"{exc.problem} ({exc.context}{started})"
        return [f"{source.path}: {line}invalid YAML: {problem}"]
    except yaml.YAMLError as exc:
        return [f"{source.path}: invalid YAML: {exc}"]
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        return [f"{source.path}: line {line}: expected a mapping with cubes: and/or views: at the top"]
    problems: list[str] = []
    keys = {}
    for key_node, value_node in root.value:
        keys[key_node.value] = value_node
    if not any(k in keys for k in TOP_LEVEL_LISTS):
        problems.append(f"{source.path}: line 1: no cubes: or views: list at the top level")
    for key in TOP_LEVEL_LISTS:
        node = keys.get(key)
        if node is None:
            continue
        if not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
                continue  # "cubes:" with nothing under it: an empty list
            problems.append(f"{source.path}: line {node.start_mark.line + 1}: {key}: must be a list")
            continue
        for item in node.value:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                problems.append(
                    f"{source.path}: line {line}: each entry of {key}: must be a mapping with a name"
                )
                continue
            name = next((v for k, v in item.value if k.value == "name"), None)
            if not isinstance(name, yaml.ScalarNode) or not name.value:
                singular = key[:-1]
                problems.append(f"{source.path}: line {line}: this {singular} has no name")
    return problems


def model_warnings(sources: list[ModelSource]) -> list[str]:
    """Warnings for files that are stored but that sqlgate cannot serve."""
    return [
        f"{s.path}: stored, but sqlgate cannot serve JavaScript models yet (only YAML); Synmetrix can use it"
        for s in sources
        if s.name.lower().endswith(".js")
    ]


def version_checksum(sources: list[ModelSource]) -> str:
    """md5 of the concatenated file codes, as Synmetrix computes ``versions.checksum``."""
    return hashlib.md5("".join(s.code for s in sources).encode("utf-8"), usedforsecurity=False).hexdigest()


async def push_models(
    engine: AsyncEngine,
    *,
    team: str,
    datasource: str,
    paths: list[str],
    branch: str = "main",
) -> dict[str, Any]:
    """Store the model files at ``paths`` as a new version of ``branch`` of the datasource.

    The branch is created when missing (``active`` if the datasource had no branch yet). Rows are
    owned by the team's owner. Returns ``{"version_id", "branch", "branch_id", "branch_status",
    "checksum", "files", "warnings"}``; raises :class:`ModelFileError` (nothing written) when any file
    is invalid.
    """
    return await push_model_sources(
        engine, team=team, datasource=datasource, sources=collect_model_files(paths), branch=branch
    )


async def push_model_sources(
    engine: AsyncEngine,
    *,
    team: str,
    datasource: str,
    sources: list[ModelSource],
    branch: str = "main",
) -> dict[str, Any]:
    """:func:`push_models` for files already in memory (``sqlgate demo``, tests)."""
    branch = (branch or "").strip()
    if not branch:
        raise InvalidInputError("the branch name must not be empty")
    if not sources:
        raise ModelFileError("no model files to push")
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ModelFileError(f"file names must be unique in a version: {', '.join(duplicates)}")
    problems = [p for s in sources for p in check_model_file(s)]
    if problems:
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        raise ModelFileError(f"nothing pushed, {count}: " + "; ".join(problems))
    warnings = model_warnings(sources)
    async with transaction(engine) as session:
        team_row = await resolve_team(session, team)
        ds = await resolve_datasource(session, team_row, datasource)
        branch_id = as_uuid(branch)
        query = select(Branch).where(Branch.datasource_id == ds.id)
        query = query.where(Branch.id == branch_id) if branch_id else query.where(Branch.name == branch)
        branch_row = (await session.execute(query)).scalar_one_or_none()
        if branch_row is None:
            if branch_id:
                raise InvalidInputError(f"datasource {ds.name!r} has no branch with id {branch}")
            has_branches = (
                await session.execute(select(Branch.id).where(Branch.datasource_id == ds.id))
            ).first()
            branch_row = Branch(
                name=branch,
                user_id=team_row.user_id,
                datasource_id=ds.id,
                status="created" if has_branches else "active",
            )
            session.add(branch_row)
            await session.flush()
        if branch_row.status != "active":
            active = (
                await session.execute(
                    select(Branch.name).where(Branch.datasource_id == ds.id, Branch.status == "active")
                )
            ).scalar_one_or_none()
            served = f"the active branch is {active!r}" if active else "the datasource has no active branch"
            warnings.append(
                f"branch {branch_row.name!r} is not active, so sqlgate does not serve it ({served})"
            )
        checksum = version_checksum(sources)
        version = Version(branch_id=branch_row.id, checksum=checksum, user_id=team_row.user_id)
        session.add(version)
        await session.flush()
        session.add_all(
            Dataschema(
                user_id=team_row.user_id, datasource_id=ds.id, version_id=version.id, name=s.name, code=s.code
            )
            for s in sources
        )
    return {
        "version_id": str(version.id),
        "datasource": ds.name,
        "datasource_id": str(ds.id),
        "branch": branch_row.name,
        "branch_id": str(branch_row.id),
        "branch_status": branch_row.status,
        "checksum": checksum,
        "files": [s.name for s in sources],
        "warnings": warnings,
    }
