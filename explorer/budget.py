"""Memory budgets for what visitors keep in a shared server: each visitor's uploads and models, and all together."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

MB = 2**20
PER_VISITOR_BYTES = 192 * MB  # one data set at its largest (128 MB of pixels) and a few models
SERVER_BYTES = 512 * MB  # all visitors together: with a warm server (~0.7 GB) and uploads being read, under 1.5 GB


def nbytes(item: Any) -> int:
    """The memory an uploaded data set (its arrays) or a loaded model (its file and weights) holds."""
    if hasattr(item, "payload") and hasattr(item, "model"):  # a Checkpoint
        return len(item.payload) + sum(t.numel() * t.element_size() for t in item.model.state_dict().values())
    arrays = (getattr(item, name, None) for name in ("images", "labels", "train_index", "test_index"))
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def evictions(held: list[tuple[str, int]], incoming: int, per_visitor: int, room: int) -> list[str]:
    """The visitor's oldest items to let go so that `incoming` bytes fit both their own budget and the server's
    `room` (what the server can hold for this visitor, counting what they hold now); ValueError if nothing can."""
    limit = min(per_visitor, room)
    if incoming > limit:
        if incoming > per_visitor:
            raise ValueError(f"It needs {incoming / MB:,.0f} MB in memory; each visitor can keep "
                             f"{per_visitor / MB:,.0f} MB. Use a smaller file.")
        raise ValueError("The server is holding as much as it can for its visitors right now; try again in a few "
                         "minutes, or use a smaller file.")
    total, dropped = sum(size for _, size in held) + incoming, []
    for name, size in held:  # oldest first
        if total <= limit:
            break
        dropped.append(name)
        total -= size
    return dropped


class Ledger:
    """Bytes held per visitor, under one server-wide budget (thread-safe: visitors' callbacks run concurrently)."""

    def __init__(self, total: int = SERVER_BYTES):
        self.total = total
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, visitor: str, held: list[tuple[str, int]], incoming: int, per_visitor: int) -> list[str]:
        """Make room for `incoming` bytes of this visitor's (see `evictions`) and count them, in one step, so two
        visitors cannot both take the last room; returns the names to let go."""
        with self._lock:
            room = self.total - sum(size for key, size in self._held.items() if key != visitor)
            dropped = evictions(held, incoming, per_visitor, room)
            self._held[visitor] = sum(size for name, size in held if name not in dropped) + incoming
            return dropped

    def release(self, visitor: str) -> None:
        with self._lock:
            self._held.pop(visitor, None)

    def held(self) -> int:
        with self._lock:
            return sum(self._held.values())
