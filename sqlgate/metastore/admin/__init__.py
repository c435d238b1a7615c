"""Admin operations on the metadata database, used by the CLI, ``sqlgate demo`` and tests.

Each operation is an ``async`` function taking an :class:`~sqlalchemy.ext.asyncio.AsyncEngine` and
keyword arguments, running in one transaction, and returning a plain JSON-able dict. Teams, users,
datasources and access lists are named by name (datasources and access lists within their team) or
by id; users by e-mail or id. Failures raise :class:`AdminError` subclasses with a one-line message.
"""

from sqlgate.metastore.admin.access_lists import (
    create_access_list,
    list_access_lists,
    read_json_file,
    update_access_list,
)
from sqlgate.metastore.admin.credentials import (
    connection_url,
    create_credential,
    list_credentials,
    revoke_credential,
    rotate_credential,
)
from sqlgate.metastore.admin.datasources import (
    SYNMETRIX_DB_TYPES,
    create_datasource,
    datasource_connection,
    db_params_from_url,
    list_datasources,
    masked_db_params,
)
from sqlgate.metastore.admin.errors import AdminError, ConflictError, InvalidInputError, NotFoundError
from sqlgate.metastore.admin.models_push import ModelFileError, ModelSource, push_model_sources, push_models
from sqlgate.metastore.admin.teams import (
    TEAM_ROLES,
    add_member,
    create_team,
    list_members,
    list_teams,
    remove_member,
    update_member,
)
from sqlgate.metastore.admin.users import create_user, list_users

__all__ = [
    "SYNMETRIX_DB_TYPES",
    "TEAM_ROLES",
    "AdminError",
    "ConflictError",
    "InvalidInputError",
    "ModelFileError",
    "ModelSource",
    "NotFoundError",
    "add_member",
    "connection_url",
    "create_access_list",
    "create_credential",
    "create_datasource",
    "create_team",
    "create_user",
    "datasource_connection",
    "db_params_from_url",
    "list_access_lists",
    "list_credentials",
    "list_datasources",
    "list_members",
    "list_teams",
    "list_users",
    "masked_db_params",
    "push_model_sources",
    "push_models",
    "read_json_file",
    "remove_member",
    "revoke_credential",
    "rotate_credential",
    "update_access_list",
    "update_member",
]
