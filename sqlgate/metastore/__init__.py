"""The Synmetrix metadata database: SQLAlchemy models, look-ups for auth and models, admin operations."""
