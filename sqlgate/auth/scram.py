"""The server side of SCRAM-SHA-256 (RFC 5802/7677 as PostgreSQL uses it), without I/O.

One :class:`ScramExchange` per login attempt::

    exchange = ScramExchange(verifier, channel_binding=cb_data_or_None, plus_offered=...)
    server_first = exchange.client_first(mechanism, client_first_bytes)   # AuthenticationSASLContinue
    server_final = exchange.client_final(client_final_bytes)              # AuthenticationSASLFinal

``client_final`` raises :class:`ScramFailed` when the proof does not match; malformed messages and
channel-binding mismatches raise :class:`sqlgate.errors.PgError` (08P01 / 28000) as PostgreSQL does.
The SCRAM user name is ignored: the start-up packet's user is the one authenticated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from sqlgate.auth.verifier import ScramVerifier
from sqlgate.errors import INVALID_AUTHORIZATION_SPECIFICATION, PROTOCOL_VIOLATION, PgError

SCRAM_SHA_256 = "SCRAM-SHA-256"
SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS"
CHANNEL_BINDING_TYPE = "tls-server-end-point"
NONCE_BYTES = 18


class ScramFailed(Exception):
    """The client's proof does not match the verifier (wrong password, or an unknown user)."""


def _malformed(detail: str) -> PgError:
    return PgError(PROTOCOL_VIOLATION, "malformed SCRAM message", severity="FATAL", detail=detail)


def _attributes(text: str) -> list[tuple[str, str]]:
    pairs = []
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=" or not part[0].isalpha():
            raise _malformed(f'Attribute expected, but found "{part[:10]}".')
        pairs.append((part[0], part[2:]))
    return pairs


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(f"Malformed {what}.") from None


class ScramExchange:
    """State of one SCRAM-SHA-256 exchange, from the client-first to the server-final message."""

    def __init__(self, verifier: ScramVerifier, *, channel_binding: bytes | None, plus_offered: bool) -> None:
        self.verifier = verifier
        self.channel_binding = channel_binding  # tls-server-end-point data, when on TLS
        self.plus_offered = plus_offered
        self._client_first_bare = ""
        self._server_first = ""
        self._gs2_header = ""
        self._nonce = ""
        self._uses_binding = False

    def client_first(self, mechanism: str, data: bytes) -> bytes:
        """Handle SASLInitialResponse; returns the server-first-message."""
        if mechanism not in (SCRAM_SHA_256, SCRAM_SHA_256_PLUS) or (
            mechanism == SCRAM_SHA_256_PLUS and not self.plus_offered
        ):
            raise PgError(
                PROTOCOL_VIOLATION,
                "client selected an invalid SASL authentication mechanism",
                severity="FATAL",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("The message is not valid UTF-8.") from None
        flag, _, rest = text.partition(",")
        authzid, _, bare = rest.partition(",")
        if flag.startswith("p="):
            if mechanism != SCRAM_SHA_256_PLUS:
                raise _malformed(
                    "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message "
                    "includes channel binding data."
                )
            if flag[2:] != CHANNEL_BINDING_TYPE:
                raise _malformed(f'Unsupported SCRAM channel-binding type "{flag[2:]}".')
            self._uses_binding = True
        elif flag == "y":
            if self.plus_offered:
                raise PgError(
                    INVALID_AUTHORIZATION_SPECIFICATION,
                    "SCRAM channel binding negotiation error",
                    severity="FATAL",
                    detail="The client supports SCRAM channel binding but thinks the server does not. "
                    "However, this server does support channel binding.",
                )
        elif flag != "n":
            raise _malformed(f'Unexpected channel-binding flag "{flag[:10]}".')
        if mechanism == SCRAM_SHA_256_PLUS and not self._uses_binding:
            raise _malformed(
                "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include "
                "channel binding data."
            )
        if authzid:
            raise PgError(
                PROTOCOL_VIOLATION,
                "client uses authorization identity, but it is not supported",
                severity="FATAL",
            )
        attrs = _attributes(bare)
        if len(attrs) < 2 or attrs[0][0] != "n" or attrs[1][0] != "r" or not attrs[1][1]:
            raise _malformed("Expected username and nonce attributes.")
        client_nonce = attrs[1][1]
        if any(not (0x21 <= ord(c) <= 0x7E) or c == "," for c in client_nonce):
            raise _malformed("The client nonce contains invalid characters.")
        self._gs2_header = f"{flag},{authzid},"
        self._client_first_bare = bare
        self._nonce = client_nonce + base64.b64encode(secrets.token_bytes(NONCE_BYTES)).decode("ascii")
        salt = base64.b64encode(self.verifier.salt).decode("ascii")
        self._server_first = f"r={self._nonce},s={salt},i={self.verifier.iterations}"
        return self._server_first.encode("ascii")

    def client_final(self, data: bytes) -> bytes:
        """Handle the SASLResponse; returns the server-final-message, or raises :class:`ScramFailed`."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("The message is not valid UTF-8.") from None
        attrs = _attributes(text)
        if len(attrs) < 3 or attrs[0][0] != "c" or attrs[1][0] != "r" or attrs[-1][0] != "p":
            raise _malformed("Expected channel-binding, nonce and proof attributes.")
        expected_binding = self._gs2_header.encode("utf-8")
        if self._uses_binding:
            if self.channel_binding is None:
                raise _malformed("Channel binding data is not available on this connection.")
            expected_binding += self.channel_binding
        if not hmac.compare_digest(_b64decode(attrs[0][1], "channel-binding data"), expected_binding):
            raise PgError(
                INVALID_AUTHORIZATION_SPECIFICATION,
                "SCRAM channel binding check failed",
                severity="FATAL",
            )
        if attrs[1][1] != self._nonce:
            raise _malformed("Nonce does not match.")
        proof = _b64decode(attrs[-1][1], "proof")
        if len(proof) != hashlib.sha256().digest_size:
            raise _malformed("Malformed proof in client-final-message.")
        without_proof = text[: text.rindex(",p=")]
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode()
        signature = hmac.digest(self.verifier.stored_key, auth_message, "sha256")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self.verifier.stored_key):
            raise ScramFailed
        server_signature = hmac.digest(self.verifier.server_key, auth_message, "sha256")
        return b"v=" + base64.b64encode(server_signature)


def mock_verifier(username: str, secret: bytes, iterations: int) -> ScramVerifier:
    """A verifier for an unknown user: its salt is derived from the name (the same on every attempt,
    as for a real user) and no password matches it. PostgreSQL does the same."""
    salt = hmac.digest(secret, b"scram-mock-salt:" + username.encode("utf-8"), "sha256")[:16]
    return ScramVerifier(iterations, salt, secrets.token_bytes(32), secrets.token_bytes(32))
