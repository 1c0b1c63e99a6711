"""The visitor's session: the only code that touches st.session_state.

What the pages share (the models and data sets a visitor brought, their memory in the server's ledger, the map's
picks and groups) is a field of `Visitor`, one typed object per session; what one page or concern keeps between runs
is its own small dataclass, declared in its module and reached through `page_state`. Widgets keep their
own values (declared with persist_state="session", and bound to the link where they are part of it); the few
places that must read or preset a widget's value before it renders go through `widget_value` / `set_widget`.
"""

from __future__ import annotations

import gc
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import streamlit as st

from explorer import heap

if TYPE_CHECKING:  # only names: streamlit_app.py imports this (through boot) before torch is loaded
    from explorer.budget import Ledger
    from explorer.checkpoint import Checkpoint
    from explorer.data import ImageDataset
    from explorer.groups import Group

_VISITOR = "visitor"
# Widget keys that more than one module reads or presets (a page's own are declared on it).
MODEL = "model_name"
SPLIT = "split"
LABEL = "label"
LESSON = "lesson"  # the Lessons page's tabs (?lesson=c.+From+a+3+to+an+8)
COMPARE_MODELS = ("compare_a", "compare_b")  # the Compare page's two model choices (also its link parameters)


def z_key(d: int) -> str:
    """The Generate page's slider for latent dimension d (also its link parameter)."""
    return f"z{d}"


@dataclass
class Visitor:
    """What one visitor's pages share between runs."""

    picks: list[int] = field(default_factory=list)  # dataset rows picked on the map, oldest first, at most two
    pending_group: tuple[int, ...] = ()  # the rows of the last box or lasso, until saved as a group or dropped
    groups: dict[str, dict[str, Group]] = field(default_factory=dict)  # by data set fingerprint, then by name
    models: dict[str, Checkpoint] = field(default_factory=dict)  # uploaded and trained models, by display name
    datasets: dict[str, ImageDataset] = field(default_factory=dict)  # uploaded data sets, by display name
    key: str = field(default_factory=lambda: uuid.uuid4().hex)  # this visitor in the server's memory ledger
    holdings: list[tuple[tuple[str, str], int]] = field(default_factory=list)  # ((kind, name), bytes), oldest first
    run_bytes: int = 0  # what the current training run holds, counted in the ledger beside `holdings`
    memory_notice: str | None = None  # what was let go to keep within the budgets, shown once
    visits: int = 0  # connections of this session: a reconnect within the grace period keeps its uploads
    states: dict[str, Any] = field(default_factory=dict)  # each page's own state (page_state), by its class


def visitor() -> Visitor:
    if _VISITOR not in st.session_state:
        st.session_state[_VISITOR] = Visitor()
    return st.session_state[_VISITOR]


S = TypeVar("S")


def state_key(kind: type) -> str:
    """Where a page's state lives in `Visitor.states`."""
    return f"{kind.__module__}.{kind.__qualname__}"


def page_state(kind: type[S]) -> S:
    """This session's instance of a page's (or one concern's) state, a dataclass its module declares, made on first
    use. A state with a `let_go()` method drops there what it holds in memory once the visitor has left."""
    states, name = visitor().states, state_key(kind)
    if not isinstance(states.get(name), kind):  # (a module reloaded while developing declares its class afresh)
        states[name] = kind()
    return states[name]


def groups(data: str) -> dict[str, Group]:
    """The visitor's groups of one data set (by its fingerprint), by name, oldest first."""
    return visitor().groups.setdefault(data, {})


def widget_value(key: str, default: Any = None) -> Any:
    return st.session_state[key] if key in st.session_state else default


def set_widget(key: str, value: Any) -> None:
    """Preset a widget (from a callback, or before the widget draws in this run)."""
    st.session_state[key] = value


_UNDRAWN = object()


def offer(key: str, options, fallback: Any, drawn: Any = _UNDRAWN) -> bool:
    """Keep a widget whose options change on one of them: when its value is no longer among `options`, it becomes
    `fallback` (before the widget draws this run). `drawn`: what the widget shows until its value is first set
    (its index's option), taken as its value until then. True when the value had to be replaced."""
    value = widget_value(key) if drawn is _UNDRAWN else widget_value(key, drawn)
    if value in options:
        return False
    set_widget(key, fallback)
    return True


def keep_widget(key: str) -> None:
    """Re-assign a widget's value so it survives a run that does not draw it."""
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]


@st.cache_resource
def ledger() -> Ledger:
    """What every visitor keeps in memory (uploads, models), under one server-wide budget."""
    from explorer.budget import Ledger

    return Ledger()


def hold(kind: str, name: str, item: Checkpoint | ImageDataset) -> str | None:
    """Keep a model ("models") or data set ("datasets") in this session within the memory budgets: the visitor's
    oldest are let go to make room, and the notice saying so returned; a ValueError says why when it cannot fit."""
    from explorer.budget import PER_VISITOR_BYTES, nbytes

    me = visitor()
    held = [(what, size) for what, size in me.holdings if what != (kind, name)]  # the same name is replaced
    size = nbytes(item)
    dropped = ledger().admit(me.key, held, size, PER_VISITOR_BYTES, fixed=me.run_bytes)
    me.models = {n: m for n, m in me.models.items() if ("models", n) not in dropped}
    me.datasets = {n: d for n, d in me.datasets.items() if ("datasets", n) not in dropped}
    me.holdings = [(what, s) for what, s in held if what not in dropped] + [((kind, name), size)]
    setattr(me, kind, {**getattr(me, kind), name: item})
    if not dropped:
        return None
    names = ", ".join(repr(n) for _, n in dropped)
    return (f"To make room, this session let go of {names} (each visitor keeps up to "
            f"{PER_VISITOR_BYTES // 2**20} MB of uploads and models in the server's memory).")


def reserve_run(nbytes: int) -> None:
    """Count a training run's memory (its model, gradients, optimiser and batch) as this visitor's, in place of the
    last run's; a ValueError when it does not fit beside what the visitor keeps (nothing is let go for a run:
    it may be training on it)."""
    from explorer.budget import PER_VISITOR_BYTES, NeedsRoom

    me = visitor()
    try:
        ledger().admit(me.key, list(me.holdings), 0, PER_VISITOR_BYTES, fixed=nbytes, evict=False)
    except NeedsRoom:
        raise ValueError(f"This run needs {nbytes / 2**20:,.0f} MB, and with the uploads and models this session "
                         f"keeps it would pass the {PER_VISITOR_BYTES // 2**20} MB each visitor may use; train a "
                         "smaller model, or a smaller batch.") from None
    me.run_bytes = nbytes


def add_model(name: str, checkpoint: Checkpoint) -> None:
    """Add an uploaded or freshly trained model to this visitor's list and switch to it (call from a callback);
    a ValueError if it does not fit the memory budget."""
    visitor().memory_notice = hold("models", name, checkpoint)  # shown in the sidebar, beside the model list
    set_widget(MODEL, name)
    leave_map()


def show(model: str, picks: list[int] | None = None) -> None:
    """Switch the pages to a model (and its picks): what a lesson's "open" button does before it goes there."""
    set_widget(MODEL, model)
    leave_map()
    visitor().picks = list(picks or [])


def clear_picks() -> None:
    visitor().picks = []


def leave_map() -> None:
    """Another model or split: the picks and an unsaved box or lasso belonged to the old one's map."""
    me = visitor()
    me.picks, me.pending_group = [], ()


class JobHolder:
    """A visitor's current training run. Lives in a session-scoped cache, so closing the tab stops the run."""

    def __init__(self):
        self.job = None

    def replace(self, job) -> None:
        if self.job is not None:
            self.job.stop()
        self.job = job

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()


@st.cache_resource(scope="session", on_release=JobHolder.stop)
def job_holder() -> JobHolder:
    return JobHolder()


LEAVE_GRACE_S = 30.0  # a reconnect within this keeps the visitor's uploads (network blips); later they are let go


class _Presence:
    """Held in a session-scoped cache, which Streamlit releases when the visitor's connection closes. The session
    itself is kept a while longer for a reconnect, so its uploads and models are let go here, after a grace
    period, and the memory handed back (the server skips the full collection after script runs, for speed)."""

    def __init__(self, me: Visitor):
        me.visits += 1
        self.visitor, self.visit = me, me.visits

    def leave(self) -> None:
        timer = threading.Timer(LEAVE_GRACE_S, self._let_go)
        timer.daemon = True
        timer.start()

    def _let_go(self) -> None:
        me = self.visitor
        if me.visits != self.visit:
            return  # the visitor came back: their session goes on
        me.models, me.datasets, me.holdings, me.run_bytes = {}, {}, [], 0
        me.groups, me.pending_group = {}, ()
        for state in me.states.values():
            if callable(getattr(state, "let_go", None)):
                state.let_go()
        ledger().release(me.key)
        me.memory_notice = "This session was idle after its page closed, so its uploads and trained models were let go."
        _tidy_after_leaving()


TIDY_EVERY_S = 20.0
TIDY_FOR_S = 200.0  # past Streamlit's own clean-up of a closed session (server.disconnectedSessionTTL, 120 s)
_tidying = {"until": 0.0, "running": False}
_tidy_lock = threading.Lock()


def _tidy_after_leaving() -> None:
    """Collect and hand freed memory back to the system every TIDY_EVERY_S for TIDY_FOR_S after a visitor's
    things are let go: what Streamlit, the caches' expiry and the collector free later is handed back too (the
    server skips the full collection after script runs, for speed)."""
    with _tidy_lock:
        _tidying["until"] = time.monotonic() + TIDY_FOR_S
        if _tidying["running"]:
            return
        _tidying["running"] = True

    def tidy() -> None:
        while True:
            _reap_closed_sessions()
            gc.collect()
            heap.trim()
            with _tidy_lock:
                if time.monotonic() > _tidying["until"]:
                    _tidying["running"] = False
                    return
            time.sleep(TIDY_EVERY_S)

    threading.Thread(target=tidy, name="tidy-after-leaving", daemon=True).start()


@st.cache_resource(scope="session", on_release=_Presence.leave, show_spinner=False)
def presence() -> _Presence:
    """Call on every run: registers this visit, so its memory is handed back once the visitor leaves."""
    return _Presence(visitor())


def _reap_closed_sessions() -> None:
    """Streamlit keeps a closed tab's session server.disconnectedSessionTTL (120 s) for a reconnect, then removes
    it only when its session store is next written or counted: with nobody arriving, never. Listing the sessions
    counts the store (there is no public call for it; without one, nothing happens)."""
    from streamlit import runtime

    if runtime.exists():
        listing = getattr(getattr(runtime.get_instance(), "_session_mgr", None), "list_sessions", None)
        if callable(listing):
            listing()
