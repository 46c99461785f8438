"""Progress of a long import: printed by the CLI, polled by the web page.

The rows are written inside one transaction, so progress cannot live in the database
while it runs (on SQLite nobody else may write then, and nobody would see it before the
commit anyway). It goes to the cache instead, which every server process shares (files
in the data folder, or Redis when ``GONGHUI_REDIS_URL`` is set).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from django.core.cache import cache

PHASES = {"read": "读取", "check": "检查", "write": "写入"}


class Progress:
    """Receives ``(phase, done, total)``; the base class ignores it."""

    def update(self, phase: str, done: int, total: int) -> None:
        pass

    def finish(self) -> None:
        pass


class StreamProgress(Progress):
    """``检查 12,000/100,000 行`` on one line of stderr, at most twice a second."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = 0.0
        self._phase = ""
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total
        if phase == self._phase and not final and now - self._last < self.interval:
            return
        if phase != self._phase and self._phase and self._tty:
            self.stream.write("\n")
        self._phase = phase
        self._last = now
        line = f"{PHASES.get(phase, phase)} {done:,}/{total:,} 行"
        if self._tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._tty and self._phase:
            self.stream.write("\n")
            self.stream.flush()


def _key(record_id: int) -> str:
    return f"gonghui:import-progress:{record_id}"


class CacheProgress(Progress):
    """For the web page that polls an :class:`ImportRecord` (see module docstring)."""

    def __init__(self, record_id: int, interval: float = 0.3) -> None:
        self.record_id = record_id
        self.interval = interval
        self._last = 0.0

    def update(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < self.interval and done < total:
            return
        self._last = now
        cache.set(_key(self.record_id), {"phase": phase, "done": done, "total": total}, 3600)

    def finish(self) -> None:
        cache.delete(_key(self.record_id))


def read_progress(record_id: int) -> dict[str, Any] | None:
    value = cache.get(_key(record_id))
    if not value:
        return None
    total = max(int(value["total"]), 1)
    value["percent"] = min(100, int(value["done"] * 100 / total))
    value["label"] = PHASES.get(value["phase"], value["phase"])
    return dict(value)
