"""Pure PostgreSQL v3 protocol pieces shared by every layer: type OIDs, message codecs, value codecs.

Nothing here does I/O. The wire layer (server side) and any upstream PostgreSQL client (the shadow
catalog, the PostgreSQL datasource fast path) build on these.
"""
