"""TLS through SSLRequest, with SCRAM-SHA-256-PLUS channel binding."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import psycopg
import pytest

from sqlgate.auth.channel_binding import certificate_der, tls_server_end_point
from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from tests.support.gateways import password_of, running_gateway
from tests.support.rawpg import RawPg, errors, rows
from tests.support.tls import make_certificate


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


async def test_ssl_request_upgrades_and_offers_scram_plus(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    async with running_gateway(tls_cert=str(cert), tls_key=str(key)) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.send(fe.SSLRequest())
        assert await conn.read_byte() == b"S"
        await conn.start_tls()
        ssl_object = conn.writer.get_extra_info("ssl_object")
        server_der = ssl_object.getpeercert(binary_form=True)
        assert server_der == certificate_der(cert)
        binding = tls_server_end_point(server_der)
        assert binding == hashlib.sha256(server_der).digest()
        await conn.send(fe.StartupMessage({"user": "alice", "database": "db"}))
        offer = await conn.recv()
        assert isinstance(offer, be.AuthenticationSASL)
        assert offer.mechanisms == ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")
        await conn.close()

        conn = await RawPg.connect(gw.port)
        await conn.send(fe.SSLRequest())
        await conn.read_byte()
        await conn.start_tls()
        messages = await conn.startup("alice", password_of("alice"), channel_binding=binding)
        assert isinstance(messages[-1], be.ReadyForQuery)
        assert rows(await conn.query("SELECT 'over tls'")) == [["over tls"]]
        await conn.close()


async def test_wrong_channel_binding_is_refused(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    async with running_gateway(tls_cert=str(cert), tls_key=str(key)) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.send(fe.SSLRequest())
        await conn.read_byte()
        await conn.start_tls()
        messages = await conn.startup("alice", password_of("alice"), channel_binding=b"\x00" * 32)
        assert errors(messages) == ["28000"]


async def test_plaintext_after_ssl_request_is_a_protocol_violation(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    async with running_gateway(tls_cert=str(cert), tls_key=str(key)) as gw:
        conn = await RawPg.connect(gw.port)
        await conn.send(fe.SSLRequest(), fe.StartupMessage({"user": "alice"}))
        data = await conn.reader.read(1000)
        assert b"received unencrypted data after SSL request" in data


@pytest.mark.parametrize("channel_binding", ["require", "disable"])
async def test_libpq_over_tls(certificate: tuple[Path, Path], channel_binding: str) -> None:
    cert, key = certificate
    async with running_gateway(tls_cert=str(cert), tls_key=str(key)) as gw:
        dsn = (
            f"host=127.0.0.1 port={gw.port} user=alice password={password_of('alice')} dbname=db "
            f"sslmode=verify-full sslrootcert={cert} channel_binding={channel_binding}"
        )
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            assert conn.info.pgconn.ssl_in_use
            cur = await conn.execute("SELECT current_user")
            assert await cur.fetchone() == ("alice",)


async def test_cleartext_user_over_tls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    async with running_gateway(tls_cert=str(cert), tls_key=str(key)) as gw:
        dsn = (
            f"host=127.0.0.1 port={gw.port} user=bob password={password_of('bob')} dbname=db sslmode=require"
        )
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            cur = await conn.execute("SELECT session_user")
            assert await cur.fetchone() == ("bob",)


def test_channel_binding_hash_follows_the_signature(tmp_path: Path) -> None:
    for name in ("sha256", "sha384", "sha512"):
        directory = tmp_path / name
        directory.mkdir()
        cert, _ = make_certificate(directory, hash_name=name)
        der = certificate_der(cert)
        assert tls_server_end_point(der) == hashlib.new(name, der).digest()
    assert ssl.PEM_cert_to_DER_cert(cert.read_text()) == der
