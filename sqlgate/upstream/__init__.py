"""The client side of PostgreSQL's protocol, built on :mod:`sqlgate.pgproto`.

Two parts of sqlgate speak to a PostgreSQL server message by message instead of through a driver:
the PostgreSQL datasource's pass-through path (:mod:`sqlgate.sources.passthrough`, DataRow bytes
forwarded unchanged) and the shadow catalog (:mod:`sqlgate.planner.catalog`, catalog statements
forwarded with the client's own parameter bytes and formats). Both use this package:

* :class:`~sqlgate.upstream.connection.UpstreamConnection` — connect (TCP or unix socket, TLS through
  SSLRequest), authenticate (trust, cleartext, MD5, SCRAM-SHA-256), read framed messages, cancel.
* :class:`~sqlgate.upstream.pool.UpstreamPool` — idle connections kept for reuse, optionally bounded.
* :mod:`~sqlgate.upstream.sqltext` — quoting of identifiers and literals for the few statements the
  gateway composes itself (administration of the catalog server).

Nothing here knows about datasources, models or sessions; callers turn failures into the errors
their clients should see.
"""

from sqlgate.upstream.connection import ConnectFailed, ConnectionBroken, Endpoint, UpstreamConnection
from sqlgate.upstream.pool import PoolClosed, UpstreamPool

__all__ = [
    "ConnectFailed",
    "ConnectionBroken",
    "Endpoint",
    "PoolClosed",
    "UpstreamConnection",
    "UpstreamPool",
]
