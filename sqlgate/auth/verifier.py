"""SCRAM-SHA-256 verifiers in PostgreSQL's own text form.

``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (base64 parts), as in
``pg_authid.rolpassword`` and PgBouncer's auth_file. Keeping one next to the bcrypt hash lets the
server run a SCRAM exchange without ever knowing the password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

DEFAULT_ITERATIONS = 4096
_PREFIX = "SCRAM-SHA-256$"


@dataclass(frozen=True, slots=True)
class ScramVerifier:
    """The parts of a SCRAM-SHA-256 verifier."""

    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    def to_text(self) -> str:
        """PostgreSQL's text form."""
        b64 = base64.b64encode
        return (
            f"{_PREFIX}{self.iterations}:{b64(self.salt).decode()}"
            f"${b64(self.stored_key).decode()}:{b64(self.server_key).decode()}"
        )


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(password, salt, i) of RFC 5802, with SASLprep applied as PostgreSQL does."""
    return hashlib.pbkdf2_hmac("sha256", _saslprep_bytes(password), salt, iterations)


def make_verifier(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """A new verifier for ``password`` (random 16-byte salt unless given)."""
    salt = salt if salt is not None else os.urandom(16)
    salted = salted_password(password, salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return ScramVerifier(iterations, salt, stored_key, server_key).to_text()


def parse_verifier(text: str | None) -> ScramVerifier | None:
    """Parse PostgreSQL's text form; None for anything else (a bcrypt hash, plain text, NULL)."""
    if not text or not text.startswith(_PREFIX):
        return None
    try:
        iter_salt, keys = text[len(_PREFIX) :].split("$", 1)
        iter_text, salt_b64 = iter_salt.split(":", 1)
        stored_b64, server_b64 = keys.split(":", 1)
        iterations = int(iter_text)
        parts = [base64.b64decode(p, validate=True) for p in (salt_b64, stored_b64, server_b64)]
    except (ValueError, binascii.Error):
        return None
    if iterations <= 0 or len(parts[1]) != 32 or len(parts[2]) != 32:
        return None
    return ScramVerifier(iterations, parts[0], parts[1], parts[2])


def _saslprep_bytes(password: str) -> bytes:
    """SASLprep the password; fall back to the raw UTF-8 bytes where SASLprep fails, like PostgreSQL."""
    try:
        from scramp.utils import saslprep  # type: ignore[import-untyped]

        return saslprep(password).encode("utf-8")
    except (ImportError, ValueError):
        return password.encode("utf-8")
