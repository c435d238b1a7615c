"""Prometheus metrics, structured logs and the query log (request_logs)."""
