"""Classify client statements and plan them: session commands, catalog queries, semantic queries.

The wire layer talks to this package only through :class:`sqlgate.planner.api.Planner`,
:class:`sqlgate.planner.session.Session` and the statement/execution types in ``api``.
"""
