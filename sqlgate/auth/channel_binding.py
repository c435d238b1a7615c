"""``tls-server-end-point`` channel binding (RFC 5929): a hash of the server's own certificate.

The hash is SHA-256 unless the certificate's signature uses SHA-384 or SHA-512 (then that one);
MD5 and SHA-1 signatures also use SHA-256. Certificates whose signature has no hash of its own
(Ed25519, RSA-PSS with parameters we do not read) get no channel binding: the server then offers
plain SCRAM-SHA-256 only, as PostgreSQL does when it cannot compute the hash.
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

# signatureAlgorithm OIDs (DER-encoded contents) -> hash name
_SIGNATURE_HASHES = {
    "1.2.840.113549.1.1.4": "sha256",  # md5WithRSAEncryption -> sha256 per RFC 5929
    "1.2.840.113549.1.1.5": "sha256",  # sha1WithRSAEncryption
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.113549.1.1.14": "sha256",  # sha224 -> sha256
    "1.2.840.10045.4.1": "sha256",  # ecdsa-with-SHA1
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
    "1.2.840.10040.4.3": "sha256",  # dsa-with-sha1
    "2.16.840.1.101.3.4.3.2": "sha256",  # dsa-with-sha256
}


def _read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, pos, pos + length


def _oid_text(body: bytes) -> str:
    first = body[0]
    parts = [first // 40, first % 40]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def signature_hash_name(cert_der: bytes) -> str | None:
    """The hash tls-server-end-point uses for this certificate, or None when there is none."""
    try:
        _, cert_start, _ = _read_tlv(cert_der, 0)  # Certificate ::= SEQUENCE
        _, _, tbs_end = _read_tlv(cert_der, cert_start)  # tbsCertificate
        tag, alg_start, _ = _read_tlv(cert_der, tbs_end)  # signatureAlgorithm SEQUENCE
        oid_tag, oid_start, oid_end = _read_tlv(cert_der, alg_start)
    except IndexError:
        return None
    if tag != 0x30 or oid_tag != 0x06:
        return None
    return _SIGNATURE_HASHES.get(_oid_text(cert_der[oid_start:oid_end]))


def tls_server_end_point(cert_der: bytes) -> bytes | None:
    """The channel-binding data for a server certificate (DER), or None when it has none."""
    name = signature_hash_name(cert_der)
    if name is None:
        return None
    return hashlib.new(name, cert_der).digest()


def certificate_der(cert_file: str | Path) -> bytes:
    """The DER bytes of the first certificate in a PEM file (the server's own certificate)."""
    text = Path(cert_file).read_text()
    begin = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", begin) + len("-----END CERTIFICATE-----")
    return ssl.PEM_cert_to_DER_cert(text[begin:end])
