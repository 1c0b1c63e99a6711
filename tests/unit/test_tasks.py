"""Task: long work on a thread that a page can watch, cancel and read."""

from __future__ import annotations

import threading
import time

from explorer.tasks import Task


def counting(steps: int, pause: float = 0.0):
    def work(progress, stop: threading.Event):
        for i in range(steps):
            if stop.is_set():
                return None
            time.sleep(pause)
            progress((i + 1) / steps)
        return "done"
    return work


def test_a_task_reports_progress_and_its_result():
    task = Task(counting(4))
    assert task.wait(5) and task.finished and task.result == "done" and task.progress == 1.0 and task.error is None


def test_cancel_stops_the_work_between_steps():
    task = Task(counting(1000, pause=0.01))
    time.sleep(0.05)
    task.cancel()
    assert task.wait(1) and task.cancelled and task.result is None and task.progress < 1.0


def test_a_failure_is_kept_not_raised_on_the_thread():
    def broken(progress, stop):
        raise ValueError("no map")
    task = Task(broken)
    assert task.wait(5) and isinstance(task.error, ValueError) and task.result is None
