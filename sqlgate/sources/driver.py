"""What every driver's Source shares: its settings, options, label and query slots."""

from __future__ import annotations

from typing import ClassVar

from sqlgate.sources.limits import QueryGate
from sqlgate.sources.options import SourceOptions
from sqlgate.sources.params import ConnectionSettings


class DriverSource:
    """Base of the driver classes; subclasses set ``dialect`` and ``PARAMSTYLE``."""

    dialect: ClassVar[str]
    PARAMSTYLE: ClassVar[str]

    def __init__(self, settings: ConnectionSettings, options: SourceOptions) -> None:
        self._settings = settings
        self._options = options
        self._name = options.name
        self._gate = QueryGate(
            options.concurrency,
            queue_timeout=options.queue_timeout,
            max_queued=options.max_queued_queries,
            name=options.name,
        )

    @property
    def paramstyle(self) -> str:
        """How generated SQL marks parameters: "numeric" ($1), "format" (%s) or "qmark" (?)."""
        return self.PARAMSTYLE

    @property
    def gate(self) -> QueryGate:
        """The query slots of this datasource (wait time and timeouts for metrics)."""
        return self._gate

    @property
    def name(self) -> str:
        """The label used in messages (the datasource's name)."""
        return self._name

    @property
    def options(self) -> SourceOptions:
        return self._options
