"""The SCRAM-SHA-256 exchange against a stored verifier, driven by the scramp client."""

from __future__ import annotations

import base64

import pytest
from scramp import ScramClient

from sqlgate.auth.scram import ScramExchange, ScramFailed, mock_verifier
from sqlgate.auth.verifier import make_verifier, parse_verifier
from sqlgate.errors import PgError


def _verifier(password: str = "pw"):  # type: ignore[no-untyped-def]
    verifier = parse_verifier(make_verifier(password))
    assert verifier is not None
    return verifier


def _run(exchange: ScramExchange, client: ScramClient, mechanism: str = "SCRAM-SHA-256") -> bytes:
    server_first = exchange.client_first(mechanism, client.get_client_first().encode())
    client.set_server_first(server_first.decode())
    return exchange.client_final(client.get_client_final().encode())


def test_right_password_gives_a_server_signature_the_client_accepts() -> None:
    exchange = ScramExchange(_verifier(), channel_binding=None, plus_offered=False)
    client = ScramClient(["SCRAM-SHA-256"], "ignored-name", "pw")
    final = _run(exchange, client)
    client.set_server_final(final.decode())


def test_wrong_password_fails_at_the_proof() -> None:
    exchange = ScramExchange(_verifier(), channel_binding=None, plus_offered=False)
    with pytest.raises(ScramFailed):
        _run(exchange, ScramClient(["SCRAM-SHA-256"], "u", "wrong"))


def test_channel_binding_round_trip_and_mismatch() -> None:
    binding = b"\x01" * 32
    exchange = ScramExchange(_verifier(), channel_binding=binding, plus_offered=True)
    client = ScramClient(["SCRAM-SHA-256-PLUS"], "u", "pw", channel_binding=("tls-server-end-point", binding))
    client.set_server_final(_run(exchange, client, "SCRAM-SHA-256-PLUS").decode())
    exchange = ScramExchange(_verifier(), channel_binding=binding, plus_offered=True)
    client = ScramClient(
        ["SCRAM-SHA-256-PLUS"], "u", "pw", channel_binding=("tls-server-end-point", b"\x02" * 32)
    )
    with pytest.raises(PgError) as info:
        _run(exchange, client, "SCRAM-SHA-256-PLUS")
    assert info.value.sqlstate == "28000"


def test_client_claiming_binding_support_when_plus_was_offered_is_refused() -> None:
    exchange = ScramExchange(_verifier(), channel_binding=b"x" * 32, plus_offered=True)
    with pytest.raises(PgError) as info:
        exchange.client_first("SCRAM-SHA-256", b"y,,n=,r=abcdef")
    assert info.value.sqlstate == "28000" and "negotiation" in info.value.message


@pytest.mark.parametrize(
    ("mechanism", "message"),
    [
        ("SCRAM-SHA-1", b"n,,n=,r=abc"),
        ("SCRAM-SHA-256-PLUS", b"p=tls-server-end-point,,n=,r=abc"),  # PLUS was not offered
        ("SCRAM-SHA-256", b"p=tls-server-end-point,,n=,r=abc"),
        ("SCRAM-SHA-256", b"n,a=admin,n=,r=abc"),
        ("SCRAM-SHA-256", b"n,,r=abc"),
        ("SCRAM-SHA-256", b"garbage"),
        ("SCRAM-SHA-256", b"\xff\xfe"),
    ],
)
def test_malformed_client_first_messages(mechanism: str, message: bytes) -> None:
    exchange = ScramExchange(_verifier(), channel_binding=None, plus_offered=False)
    with pytest.raises(PgError) as info:
        exchange.client_first(mechanism, message)
    assert info.value.severity == "FATAL"


def test_nonce_must_be_echoed() -> None:
    exchange = ScramExchange(_verifier(), channel_binding=None, plus_offered=False)
    exchange.client_first("SCRAM-SHA-256", b"n,,n=,r=abc")
    proof = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(PgError) as info:
        exchange.client_final(f"c=biws,r=abcWRONG,p={proof}".encode())
    assert "Nonce" in (info.value.detail or "")


def test_mock_verifier_has_a_stable_salt_and_never_matches() -> None:
    first = mock_verifier("ghost", b"k" * 32, 4096)
    second = mock_verifier("ghost", b"k" * 32, 4096)
    assert first.salt == second.salt and first.stored_key != second.stored_key
    assert mock_verifier("other", b"k" * 32, 4096).salt != first.salt
    exchange = ScramExchange(first, channel_binding=None, plus_offered=False)
    with pytest.raises(ScramFailed):
        _run(exchange, ScramClient(["SCRAM-SHA-256"], "ghost", "anything"))
