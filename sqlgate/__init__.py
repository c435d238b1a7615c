"""sqlgate: a PostgreSQL wire-protocol gateway for Cube-style semantic SQL over Synmetrix models."""

__version__ = "0.1.0"
