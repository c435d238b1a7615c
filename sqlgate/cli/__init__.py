"""The ``sqlgate`` command line: admin commands, ``migrate``, ``serve`` and ``demo``."""
