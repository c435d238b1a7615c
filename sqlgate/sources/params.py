"""Connection settings from Synmetrix ``datasources.db_type`` / ``db_params``.

Synmetrix stores ``db_params`` as free-form JSON and prepares it before handing it to a Cube driver
(``services/cubejs/src/utils/prepareDbParams.js``): a string is JSON-parsed, keys whose value is falsy
in JavaScript are dropped, ``port`` (often a string) must lie in 0..65535, ``ssl`` is ``true``, the
checkbox value ``"yes"`` or an object of TLS options, and the Presto/Trino forms name the password
``pass``. :func:`prepare_db_params` reproduces that; :func:`connection_settings` turns the result into
the settings of one of our drivers, or a 0A000 error naming a type we have no driver for.

Nothing here ever puts a value of ``db_params`` into an error message: only key names and the type.
"""

from __future__ import annotations

import json
import math
import ssl as ssl_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlgate.errors import INVALID_PARAMETER_VALUE, PgError, feature_not_supported

# db_type (lower case) -> our driver name.
DRIVERS: dict[str, str] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
}

# Types Synmetrix offers (client dbTiles, Cube DriverDependencies) for which we have no driver yet:
# they get "not supported yet" rather than "unknown".
KNOWN_SYNMETRIX_TYPES = frozenset(
    {
        "athena", "awselasticsearch", "bigquery", "clickhouse", "crate", "cubestore", "databricks-jdbc",
        "default", "dremio", "druid", "elasticsearch", "firebolt", "hive", "jdbc", "ksql", "materialize",
        "mongobi", "mssql", "mysqlauroraserverless", "oracle", "pinot", "prestodb", "questdb", "redshift",
        "reshift", "snowflake", "sqlite", "trino", "vertica",
    }
)  # fmt: skip

# ``ssl`` string values that switch TLS on (``"yes"`` is the Synmetrix checkbox value).
_SSL_ON = frozenset({"yes", "true", "on", "1", "require", "required"})
_SSL_OFF = frozenset({"no", "false", "off", "0", "disable", "disabled"})


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS for a datasource connection. ``verify`` checks the server certificate and host name."""

    verify: bool = True
    ca: str | None = field(default=None, repr=False)  # PEM text of the CA bundle to trust
    cert: str | None = field(default=None, repr=False)  # PEM client certificate
    key: str | None = field(default=None, repr=False)  # PEM client key
    server_name: str | None = None

    def context(self) -> ssl_module.SSLContext:
        """An :class:`ssl.SSLContext` for these settings."""
        ctx = (
            ssl_module.create_default_context(cadata=self.ca)
            if self.ca
            else ssl_module.create_default_context()
        )
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl_module.CERT_NONE
        if self.cert:
            _load_client_cert(ctx, self.cert, self.key)
        return ctx


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Where and how one of our drivers connects. ``password`` and ``extra`` are never shown."""

    driver: str  # "postgres", "mysql" or "duckdb"
    db_type: str  # as stored, e.g. "POSTGRES"
    host: str | None = None
    port: int | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsSettings | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the other db_params keys


def _js_falsy(value: Any) -> bool:
    """True for the values JavaScript treats as false: null, false, 0, NaN and "" (not [] or {})."""
    if value is None or value is False or value == "":
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0 or (isinstance(value, float) and math.isnan(value))
    return False


def _bad_params(message: str) -> PgError:
    return PgError(INVALID_PARAMETER_VALUE, f"invalid datasource db_params: {message}")


def prepare_db_params(db_params: Mapping[str, Any] | str | None, db_type: str = "") -> dict[str, Any]:
    """Normalise ``db_params`` the way Synmetrix does before it picks a driver.

    Idempotent: a prepared dict passes through unchanged, so callers that already prepared
    (``DatasourceInfo.db_params``) may call it again.
    """
    if db_params is None:
        raw: Any = {}
    elif isinstance(db_params, str | bytes):
        try:
            raw = json.loads(db_params)
        except ValueError:
            raise _bad_params("not valid JSON") from None
    else:
        raw = db_params
    if not isinstance(raw, Mapping):
        raise _bad_params("expected a JSON object")
    params = {str(k): v for k, v in raw.items() if not _js_falsy(v)}

    if "port" in params:
        params["port"] = _port(params["port"])
    if "ssl" in params:
        params["ssl"] = _ssl_value(params["ssl"])
        if params["ssl"] is False:
            del params["ssl"]
    if db_type.strip().lower() in ("prestodb", "trino") and "pass" in params:
        params.setdefault("password", params.pop("pass"))
    return params


def _port(value: Any) -> int:
    if isinstance(value, bool):
        raise _bad_params("port must be a number")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise _bad_params("port must be a number")
        port = int(text)
    elif isinstance(value, int):
        port = value
    elif isinstance(value, float) and value.is_integer():
        port = int(value)
    else:
        raise _bad_params("port must be a number")
    if not 0 <= port <= 65535:
        raise _bad_params("port must be between 0 and 65535")
    return port


def _ssl_value(value: Any) -> bool | dict[str, Any]:
    """``True``, ``False`` or a dict of TLS options (keys as Node's tls / Cube drivers name them)."""
    if value is True:
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _SSL_ON:
            return True
        if text in _SSL_OFF:
            return False
        if text in ("prefer", "allow"):
            raise feature_not_supported(f"ssl mode '{text}' (use true/\"require\" or false)")
        if text in ("verify-ca", "verify-full"):
            return True
        raise _bad_params('ssl must be true, "yes" or an object of TLS options')
    if isinstance(value, Mapping):
        return dict(value)
    raise _bad_params('ssl must be true, "yes" or an object of TLS options')


def _tls_settings(value: bool | Mapping[str, Any] | None) -> TlsSettings | None:
    if not value:
        return None
    if value is True:
        return TlsSettings()
    assert isinstance(value, Mapping)
    verify = value.get("rejectUnauthorized", value.get("reject_unauthorized", True))
    if isinstance(verify, str):
        verify = verify.strip().lower() not in _SSL_OFF
    return TlsSettings(
        verify=bool(verify),
        ca=_pem(value.get("ca")),
        cert=_pem(value.get("cert")),
        key=_pem(value.get("key")),
        server_name=value.get("servername") or value.get("server_name"),
    )


def _pem(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def resolve_driver(db_type: str) -> str:
    """Our driver for a Synmetrix ``db_type`` (any case); 0A000 naming the type when there is none."""
    key = (db_type or "").strip().lower()
    driver = DRIVERS.get(key)
    if driver is not None:
        return driver
    shown = (db_type or "").strip() or "(empty)"
    supported = "POSTGRES, MYSQL, DUCKDB"
    if key in KNOWN_SYNMETRIX_TYPES:
        raise feature_not_supported(
            f"datasource type {shown} is not supported yet", hint=f"supported types: {supported}"
        )
    raise feature_not_supported(f"unknown datasource type {shown}", hint=f"supported types: {supported}")


_GENERIC_KEYS = ("host", "port", "database", "user", "password", "ssl")


def connection_settings(db_type: str, db_params: Mapping[str, Any] | str | None) -> ConnectionSettings:
    """Settings for our driver of ``db_type`` from raw or prepared ``db_params``."""
    driver = resolve_driver(db_type)
    params = prepare_db_params(db_params, db_type)
    user = params.get("user", params.get("username"))
    extra = {k: v for k, v in params.items() if k not in _GENERIC_KEYS and k != "username"}
    for key in ("host", "database", "user", "password"):
        value = params.get(key)
        if value is not None and not isinstance(value, str | int):
            raise _bad_params(f"{key} must be a string")
    return ConnectionSettings(
        driver=driver,
        db_type=db_type,
        host=_str_or_none(params.get("host")),
        port=params.get("port"),
        database=_str_or_none(params.get("database")),
        user=_str_or_none(user),
        password=_str_or_none(params.get("password")),
        tls=_tls_settings(params.get("ssl")),
        extra=extra,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _load_client_cert(ctx: ssl_module.SSLContext, cert: str, key: str | None) -> None:
    """Load a PEM client certificate/key given as text (ssl only loads them from files)."""
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="sqlgate-cert-", suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp makes the file 0600
            handle.write(cert)
            if key:
                handle.write("\n" + key)
        ctx.load_cert_chain(path)
    except ssl_module.SSLError:
        raise _bad_params("ssl cert/key could not be loaded") from None
    finally:
        os.unlink(path)
