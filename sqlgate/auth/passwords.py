"""Credential passwords: bcrypt hashes, and the legacy plain-text values Synmetrix stores.

``public.sql_credentials.password`` holds a bcrypt hash when sqlgate issued the credential, or the
plain text Synmetrix wrote. :func:`verify_password` accepts both and says when the stored value should
be replaced by a hash. bcrypt is slow on purpose: call these off the event loop.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

import bcrypt

DEFAULT_BCRYPT_COST = 12
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
# bcrypt only reads the first 72 bytes; longer passwords are pre-hashed nowhere, so we refuse them
# at issue time instead of silently truncating (see hash_password).
_BCRYPT_MAX_BYTES = 72


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of a verification."""

    ok: bool
    needs_upgrade: bool = False  # True for a correct legacy plain-text value: store a hash instead


def bcrypt_cost() -> int:
    """The configured bcrypt cost (``SQLGATE_BCRYPT_COST``, 4..31, default 12)."""
    raw = os.environ.get("SQLGATE_BCRYPT_COST", "")
    try:
        cost = int(raw) if raw else DEFAULT_BCRYPT_COST
    except ValueError:
        return DEFAULT_BCRYPT_COST
    return min(max(cost, 4), 31)


def is_bcrypt_hash(stored: str) -> bool:
    """True when ``stored`` looks like a bcrypt hash rather than a plain-text password."""
    return stored.startswith(_BCRYPT_PREFIXES) and len(stored) == 60


def hash_password(password: str, cost: int | None = None) -> str:
    """A bcrypt hash of ``password`` at ``cost`` (default :func:`bcrypt_cost`)."""
    raw = password.encode("utf-8")
    if len(raw) > _BCRYPT_MAX_BYTES:
        raise ValueError(f"password is longer than {_BCRYPT_MAX_BYTES} bytes")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=cost or bcrypt_cost())).decode("ascii")


def verify_password(stored: str | None, candidate: str) -> PasswordCheck:
    """Check ``candidate`` against a stored bcrypt hash or legacy plain-text value.

    A NULL stored password never matches (as in Synmetrix, such a login cannot be used). Plain-text
    values are compared in constant time; a match reports ``needs_upgrade``.
    """
    if stored is None or stored == "":
        return PasswordCheck(False)
    cand = candidate.encode("utf-8")
    if is_bcrypt_hash(stored):
        if len(cand) > _BCRYPT_MAX_BYTES:
            return PasswordCheck(False)
        try:
            return PasswordCheck(bcrypt.checkpw(cand, stored.encode("ascii")))
        except ValueError:
            return PasswordCheck(False)
    ok = hmac.compare_digest(stored.encode("utf-8"), cand)
    return PasswordCheck(ok, needs_upgrade=ok)


_DUMMY_HASH: str | None = None


def dummy_verify(candidate: str) -> None:
    """Spend the time of one bcrypt check; used for unknown users so that timing reveals nothing."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("sqlgate-dummy-password")
    bcrypt.checkpw(candidate.encode("utf-8")[:_BCRYPT_MAX_BYTES], _DUMMY_HASH.encode("ascii"))
