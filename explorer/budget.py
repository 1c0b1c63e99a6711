"""Memory budgets for what visitors keep in a shared server: each visitor's uploads and models, and all together."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any
from collections.abc import Callable, Hashable, Iterator

import numpy as np

from explorer.cost import ModelCost, cost_of

MB = 2**20
PER_VISITOR_BYTES = 192 * MB  # one data set at its largest (128 MB of pixels) and a few models
SERVER_BYTES = 512 * MB  # all visitors together: with a warm server (~0.7 GB) and uploads being read, under 1.5 GB
WORK_BYTES = 128 * MB  # the most one computation (a batch of encodes, decodes or scores) holds at once
WORK_POOL_BYTES = 384 * MB  # all computations at once, server-wide: the rest wait their turn
WORK_WAIT_S = 60.0  # ... for this long at most
MAX_DECODE_MACS = 200_000_000  # multiply-adds of one image's decode: a 225-image grid is then seconds of CPU


def nbytes(item: Any) -> int:
    """The memory an uploaded data set (its arrays) or a loaded model (its file, weights and parsed metadata)
    holds."""
    if hasattr(item, "payload") and hasattr(item, "model"):  # a Checkpoint
        weights = sum(t.numel() * t.element_size() for t in item.model.state_dict().values())
        return len(item.payload) + weights + item.metadata_bytes
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


class NeedsRoom(ValueError):
    """What is asked fits only if some of the visitor's items are let go, and letting go was not allowed."""


class Ledger:
    """Bytes held per visitor, under one server-wide budget (thread-safe: visitors' callbacks run concurrently)."""

    def __init__(self, total: int = SERVER_BYTES):
        self.total = total
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, visitor: str, held: list[tuple[str, int]], incoming: int, per_visitor: int,
              fixed: int = 0, evict: bool = True) -> list[str]:
        """Make room for `incoming` bytes of this visitor's (see `evictions`) and count them, in one step, so two
        visitors cannot both take the last room; returns the names to let go. `fixed` bytes (a training run's)
        are the visitor's too but cannot be let go. With evict=False, NeedsRoom (nothing counted) where some
        would have to go."""
        with self._lock:
            room = self.total - sum(size for key, size in self._held.items() if key != visitor)
            dropped = evictions(held, incoming + fixed, per_visitor, room)
            if dropped and not evict:
                raise NeedsRoom(f"{len(dropped)} of this visitor's items would have to be let go")
            self._held[visitor] = sum(size for name, size in held if name not in dropped) + incoming + fixed
            return dropped

    def release(self, visitor: str) -> None:
        with self._lock:
            self._held.pop(visitor, None)

    def held(self) -> int:
        with self._lock:
            return sum(self._held.values())


def refusal(cost: ModelCost) -> str | None:
    """Why this server cannot use a model of this cost (its weights, or one image's decode or encode, past the
    budgets), in words; None when it can."""
    one = max(cost.decode_bytes, cost.encode_bytes)
    if cost.decode_macs > MAX_DECODE_MACS:
        return (f"one image's decode takes {cost.decode_macs / 1e6:,.0f} million multiply-adds, and this server "
                f"decodes up to {MAX_DECODE_MACS / 1e6:,.0f} million per image (its pages decode hundreds at once); "
                "use a model with fewer channels or smaller images.")
    if one > WORK_BYTES:
        return (f"one image's decode or encode needs {one / MB:,.0f} MB of working memory, and this server gives "
                f"one computation {WORK_BYTES / MB:,.0f} MB; use a model with fewer channels or smaller images.")
    if 2 * cost.weight_bytes > PER_VISITOR_BYTES:  # the weights, and the file they came from
        return (f"its {cost.parameters:,} weights need {2 * cost.weight_bytes / MB:,.0f} MB, and each visitor "
                f"keeps up to {PER_VISITOR_BYTES / MB:,.0f} MB; use a smaller model.")
    return None


def run_refusal(cost: ModelCost, batch_size: int, draws: int = 1) -> str | None:
    """Why a training run of this cost and batch (each image's z drawn `draws` times) cannot start here; None when
    it can."""
    need = cost.run_bytes(batch_size, draws)
    if need <= PER_VISITOR_BYTES:
        return None
    if cost.run_bytes(1) > PER_VISITOR_BYTES:
        return (f"A model this size trains with {cost.run_bytes(1) / MB:,.0f} MB of weights, gradients and "
                f"optimiser state, and each visitor keeps up to {PER_VISITOR_BYTES / MB:,.0f} MB; use fewer or "
                "narrower layers, or smaller images.")
    fits = (PER_VISITOR_BYTES - cost.run_bytes(0)) // max(1, cost.step_bytes * max(1, draws))
    return (f"A batch of {batch_size:,} needs {need / MB:,.0f} MB to train, and each visitor keeps up to "
            f"{PER_VISITOR_BYTES / MB:,.0f} MB; use a batch size of {fits:,} or less.")


class WorkPool:
    """Bytes of computation running at once, server-wide: a computation waits until its bytes fit (one larger than
    the whole pool runs alone), so any mix of visitors' work stays under the pool."""

    def __init__(self, total: int = WORK_POOL_BYTES):
        self.total, self.used = total, 0
        self._room = threading.Condition()

    @contextmanager
    def use(self, nbytes: int, wait_s: float = WORK_WAIT_S) -> Iterator[None]:
        with self._room:
            if not self._room.wait_for(lambda: self.used == 0 or self.used + nbytes <= self.total, wait_s):
                raise ValueError("The server is busy with other visitors' work; try again in a minute.")
            self.used += nbytes
        try:
            yield
        finally:
            with self._room:
                self.used -= nbytes
                self._room.notify_all()


POOL = WorkPool()


@contextmanager
def batches_of(model, largest: int, what: str = "decode") -> Iterator[int]:
    """Images per batch for one of the model's computations ("decode", "encode", or "both": an encode, then decodes
    of its code, as scoring does): at most `largest`, within WORK_BYTES, at least one (a model past the budget is
    refused before it gets here: see `refusal`). Its working memory is held in the server's pool meanwhile."""
    cost = cost_of(model)
    per_image = {"decode": cost.decode_bytes, "encode": cost.encode_bytes,
                 "both": max(cost.encode_bytes, cost.decode_bytes)}[what]
    size = max(1, min(largest, WORK_BYTES // max(1, per_image)))
    with POOL.use(size * per_image):
        yield size


class SizedCache:
    """Items shared by every visitor (server-side models), least recently used first out, bounded in bytes (the
    newest item stays even past the bound), and let go once nobody has used them for `idle_s`: a sweep runs while
    the cache holds anything."""

    def __init__(self, limit: int, idle_s: float, on_empty: Callable[[], None] | None = None,
                 size: Callable[[Any], int] = nbytes):
        self.limit, self.idle_s, self.on_empty, self.size = limit, idle_s, on_empty, size
        self._items: OrderedDict[Hashable, tuple[Any, int, float]] = OrderedDict()  # key -> (item, bytes, last used)
        self._lock = threading.Lock()
        self._sweeping = False

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                item, size, _ = self._items.pop(key)
                self._items[key] = (item, size, time.monotonic())
                return item
        item = make()  # outside the lock: loading one model does not hold up the others
        with self._lock:
            self._items[key] = (item, self.size(item), time.monotonic())
            while len(self._items) > 1 and self.held() > self.limit:
                self._items.popitem(last=False)
            self._schedule()
        return item

    def held(self) -> int:
        return sum(size for _, size, _ in self._items.values())

    def _schedule(self) -> None:
        if not self._sweeping and self._items:
            self._sweeping = True
            timer = threading.Timer(self.idle_s / 4, self._sweep)
            timer.daemon = True
            timer.start()

    def _sweep(self) -> None:
        with self._lock:
            self._sweeping = False
            stale = time.monotonic() - self.idle_s
            for key in [k for k, (_, _, used) in self._items.items() if used < stale]:
                del self._items[key]
            emptied = not self._items
            self._schedule()
        if emptied and self.on_empty is not None:
            self.on_empty()
