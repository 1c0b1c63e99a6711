"""Task: one piece of long work on a thread, with its progress, a way to cancel it, and its result."""

from __future__ import annotations

import threading
from typing import Any
from collections.abc import Callable

Work = Callable[[Callable[[float], None], threading.Event], Any]  # work(progress, stop) -> result


class Task:
    """Runs work(progress, stop) on a daemon thread; a page polls `progress` and reads `result` when finished.

    The work reports progress (0..1) and checks `stop` between steps; `cancel()` sets it. A failure is kept in
    `error`, never raised on the thread.
    """

    def __init__(self, work: Work, name: str = "task"):
        self.progress = 0.0
        self.result: Any = None
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._work = work
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = self._work(self._report, self._stop)
        except Exception as error:  # noqa: BLE001 - shown by the page that polls this task
            self.error = error
        finally:
            self._done.set()

    def _report(self, fraction: float) -> None:
        self.progress = float(fraction)

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)
