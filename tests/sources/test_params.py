"""db_params as Synmetrix stores them become driver settings (prepareDbParams semantics)."""

from __future__ import annotations

import ssl

import pytest

from sqlgate.errors import PgError
from sqlgate.sources.params import connection_settings, prepare_db_params, resolve_driver
from sqlgate.sources.registry import open_source, params_digest

SEED_POSTGRES = (
    '{"host":"demo-db-examples.cube.dev","port":"5432","user":"cube","database":"ecom","password":"12345"}'
)


def test_json_string_is_parsed_and_string_port_becomes_int() -> None:
    params = prepare_db_params(SEED_POSTGRES, "POSTGRES")
    assert params == {
        "host": "demo-db-examples.cube.dev",
        "port": 5432,
        "user": "cube",
        "database": "ecom",
        "password": "12345",
    }


def test_falsy_keys_are_dropped_like_javascript() -> None:
    raw = {"host": "h", "password": "", "ssl": False, "port": 0, "user": None, "x": float("nan"), "keep": []}
    assert prepare_db_params(raw) == {"host": "h", "keep": []}


def test_string_zero_port_is_kept_because_it_is_truthy_in_javascript() -> None:
    assert prepare_db_params({"port": "0"}) == {"port": 0}


def test_prepare_is_idempotent() -> None:
    once = prepare_db_params(SEED_POSTGRES, "POSTGRES")
    assert prepare_db_params(once, "POSTGRES") == once


@pytest.mark.parametrize("port", ["65536", "-1", "54x", "abc", True, 1.5, [5432]])
def test_bad_ports_are_refused_without_echoing_values(port: object) -> None:
    with pytest.raises(PgError) as info:
        prepare_db_params({"port": port, "password": "s3cret"})
    assert info.value.sqlstate == "22023"
    assert "port" in info.value.message
    assert "s3cret" not in info.value.message


def test_invalid_json_is_a_clear_error() -> None:
    with pytest.raises(PgError) as info:
        prepare_db_params('{"host": ')
    assert info.value.sqlstate == "22023"
    assert "JSON" in info.value.message
    with pytest.raises(PgError):
        prepare_db_params("[1, 2]")


@pytest.mark.parametrize("value", [True, "yes", "YES", "true"])
def test_ssl_on_values_give_verified_tls(value: object) -> None:
    settings = connection_settings("POSTGRES", {"host": "h", "ssl": value})
    assert settings.tls is not None and settings.tls.verify
    ctx = settings.tls.context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_ssl_object_can_switch_off_verification() -> None:
    settings = connection_settings("MYSQL", {"host": "h", "ssl": {"rejectUnauthorized": False}})
    assert settings.tls is not None and not settings.tls.verify
    assert settings.tls.context().verify_mode == ssl.CERT_NONE


def test_ssl_off_values_mean_no_tls() -> None:
    assert connection_settings("POSTGRES", {"ssl": "no"}).tls is None
    assert connection_settings("POSTGRES", {"ssl": False}).tls is None


def test_ssl_garbage_is_refused() -> None:
    with pytest.raises(PgError) as info:
        connection_settings("POSTGRES", {"ssl": 42})
    assert info.value.sqlstate == "22023"


@pytest.mark.parametrize("db_type", ["PRESTODB", "TRINO", "trino"])
def test_pass_is_the_password_for_presto_and_trino(db_type: str) -> None:
    params = prepare_db_params({"host": "h", "user": "u", "pass": "pw"}, db_type)
    assert params["password"] == "pw" and "pass" not in params


def test_pass_stays_pass_for_other_types() -> None:
    assert prepare_db_params({"pass": "pw"}, "POSTGRES") == {"pass": "pw"}


def test_settings_keep_secrets_out_of_repr() -> None:
    settings = connection_settings("POSTGRES", SEED_POSTGRES)
    assert settings.driver == "postgres" and settings.port == 5432 and settings.user == "cube"
    assert settings.password == "12345"
    assert "12345" not in repr(settings)


@pytest.mark.parametrize(
    ("db_type", "driver"),
    [("POSTGRES", "postgres"), ("postgres", "postgres"), ("MYSQL", "mysql"), ("DUCKDB", "duckdb")],
)
def test_supported_types(db_type: str, driver: str) -> None:
    assert resolve_driver(db_type) == driver


@pytest.mark.parametrize("db_type", ["CLICKHOUSE", "BIGQUERY", "RESHIFT", "DATABRICKS-JDBC", "DEFAULT"])
def test_synmetrix_types_without_a_driver_are_named_in_0a000(db_type: str) -> None:
    with pytest.raises(PgError) as info:
        open_source(db_type, {"host": "h"})
    assert info.value.sqlstate == "0A000"
    assert db_type in info.value.message and "not supported" in info.value.message


@pytest.mark.parametrize("db_type", ["FOOBASE", ""])
def test_unknown_types_are_named_in_0a000(db_type: str) -> None:
    with pytest.raises(PgError) as info:
        open_source(db_type, {})
    assert info.value.sqlstate == "0A000"
    assert "unknown datasource type" in info.value.message


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="pool_max"):
        open_source("POSTGRES", {}, pool_max=3)


def test_digest_ignores_representation_differences() -> None:
    as_text = params_digest("POSTGRES", SEED_POSTGRES)
    seed = {"password": "12345", "port": 5432, "database": "ecom", "user": "cube"}
    as_dict = params_digest("postgres", seed | {"host": "demo-db-examples.cube.dev", "ssl": False})
    assert as_text == as_dict
    assert params_digest("POSTGRES", {"host": "other"}) != as_text
