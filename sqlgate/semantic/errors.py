"""The error a data model raises when it cannot be loaded or compiled."""

from __future__ import annotations


class ModelError(Exception):
    """A problem in a model file, located as precisely as the file allows.

    ``str(error)`` reads like a compiler message: ``Orders.yml:12: cube 'Orders': measure 'total':
    unknown type 'summ'``. ``file``, ``line`` (1-based, None when unknown) and ``member``
    (``"measure 'total'"`` style, None for file-level problems) are also available on their own.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        scope: str | None = None,
        member: str | None = None,
    ) -> None:
        self.reason = message
        self.file = file
        self.line = line
        self.scope = scope  # "cube 'Orders'" / "view 'OrdersView'"
        self.member = member
        super().__init__(self._render())

    def _render(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.scope:
            parts.append(self.scope)
        if self.member:
            parts.append(self.member)
        parts.append(self.reason)
        return ": ".join(parts)

    @property
    def message(self) -> str:
        return str(self)


class ModelErrors(ModelError):
    """Several independent problems found in one pass (``errors`` holds them; the first is the message)."""

    def __init__(self, errors: list[ModelError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(
            first.reason, file=first.file, line=first.line, scope=first.scope, member=first.member
        )

    def __str__(self) -> str:
        if len(self.errors) == 1:
            return str(self.errors[0])
        more = len(self.errors) - 1
        return f"{self.errors[0]} (and {more} more problem{'s' if more > 1 else ''})"
