"""RunQueue: first come first served, places that move up, no leaked slots, and the estimated wait."""

from __future__ import annotations

import threading

import pytest

from explorer.numbers import duration, ordinal
from explorer.runqueue import RunQueue, Standing, estimate_wait


def waiter(queue, ticket, started, lock, hold: threading.Event | None = None):
    """A thread that waits its turn, notes that it started, and gives its slot back (when `hold` is set)."""

    def run():
        if queue.wait(ticket):
            with lock:
                started.append(ticket.number)
            if hold is not None:
                hold.wait(10)
            queue.leave(ticket)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_runs_start_in_the_order_they_entered_whatever_order_their_threads_wait_in():
    queue = RunQueue(1)
    holder = queue.enter()
    tickets = [queue.enter() for _ in range(8)]
    started, lock = [], threading.Lock()
    threads = [waiter(queue, t, started, lock) for t in reversed(tickets)]  # the last to enter waits first
    queue.leave(holder)
    for thread in threads:
        thread.join(10)
    assert started == [t.number for t in tickets]


def test_order_holds_under_contention_from_many_threads_entering_at_once():
    queue = RunQueue(1)
    holder = queue.enter()
    entered, started, lock, go = [], [], threading.Lock(), threading.Barrier(12)

    def visitor():
        go.wait(10)
        with lock:  # enter and note it together, so `entered` is the queue's own order
            ticket = queue.enter()
            entered.append(ticket.number)
        if queue.wait(ticket):
            with lock:
                started.append(ticket.number)
            queue.leave(ticket)

    threads = [threading.Thread(target=visitor, daemon=True) for _ in range(12)]
    for thread in threads:
        thread.start()
    queue.leave(holder)  # some threads may not have entered yet: late arrivals take the next free slot in turn
    for thread in threads:
        thread.join(10)
    assert started == entered and len(started) == 12


def test_a_free_slot_goes_to_the_head_of_the_line_before_its_thread_asks():
    queue = RunQueue(1)
    holder, first, second = queue.enter(), queue.enter(), queue.enter()
    queue.leave(holder)
    assert queue.place(first) is None and queue.place(second) == 1  # first holds the slot, unasked
    assert queue.wait(first) is True and queue.running == 1


def test_places_count_from_one_and_move_up_as_runs_leave():
    queue = RunQueue(2)
    running = [queue.enter(), queue.enter()]
    a, b, c = queue.enter(), queue.enter(), queue.enter()
    assert [queue.place(t) for t in (*running, a, b, c)] == [None, None, 1, 2, 3]
    assert queue.running == 2
    queue.leave(running[0])
    assert [queue.place(t) for t in (a, b, c)] == [None, 1, 2]


def test_a_stopped_waiter_leaves_the_line_and_the_next_moves_up():
    queue = RunQueue(1)
    holder, a, b, c = (queue.enter() for _ in range(4))
    result = []
    thread = threading.Thread(target=lambda: result.append(queue.wait(b)), daemon=True)
    thread.start()
    queue.cancel(b)
    thread.join(10)
    assert result == [False] and queue.place(b) is None
    assert queue.place(a) == 1 and queue.place(c) == 2
    queue.leave(holder)
    assert queue.place(a) is None and queue.place(c) == 1  # b never took the slot a was next for


def test_cancel_leaves_a_running_ticket_its_slot_and_leave_is_idempotent():
    queue = RunQueue(1)
    running, waiting = queue.enter(), queue.enter()
    queue.cancel(running)
    assert queue.running == 1 and queue.place(waiting) == 1
    queue.leave(running)
    queue.leave(running)  # a second leave must not free a slot someone else now holds
    assert queue.running == 1 and queue.place(waiting) is None
    third = queue.enter()
    assert queue.place(third) == 1


def test_slots_never_leak_and_never_exceed_the_capacity():
    queue = RunQueue(3)
    lock, counts = threading.Lock(), {"now": 0, "most": 0}

    def visitor(i: int):
        ticket = queue.enter()
        if i % 4 == 0:
            queue.cancel(ticket)  # some give up in line (or, already running, keep their slot)
        if queue.wait(ticket):
            with lock:
                counts["now"] += 1
                counts["most"] = max(counts["most"], counts["now"])
            with lock:
                counts["now"] -= 1
        queue.leave(ticket)
        if i % 3 == 0:
            queue.leave(ticket)

    threads = [threading.Thread(target=visitor, args=(i,), daemon=True) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert counts["most"] <= 3 and queue.running == 0
    fresh = [queue.enter() for _ in range(3)]
    assert [queue.place(t) for t in fresh] == [None] * 3 and queue.place(queue.enter()) == 1


def test_a_queue_needs_a_slot():
    with pytest.raises(ValueError, match="at least one slot"):
        RunQueue(0)


@pytest.mark.parametrize(
    "running, ahead, capacity, expected",
    [
        ([30.0, 10.0], [], 2, 10.0),  # next in line: the sooner of the two runs ends
        ([30.0, 10.0], [5.0], 2, 15.0),  # one ahead takes the slot freed at 10 s, and ends at 15 s
        ([30.0, 10.0], [25.0], 2, 30.0),  # ... unless the other slot frees first
        ([10.0], [20.0, 5.0], 1, 35.0),  # one slot: everything ahead, in turn
        ([5.0], [], 2, 0.0),  # a free slot: no wait
        ([], [], 1, 0.0),
        ([-3.0], [], 1, 0.0),  # a run past its estimate is about to end, not ending in the past
    ],
)
def test_the_wait_estimate_simulates_the_slots_freeing_in_turn(running, ahead, capacity, expected):
    assert estimate_wait(running, ahead, capacity) == pytest.approx(expected)


@pytest.mark.parametrize("running, ahead", [([None, 10.0], []), ([10.0], [None]), ([10.0, 20.0], [5.0, None])])
def test_an_unknown_run_makes_the_wait_unknown(running, ahead):
    assert estimate_wait(running, ahead, 2) is None


def test_standing_uses_the_runs_own_estimates_and_the_servers_speed():
    queue = RunQueue(1)
    queue.enter(samples=1_000, seconds_left=lambda: 12.0)
    queue.enter(samples=2_000)
    me = queue.enter(samples=500)
    assert queue.standing(me) == Standing(place=2, slots=1, wait_s=None)  # no speed measured yet
    queue.report_speed(100.0)
    assert queue.standing(me) == Standing(2, 1, pytest.approx(12.0 + 20.0))


def test_a_running_run_without_metrics_yet_counts_as_its_whole_length():
    queue = RunQueue(1)
    queue.enter(samples=3_000)  # its thread is still building the model: no estimate of its own
    me = queue.enter()
    assert queue.standing(me).wait_s is None
    queue.report_speed(1_000.0)
    assert queue.standing(me).wait_s == pytest.approx(3.0)
    assert queue.standing(queue.enter()).place == 2


def test_place_words_and_durations():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    assert [duration(s) for s in (0.2, 40.4, 89, 600, 5400, 9000)] == [
        "1 s", "40 s", "89 s", "10 min", "1.5 h", "2.5 h"]
