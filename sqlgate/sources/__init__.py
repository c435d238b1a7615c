"""Datasource drivers: connect from Synmetrix ``db_type``/``db_params``, stream rows with PG type info."""
