"""Every server setting in one place: its environment variable, default and meaning (PgBouncer style).

``sqlgate serve`` reads each setting from its ``--option`` or else its ``SQLGATE_*`` environment
variable or else the default. ``docs/server.md`` lists them; :func:`settings_reference` renders that
table so the two cannot drift apart (a test compares them).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


def _setting(
    default: Any, doc: str, *, flag: str | None = None, choices: tuple[str, ...] | None = None
) -> Any:
    return field(default=default, metadata={"doc": doc, "flag": flag, "choices": choices})


@dataclass(frozen=True)
class Settings:
    """The configuration of one ``sqlgate serve`` process."""

    host: str = _setting("127.0.0.1", "Address to listen on for PostgreSQL clients (`0.0.0.0` for all).")
    port: int = _setting(15432, "TCP port for PostgreSQL clients (0 picks a free port).")
    metrics_port: int | None = _setting(
        9187, "Port of the Prometheus `/metrics` endpoint; `off` disables it, 0 picks a free port."
    )
    metrics_host: str = _setting("127.0.0.1", "Address the metrics endpoint listens on.")
    metadata_url: str | None = _setting(
        None, "PostgreSQL URL of the Synmetrix metadata database (credentials and models)."
    )
    tls_cert: str | None = _setting(
        None, "PEM certificate (chain) for TLS; with `tls_key`, enables SSLRequest."
    )
    tls_key: str | None = _setting(None, "PEM private key of `tls_cert`.")
    allow_cleartext: bool = _setting(
        False,
        "Allow cleartext password authentication on connections without TLS from non-loopback addresses.",
    )
    password_method: str = _setting(
        "auto",
        "`auto`: SCRAM-SHA-256 when a verifier exists, else cleartext; `password`: always cleartext.",
        choices=("auto", "password"),
    )
    max_connections: int = _setting(500, "Client sessions allowed at once; more get FATAL 53300.")
    max_connections_per_credential: int = _setting(
        100,
        "Sessions one credential (SQL user name) may hold at once; more get FATAL 53300 "
        "(0: no per-credential limit, only `max_connections`).",
    )
    require_tls: bool = _setting(
        False,
        "Refuse clients that do not encrypt the connection (FATAL 28000, as PostgreSQL's `hostssl`); "
        "needs `tls_cert` and `tls_key`.",
    )
    statement_timeout: float = _setting(
        600.0,
        "Seconds any statement may run before it is cancelled (57014); 0: no server limit. A session's "
        "`SET statement_timeout` may lower it but never raise it.",
    )
    max_result_rows: int = _setting(
        10_000_000,
        "Rows one statement may return; a larger result fails with 54000 instead of its "
        "CommandComplete (never truncated; the session stays usable). 0: no limit.",
    )
    startup_timeout: float = _setting(
        60.0, "Seconds a client has to finish start-up and authentication before it is dropped."
    )
    idle_session_timeout: float = _setting(
        0.0, "Close sessions idle (outside a transaction) this many seconds; 0 never (57P05)."
    )
    max_message_size: int = _setting(
        16 * 1024 * 1024, "Largest protocol message accepted, in bytes; larger ones get FATAL 08P01."
    )
    shutdown_timeout: float = _setting(
        30.0, "On SIGTERM, seconds running statements may take to finish before sessions are closed."
    )
    write_buffer_size: int = _setting(
        64 * 1024, "Bytes of result data buffered before the server flushes and waits for the client."
    )
    auth_cache_seconds: float = _setting(
        60.0, "Seconds a successful bcrypt password check is remembered (0 disables the cache)."
    )
    auth_offline_cache_seconds: float = _setting(
        0.0,
        "When the metadata database is unreachable, accept a login whose password was verified "
        "successfully within this many seconds (0: such logins fail with 08006).",
    )
    auth_failure_delay_max: float = _setting(
        5.0, "Longest delay, in seconds, imposed on repeated failed logins (0 disables the throttle)."
    )
    auth_free_attempts: int = _setting(5, "Failed logins per address or user before delays start.")
    auth_threads: int = _setting(2, "Threads that run bcrypt checks (they never block the event loop).")
    scram_iterations: int = _setting(4096, "PBKDF2 iterations of SCRAM verifiers sqlgate computes.")
    upgrade_legacy_passwords: bool = _setting(
        True, "Replace plain-text passwords by bcrypt hashes and SCRAM verifiers after a successful login."
    )
    query_log: bool = _setting(
        True,
        "Write a `request_logs` row and its `request_event_logs` rows to the metadata database for "
        "every query (in the background; dropped, never blocking, when the database is down).",
    )
    access_refresh_seconds: float = _setting(
        5.0,
        "How often, at most, an open session re-reads its credential, team role and access list "
        "(changes and revocations reach open sessions within this time; 0: never, only at login).",
    )
    model_refresh_seconds: float = _setting(
        2.0, "How often, at most, a datasource's active model version is looked up again."
    )
    datasource_pool_size: int = _setting(10, "Connections per datasource pool (PostgreSQL, MySQL).")
    datasource_max_concurrent: int = _setting(
        0, "Queries running at once per datasource; more wait in a queue (0: the pool size)."
    )
    datasource_queue_timeout: float = _setting(
        30.0, "Seconds a query may wait for a datasource slot before it fails with 53300."
    )
    datasource_connect_timeout: float = _setting(
        10.0, "Seconds to connect to a datasource before the query fails with 08006."
    )
    catalog_url: str | None = _setting(
        None,
        "PostgreSQL URL of the catalog server that answers pg_catalog/information_schema queries from "
        "shadow databases; its role needs CREATEDB and CREATEROLE. Default: the metadata URL.",
    )
    catalog_secret: str | None = _setting(
        None,
        "Secret the catalog role's password is derived from; gateways sharing a catalog server need the "
        "same one. Default: derived from the catalog URL's user, password, host and port.",
    )
    catalog_role: str = _setting(
        "sqlgate_catalog",
        "The login role catalog queries run as (created by sqlgate; no rights but CONNECT).",
    )
    catalog_statement_timeout: float = _setting(
        5.0, "Seconds a catalog query may run on the catalog server before it is cancelled."
    )
    catalog_max_rows: int = _setting(
        50000, "Rows a catalog query may return; a larger result is an error (54000), never truncated."
    )
    catalog_pool_size: int = _setting(4, "Connections per shadow database on the catalog server.")
    log_unsupported: str | None = _setting(
        None,
        "Append every statement refused as not supported (0A000) or naming a missing catalog object "
        "(42P01/42883/42704) to this file, one JSON line each (capture mode).",
    )
    reuse_port: bool = _setting(False, "Set SO_REUSEPORT so several processes can share the port.")
    workers: int = _setting(
        1,
        "Worker processes serving the port together (SO_REUSEPORT); a cancel request reaching the "
        "wrong worker is forwarded to the one running the session. Worker i serves metrics on "
        "metrics_port + i.",
    )
    log_level: str = _setting(
        "info", "Log level: debug, info, warning, error.", choices=("debug", "info", "warning", "error")
    )
    log_queries: bool = _setting(True, "Write one log line per statement (at info level).")
    uvloop: bool = _setting(True, "Use uvloop when it is installed.")

    @staticmethod
    def env_name(name: str) -> str:
        return "SQLGATE_" + name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``SQLGATE_*`` variables (then ``overrides``), defaults for the rest."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(cls.env_name(f.name))
            if raw is not None and raw != "":
                values[f.name] = _convert(f, raw, cls.env_name(f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SettingsError("--tls-cert and --tls-key must be given together")
        for f in fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise SettingsError(f"{f.name} must be one of {', '.join(choices)}")
        if not 0 <= self.port <= 65535:
            raise SettingsError("port must be between 0 and 65535")
        if not 1 <= self.workers <= 64:
            raise SettingsError("workers must be between 1 and 64")
        if self.workers > 1 and self.port == 0:
            raise SettingsError("workers > 1 needs a fixed port (the workers share it)")
        if self.max_connections < 1:
            raise SettingsError("max_connections must be at least 1")
        if self.max_connections_per_credential < 0 or self.max_result_rows < 0:
            raise SettingsError("max_connections_per_credential and max_result_rows must not be negative")
        if self.statement_timeout < 0 or self.auth_offline_cache_seconds < 0:
            raise SettingsError("statement_timeout and auth_offline_cache_seconds must not be negative")
        if self.require_tls and not (self.tls_cert and self.tls_key):
            raise SettingsError("--require-tls needs --tls-cert and --tls-key")
        if self.max_message_size < 1024:
            raise SettingsError("max_message_size must be at least 1024 bytes")
        if self.catalog_max_rows < 1 or self.catalog_pool_size < 1:
            raise SettingsError("catalog_max_rows and catalog_pool_size must be at least 1")
        if self.catalog_statement_timeout <= 0:
            raise SettingsError("catalog_statement_timeout must be positive")

    # ------------------------------------------------------------------ command line

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> None:
        """One ``--option`` per setting (default None: the environment or the default applies)."""
        for f in fields(cls):
            if f.name in skip:
                continue
            flag = "--" + f.name.replace("_", "-")
            doc = (
                f.metadata["doc"].replace("%", "%%")
                + f" [env {cls.env_name(f.name)}, default {_show(f.default)}]"
            )
            if _base_type(f) is bool:
                parser.add_argument(
                    flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=doc
                )
            else:
                parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=doc)

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
        overrides = {}
        for f in fields(cls):
            value = getattr(args, f.name, None)
            if value is not None:
                overrides[f.name] = (
                    value if isinstance(value, bool) else _convert(f, str(value), "--" + f.name)
                )
        return cls.from_env(environ, **overrides)


def _base_type(f: dataclasses.Field[Any]) -> type:
    text = str(f.type)
    for name, kind in (("bool", bool), ("int", int), ("float", float)):
        if text.startswith(name):
            return kind
    return str


def _convert(f: dataclasses.Field[Any], raw: str, where: str) -> Any:
    kind = _base_type(f)
    text = raw.strip()
    if "None" in str(f.type) and text.lower() in ("off", "none", "disabled"):
        return None
    try:
        if kind is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        raise SettingsError(f"{where}: {raw!r} is not a valid {kind.__name__}") from None
    return text


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def settings_reference() -> str:
    """The settings as a Markdown table (embedded in docs/server.md)."""
    lines = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for f in fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        lines.append(
            f"| `{flag}` | `{Settings.env_name(f.name)}` | `{_show(f.default)}` | {f.metadata['doc']} |"
        )
    return "\n".join(lines)
