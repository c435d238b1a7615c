"""Access checks over the members a planned statement touches (Synmetrix access lists, strict).

``check_access`` is the one function the semantic handler calls, after planning and again before
each execution (the session's context may have been refreshed meanwhile); it needs no SQL, only
:class:`TouchedMembers` and the session's :class:`~sqlgate.auth.context.SecurityContext`.

The rules (docs/security.md):

* owners and admins may use everything;
* a member (role ``member``) without an access list for the datasource may use nothing
  (42501 "no access to the datasource");
* otherwise every member the statement touches — selected, filtered, grouped, ordered, used as a
  time dimension or segment, inside calculated members (transitively), in the SQL of the joins the
  query follows, and the cube members behind view members — must be in the access list, and every
  cube or view whose table is read (FROM, join paths, the cubes behind a view) must have at least
  one allowed member. The first refusal names the member or cube (42501).

Members and cubes that are not public are exempt: clients cannot name them, Synmetrix's access-list
editor cannot list them, and they are reached only through public members, which must be allowed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlgate.errors import INSUFFICIENT_PRIVILEGE, PgError
from sqlgate.planner.semantic.members import TouchedMembers

if TYPE_CHECKING:
    from sqlgate.auth.context import SecurityContext

NO_DATASOURCE_ACCESS = "no access to the datasource"

# How a member is reported when the client did not name it itself.
_INDIRECT = {
    "join": "used by a join",
    "view_source": "behind a view member",
    "dependency": "used by a calculated member",
}
_DIRECT = frozenset({"select", "where", "having", "order", "group", "time_dimension", "segment"})


def denied_members(touched: TouchedMembers, allowed: frozenset[str]) -> list[str]:
    """The members ``touched`` uses that ``allowed`` does not contain, sorted (named ones first)."""
    denied = [name for name in touched.all if name not in allowed and name not in touched.internal]
    return sorted(denied, key=lambda name: (not (touched.usages[name] & _DIRECT), name))


def denied_cubes(touched: TouchedMembers, allowed_cubes: frozenset[str]) -> list[str]:
    """The cubes and views ``touched`` reads that have no allowed member, sorted."""
    return sorted(
        name
        for name in touched.tables | touched.cubes
        if name not in allowed_cubes and name not in touched.internal
    )


def check_datasource_access(ctx: SecurityContext) -> None:
    """42501 when the session may not query the datasource at all (a member without access list)."""
    if not ctx.unrestricted and ctx.access_list is None:
        raise PgError(
            INSUFFICIENT_PRIVILEGE,
            NO_DATASOURCE_ACCESS,
            hint="An owner or admin of the team must give the member an access list for this datasource.",
        )


def check_access(touched: TouchedMembers, ctx: SecurityContext) -> None:
    """42501 unless the session may use every member and cube the statement touches."""
    if ctx.unrestricted:
        return
    check_datasource_access(ctx)
    access = ctx.access_list
    assert access is not None
    denied = denied_members(touched, access.allowed)
    if denied:
        name = denied[0]
        usages = touched.usages[name]
        why = ""
        if not usages & _DIRECT:
            why = " (" + next(text for usage, text in _INDIRECT.items() if usage in usages) + ")"
        more = f" and {len(denied) - 1} more" if len(denied) > 1 else ""
        raise PgError(INSUFFICIENT_PRIVILEGE, f'no access to member "{name}"{why}{more}')
    cubes = denied_cubes(touched, access.allowed_cubes)
    if cubes:
        raise PgError(INSUFFICIENT_PRIVILEGE, f'no access to cube "{cubes[0]}"')
