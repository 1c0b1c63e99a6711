"""The visitor's session: the only code that touches st.session_state.

Everything a page keeps between runs is a field of `Visitor`, one typed object per session. Widgets keep their
own values (declared with persist_state="session", and bound to the link where they are part of it); the few
places that must read or preset a widget's value before it renders go through `widget_value` / `set_widget`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:  # only names: streamlit_app.py imports this (through boot) before torch is loaded
    from explorer.checkpoint import Checkpoint
    from explorer.data import ImageDataset
    from explorer.tasks import Task

_VISITOR = "visitor"
# Widget keys that code reads or presets (every other widget's value comes back from the call that draws it).
MODEL = "model_name"
SPLIT = "split"
CHECKPOINT_UPLOAD = "upload_checkpoint"
DATA_UPLOAD = "train_upload"
TRAIN_DATA = "train_data"
SAVE_NAME = "train_save_name"
SNAPSHOT_EPOCH = "snapshot_epoch"
LABEL = "label"
MAP = "latent_map"


def z_key(d: int) -> str:
    """The Generate page's slider for latent dimension d (also its link parameter)."""
    return f"z{d}"


@dataclass
class Visitor:
    """What one visitor's pages remember between runs."""

    picks: list[int] = field(default_factory=list)  # dataset rows picked on the map, oldest first, at most two
    last_selection: tuple = ()  # the map's last selection, to act on changes only
    selection_note: str | None = None
    models: dict[str, Checkpoint] = field(default_factory=dict)  # uploaded and trained models, by display name
    datasets: dict[str, ImageDataset] = field(default_factory=dict)  # uploaded data sets, by display name
    upload_error: str | None = None  # the last checkpoint upload's problem
    data_upload_error: str | None = None
    start_error: str | None = None
    save_result: tuple[str, str] | None = None  # ("error" | "success", message)
    job_data_name: str | None = None  # the data set the current run trains on, as the visitor chose it
    train_configs: tuple | None = None  # (ModelConfig, TrainConfig) as last shown, for the Start callback
    polling: bool = False  # the Train page's live view is polling
    browsing_job: int | None = None  # the finished run whose epochs the slider shows (id of its job)
    snapshot_maps: dict = field(default_factory=dict)  # aligned maps of the current run, by (job, method, count)
    alignment: Task | None = None  # the aligned UMAP being computed, on its thread
    alignment_key: tuple = ()  # what it is computed for
    link_read: bool = False  # the link was read on this visit's first run
    link_notices: list[str] = field(default_factory=list)
    sample_seed: int = 0
    plotly_prefetched: bool = False


def visitor() -> Visitor:
    if _VISITOR not in st.session_state:
        st.session_state[_VISITOR] = Visitor()
    return st.session_state[_VISITOR]


def widget_value(key: str, default: Any = None) -> Any:
    return st.session_state[key] if key in st.session_state else default


def set_widget(key: str, value: Any) -> None:
    """Preset a widget (from a callback, or before the widget draws in this run)."""
    st.session_state[key] = value


def keep_widget(key: str) -> None:
    """Re-assign a widget's value so it survives a run that does not draw it."""
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]


def add_model(name: str, checkpoint: Checkpoint) -> None:
    """Add an uploaded or freshly trained model to this visitor's list and switch to it (call from a callback)."""
    me = visitor()
    me.models = {**me.models, name: checkpoint}
    set_widget(MODEL, name)
    clear_picks()


def clear_picks() -> None:
    visitor().picks = []


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
