"""Plain records the metastore hands to other layers (no SQLAlchemy objects cross the boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """The newest version of a datasource's active branch; ids None when there is none."""

    version_id: str | None
    branch_id: str | None
    checksum: str  # versions.checksum, or a digest of the files when that is empty; "" if no version


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One ``public.dataschemas`` row of a version."""

    id: str
    name: str  # file name, e.g. "Orders.yml"
    code: str


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """Everything authentication needs about one SQL credential (``sql_credentials.username``)."""

    credential_id: str
    username: str
    stored_password: str | None = field(repr=False)  # bcrypt hash, legacy plain text, or NULL
    scram_verifier: str | None = field(repr=False)  # None when absent or the column does not exist
    user_id: str
    user_display_name: str | None
    datasource_id: str
    datasource_name: str
    db_type: str
    db_params: dict[str, Any] = field(repr=False)
    team_id: str | None
    # The credential user's role in the datasource's team; None when they are not a member of it.
    role: str | None
    access_list_id: str | None
    access_list_name: str | None
    # access_lists.config["datasources"][datasource_id]["cubes"], or None when there is no access list
    # or it has no entry for this datasource.
    access_cubes: dict[str, dict[str, list[str]]] | None
    model_version: ModelVersionRecord
