"""py-spy profiles of the gateway while a workload runs (``python -m bench run --profile DIR``).

py-spy samples the ``sqlgate serve`` process from outside (100 Hz, no code change) and writes the
collapsed stacks (``DIR/<workload>-<variant>.raw.txt``; ``flamegraph.pl`` or speedscope draw them);
:func:`summarise` turns them into the functions holding the most samples, inclusive and self.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def py_spy() -> str | None:
    """The py-spy program (next to this Python first), or None when it is not installed."""
    local = Path(sys.executable).with_name("py-spy")
    if local.exists():
        return str(local)
    return shutil.which("py-spy")


class Profiler:
    """Records ``pid`` for ``seconds`` in the background: collapsed stacks to ``out``.raw.txt."""

    def __init__(self, pid: int, out: Path, seconds: float) -> None:
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None
        program = py_spy()
        if program is None:
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                program, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                "--rate", "100", "--format", "raw", "--nonblocking",
                "--output", str(out.with_suffix(".raw.txt")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def finish(self) -> dict[str, Any] | None:
        """Wait for py-spy and return the summary (None when nothing was recorded)."""
        if self.proc is None:
            return None
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        raw = self.out.with_suffix(".raw.txt")
        if not raw.exists():
            return None
        summary = summarise(raw.read_text())
        summary["stacks"] = str(raw)
        return summary


# Frames every sample of the gateway sits under (interpreter start, CLI, the event loop's run): they
# say nothing about where time goes, so they are left out of the inclusive list. ``Runner.run`` as the
# innermost frame (self time) is the event loop's own C code: polling and socket I/O.
ENTRY_FRAMES = frozenset(
    {"_run_module_as_main", "_run_code", "<module>", "main", "serve", "Runner.run", "run_until_complete"}
)


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"; keep function and file name.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    short = "/".join(Path(path).parts[-2:]) if path else ""
    return f"{name} ({short})" if short else name


def summarise(collapsed: str, top: int = 15) -> dict[str, Any]:
    """Top functions by inclusive and by self samples from collapsed stacks (``a;b;c count``)."""
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        for frame in set(frames):
            if frame.split(" (")[0] not in ENTRY_FRAMES:
                inclusive[frame] += count
        if frames:
            self_time[frames[-1]] += count

    def share(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100.0 * n / total, 1)] for name, n in counter.most_common(top)] if total else []

    return {"samples": total, "inclusive_pct": share(inclusive), "self_pct": share(self_time)}
