"""Run ``sqlgate serve``'s signal handling around a gateway with the in-memory test credentials.

Used by test_serve.py as a subprocess: prints ``PORT <n>`` once listening, drains on SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys

from sqlgate.cli.serve import configure_logging, loop_factory, run_until_signalled
from sqlgate.gateway import Gateway
from tests.support.gateways import make_settings, make_store
from tests.support.numbers import NumbersHandler


class AnnouncingGateway(Gateway):
    async def start(self) -> None:
        await super().start()
        print(f"PORT {self.port}", flush=True)


def main() -> None:
    settings = make_settings(shutdown_timeout=float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
    configure_logging("warning")
    gateway = AnnouncingGateway(settings, credential_store=make_store(), semantic=NumbersHandler())
    with asyncio.Runner(loop_factory=loop_factory(settings)) as runner:
        runner.run(run_until_signalled(gateway))


if __name__ == "__main__":
    main()
