"""The PostgreSQL v3 server: per-connection state machine, asyncio server, TLS, cancel keys, limits."""
