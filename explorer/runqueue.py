"""RunQueue: a first-come first-served line for a fixed number of training slots, with each waiter's place and
an estimate of its wait."""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from typing import NamedTuple
from collections.abc import Callable, Sequence

WAITING, RUNNING, LEFT = "waiting", "running", "left"


@dataclass(eq=False)
class Ticket:
    """One run's place: handed out by RunQueue.enter, its state changed only under the queue's lock."""

    number: int  # order of arrival, 0-based
    samples: int  # training images the whole run will process (epochs x training set): its size, for estimates
    seconds_left: Callable[[], float | None]  # once running, the run's own estimate of its time left (None: unknown)
    state: str = field(default=WAITING)


class Standing(NamedTuple):
    """Where a waiting ticket stands: its place (1 = next to start), the slots it waits for, and about how long."""

    place: int
    slots: int
    wait_s: float | None  # None: a run ahead (or the server's speed) is not known yet


def _unknown() -> float | None:
    return None


def estimate_wait(running: Sequence[float | None], ahead: Sequence[float | None], capacity: int) -> float | None:
    """Seconds until a slot is free for the run behind `ahead`: `capacity` slots, busy for `running` seconds
    more each (free slots count as 0), then taken in turn by the runs ahead for their durations.

    None when any of those times is unknown: an unknown run may end at any moment or never, so no honest
    number exists.
    """
    if any(t is None for t in (*running, *ahead)):
        return None
    free_at = [max(0.0, t) for t in running] + [0.0] * (capacity - len(running))  # when each slot frees
    heapq.heapify(free_at)
    for duration in ahead:  # the earliest free slot goes to the next in line
        heapq.heappush(free_at, heapq.heappop(free_at) + max(0.0, duration))
    return free_at[0]


class RunQueue:
    """At most `capacity` runs hold a slot at once; the others wait in the order they entered.

    A slot that frees goes straight to the head of the line, even before that run's thread asks for it, so a
    run whose thread is slow to get there (building its model) never loses its turn to a later one.
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"A run queue needs at least one slot; got {capacity}.")
        self.capacity = capacity
        self._changed = threading.Condition()
        self._line: list[Ticket] = []  # waiting, first in line first
        self._running: list[Ticket] = []
        self._numbers = itertools.count()
        self._samples_per_s: float | None = None  # the server's latest measured training speed

    # --- a run's side ----------------------------------------------------------------------------------------
    def enter(self, samples: int = 0, seconds_left: Callable[[], float | None] = _unknown) -> Ticket:
        """Join the end of the line (or take a free slot at once); the place is fixed now, in the caller."""
        with self._changed:
            ticket = Ticket(next(self._numbers), samples, seconds_left)
            self._line.append(ticket)
            self._grant()
            return ticket

    def wait(self, ticket: Ticket) -> bool:
        """Block until the ticket holds a slot (True) or has left the line (False)."""
        with self._changed:
            self._changed.wait_for(lambda: ticket.state != WAITING)
            return ticket.state == RUNNING

    def cancel(self, ticket: Ticket) -> None:
        """Leave the line if still waiting (its wait returns False); a ticket already holding a slot keeps it."""
        with self._changed:
            if ticket.state == WAITING:
                self._leave(ticket)

    def leave(self, ticket: Ticket) -> None:
        """Give up the slot or the place in line, whichever the ticket has; calling it again does nothing."""
        with self._changed:
            if ticket.state != LEFT:
                self._leave(ticket)

    def report_speed(self, samples_per_s: float) -> None:
        """A run's measured training speed, kept as the server's latest to size the runs still waiting."""
        if samples_per_s > 0:
            with self._changed:
                self._samples_per_s = samples_per_s

    # --- what a page reads -------------------------------------------------------------------------------------
    @property
    def running(self) -> int:
        with self._changed:
            return len(self._running)

    def place(self, ticket: Ticket) -> int | None:
        """1 for the next to start, 2 behind it ...; None once the ticket runs or has left."""
        with self._changed:
            return self._line.index(ticket) + 1 if ticket.state == WAITING else None

    def standing(self, ticket: Ticket) -> Standing | None:
        """The ticket's place and estimated wait; None once it runs or has left."""
        with self._changed:
            if ticket.state != WAITING:
                return None
            place = self._line.index(ticket) + 1
            running, ahead, speed = list(self._running), self._line[: place - 1], self._samples_per_s
        # The runs' own estimates read their metrics under their own locks: asked outside ours, so no run
        # ever waits on two locks.
        left = [t.seconds_left() for t in running]
        left = [s if s is not None else _duration(t, speed) for s, t in zip(left, running)]
        wait = estimate_wait(left, [_duration(t, speed) for t in ahead], self.capacity)
        return Standing(place, self.capacity, wait)

    # --- under the lock ----------------------------------------------------------------------------------------
    def _leave(self, ticket: Ticket) -> None:
        (self._running if ticket.state == RUNNING else self._line).remove(ticket)
        ticket.state = LEFT
        self._grant()

    def _grant(self) -> None:
        while self._line and len(self._running) < self.capacity:
            ticket = self._line.pop(0)
            ticket.state = RUNNING
            self._running.append(ticket)
        self._changed.notify_all()


def _duration(ticket: Ticket, samples_per_s: float | None) -> float | None:
    """A run's whole length at the server's latest speed (a run that has not started has no speed of its own)."""
    return ticket.samples / samples_per_s if samples_per_s else None
