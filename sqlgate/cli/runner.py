"""Run an async metadata-database operation from a CLI command, with one-line errors.

Every failure a user can cause or meet (no URL, unreachable server, wrong password, missing database,
schema not migrated, an admin error) becomes a :class:`~sqlgate.cli.main.CliError` whose message
masks any password of the URL. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine

from sqlgate.cli.main import CliError
from sqlgate.metastore.admin.errors import AdminError
from sqlgate.metastore.engine import MetadataUrlError, create_metadata_engine, mask_password, scrub_secret

T = TypeVar("T")

_CONNECT_ERRORS = (
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.ClientCannotConnectError,
    asyncpg.InterfaceError,
)
_NOT_MIGRATED_ERRORS = (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError)


def metadata_url(args: argparse.Namespace) -> str:
    """The ``--metadata-url`` (or ``$SQLGATE_METADATA_URL``) of the command, required."""
    url = getattr(args, "metadata_url", None)
    if not url:
        raise CliError(
            "no metadata database given: pass --metadata-url postgresql://USER:PASSWORD@HOST:5432/DB "
            "or set SQLGATE_METADATA_URL"
        )
    return url


def root_cause(exc: BaseException) -> BaseException:
    """The innermost driver or OS error behind a SQLAlchemy wrapper."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "orig", None) or current.__cause__
        if inner is None:
            break
        current = inner
    return current


def describe_database_error(exc: BaseException, url: str) -> str:
    """One line explaining a failure talking to the metadata database, without secrets."""
    cause = root_cause(exc)
    where = mask_password(url)
    reason = scrub_secret(str(cause).strip() or type(cause).__name__, url).splitlines()[0]
    if isinstance(cause, (OSError, TimeoutError, asyncio.TimeoutError, *_CONNECT_ERRORS)):
        if isinstance(cause, TimeoutError | asyncio.TimeoutError):
            reason = "timed out"
        elif isinstance(cause, ConnectionRefusedError):
            reason = "connection refused (is PostgreSQL running there?)"
        elif isinstance(cause, socket.gaierror):
            reason = f"unknown host ({cause.strerror})"
        return f"cannot connect to the metadata database at {where}: {reason}"
    if isinstance(cause, _NOT_MIGRATED_ERRORS):
        return (
            f"the metadata database at {where} does not have the Synmetrix schema ({reason}); "
            "create it by running sqlgate migrate with the same --metadata-url"
        )
    return f"metadata database error at {where}: {reason}"


async def _with_engine(url: str, operation: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    engine = create_metadata_engine(url, pool_size=1, max_overflow=1, application_name="sqlgate-cli")
    try:
        return await operation(engine)
    finally:
        await engine.dispose()


@contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """Turn admin and database failures into one-line :class:`CliError` messages."""
    try:
        yield
    except MetadataUrlError as exc:
        raise CliError(str(exc)) from None
    except AdminError as exc:
        raise CliError(str(exc)) from None
    except (
        OSError,
        TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        DBAPIError,
        InterfaceError,
    ) as exc:
        raise CliError(describe_database_error(exc, url)) from None


def run_metadata_operation(args: argparse.Namespace, operation: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``operation(engine)`` on the command's metadata database; errors become :class:`CliError`."""
    url = metadata_url(args)
    with _database_errors(url):
        return asyncio.run(_with_engine(url, operation))


def run_url_operation(args: argparse.Namespace, operation: Callable[[str], Awaitable[T]]) -> T:
    """Like :func:`run_metadata_operation` for operations that take the URL (migrations)."""
    url = metadata_url(args)
    with _database_errors(url):
        return asyncio.run(operation(url))


def warn(message: str) -> None:
    """A warning line on stderr (stdout stays the command's result, e.g. one JSON object)."""
    print(f"warning: {message}", file=sys.stderr)
