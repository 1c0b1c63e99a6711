"""Getting the first map on screen sooner: heavy imports begin when the server starts, and the browser
fetches its Plotly bundle while the server works.

`serve.py` calls `start()` from its start-up hook; `streamlit_app.py` calls `wait()` before any page imports
anything, so the pages never import the same modules as the start-up thread at the same time (two threads
importing torch's or pandas' circular imports can deadlock). Under a plain `streamlit run streamlit_app.py`
(or AppTest) nothing was started and `wait()` returns at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import streamlit as st

from explorer.ui import session

_done = threading.Event()
_started = threading.Event()
took_s: float | None = None


@dataclass
class BootState:
    plotly_prefetched: bool = False  # this session's browser has been sent Plotly's code


def _import_everything() -> None:
    global took_s
    started = time.perf_counter()
    try:
        import pandas  # noqa: F401 - what plotly and sklearn import lazily (see resources.start_up)
        import plotly.graph_objects  # noqa: F401

        import explorer.ui.explore  # noqa: F401 - torch, the library and the shared state come with it
        import explorer.ui.generate  # noqa: F401
        import explorer.ui.train  # noqa: F401
    finally:  # an import error shows up again, with its traceback, when the page imports the module
        took_s = time.perf_counter() - started
        _done.set()


def start() -> None:
    """Begin the imports on a daemon thread (once per process)."""
    if not _started.is_set():
        _started.set()
        threading.Thread(target=_import_everything, name="boot-imports", daemon=True).start()


def wait(timeout: float = 120.0) -> None:
    """Block until the start-up imports are done, if they were started."""
    if _started.is_set():
        _done.wait(timeout)


def prefetch_plotly():
    """An empty slot at the top of the page, for the caller to empty when the page has drawn. On a visitor's
    first run it holds an empty 10-px Plotly chart: the browser loads its Plotly bundle only when a chart first
    arrives, and that now overlaps the server's work instead of following it. The slot is
    made on every run, so the elements after it keep their places (were it missing from later runs, every
    element would shift by one and the browser would rebuild the map, WebGL context and all, on the first click).
    """
    slot = st.empty()
    state = session.page_state(BootState)
    if not state.plotly_prefetched:
        state.plotly_prefetched = True
        invisible = {"visible": False, "fixedrange": True}
        slot.plotly_chart({"data": [{"type": "scatter", "x": [], "y": []}],
                           "layout": {"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                                      "xaxis": invisible, "yaxis": invisible}},
                          config={"staticPlot": True, "displayModeBar": False})
    return slot
