"""Access checks over the members a planned statement touches (Synmetrix access lists, strict).

``check_access`` is the one function the dispatcher calls after planning; it needs no SQL, only
:class:`TouchedMembers` and the session's :class:`~sqlgate.auth.context.SecurityContext`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlgate.errors import INSUFFICIENT_PRIVILEGE, PgError
from sqlgate.planner.semantic.members import TouchedMembers

if TYPE_CHECKING:
    from sqlgate.auth.context import SecurityContext


def denied_members(touched: TouchedMembers, allowed: frozenset[str]) -> list[str]:
    """The members ``touched`` uses that ``allowed`` does not contain, sorted."""
    return sorted(name for name in touched.all if name not in allowed)


def check_access(touched: TouchedMembers, ctx: SecurityContext) -> None:
    """42501 unless the session may use every member the statement touches.

    Owners and admins may use everything; a member needs an access list for the datasource, and the
    list must allow every member — selected, filtered, grouped, ordered, inside calculated members,
    in join conditions, and the cube members behind view members.
    """
    if ctx.unrestricted:
        return
    if ctx.access_list is None:
        raise PgError(INSUFFICIENT_PRIVILEGE, "no access to the datasource")
    denied = denied_members(touched, ctx.access_list.allowed)
    if denied:
        more = f" (and {len(denied) - 1} more)" if len(denied) > 1 else ""
        raise PgError(INSUFFICIENT_PRIVILEGE, f'no access to member "{denied[0]}"{more}')
