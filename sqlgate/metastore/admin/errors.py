"""Errors of admin operations. ``str(error)`` is one line, safe to show (it never holds a secret)."""

from __future__ import annotations


class AdminError(Exception):
    """An admin operation failed for a reason the user can fix."""


class NotFoundError(AdminError):
    """A team, user, datasource, access list, branch or credential does not exist."""


class ConflictError(AdminError):
    """The thing to create exists already (duplicate name, username, membership …)."""


class InvalidInputError(AdminError):
    """An argument is malformed (bad JSON, unknown type, unreadable or invalid model file …)."""
