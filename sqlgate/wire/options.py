"""Settings the wire server needs (the gateway fills them from :class:`sqlgate.config.Settings`)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How the wire server listens and which limits it enforces."""

    host: str = "127.0.0.1"
    port: int = 15432
    tls: ssl.SSLContext | None = None
    # tls-server-end-point channel-binding data of our certificate (None: no SCRAM-SHA-256-PLUS)
    channel_binding: bytes | None = None
    max_connections: int = 500
    max_connections_per_credential: int = 0  # 0: no per-credential limit
    require_tls: bool = False  # refuse start-up packets on unencrypted connections (28000)
    statement_timeout: float = 0.0  # server limit on every statement, seconds (0: none)
    max_result_rows: int = 0  # rows one statement may return before it fails with 54000 (0: no limit)
    startup_timeout: float = 60.0  # seconds for start-up packet + authentication
    idle_session_timeout: float = 0.0  # 0: never
    max_message_size: int = 16 * 1024 * 1024
    shutdown_timeout: float = 30.0
    write_buffer_size: int = 64 * 1024  # flush and wait for the socket beyond this many bytes
    reuse_port: bool = False
    log_queries: bool = True
