"""Security contexts and login records for tests that do not need a metadata database."""

from __future__ import annotations

from typing import Any

from sqlgate.auth.context import DatasourceInfo, ModelVersion, SecurityContext
from sqlgate.metastore.records import LoginRecord, ModelVersionRecord


def make_context(username: str = "alice", role: str = "owner") -> SecurityContext:
    """A SecurityContext for a credential of a datasource without a model."""
    return SecurityContext(
        username=username,
        credential_id="cred-" + username,
        user_id="user-" + username,
        user_display_name=username.title(),
        team_id="team-1",
        role=role,  # type: ignore[arg-type]
        access_list=None,
        datasource=DatasourceInfo("ds-1", "Demo", "POSTGRES", {}, "team-1"),
        model_version=ModelVersion(None, None, ""),
    )


def make_login(
    username: str,
    *,
    stored_password: str | None,
    scram_verifier: str | None = None,
    role: str | None = "owner",
    **overrides: Any,
) -> LoginRecord:
    """A LoginRecord as the metastore would return it."""
    fields: dict[str, Any] = {
        "credential_id": "cred-" + username,
        "username": username,
        "stored_password": stored_password,
        "scram_verifier": scram_verifier,
        "user_id": "user-" + username,
        "user_display_name": username.title(),
        "datasource_id": "ds-1",
        "datasource_name": "Demo",
        "db_type": "POSTGRES",
        "db_params": {"host": "localhost", "password": "never-shown"},
        "team_id": "team-1",
        "role": role,
        "access_list_id": None,
        "access_list_name": None,
        "access_cubes": None,
        "model_version": ModelVersionRecord("v1", "b1", "sum1"),
    }
    fields.update(overrides)
    return LoginRecord(**fields)
