"""The sidebar every page shares: choose a bundled, saved or uploaded model and the data split."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.budget import refusal
from explorer.checkpoint import Checkpoint, known_checkpoints, load_checkpoint
from explorer.data import BUILTIN_DATASETS, SPLITS, ImageDataset
from explorer.groups import groups_text
from explorer.kinds import KINDS
from explorer.latent import Latents, slider_reach
from explorer.ui import layout, resources, scroll, session, uploads, url
from explorer.ui.markup import plain, quoted

DEFAULT_MODEL = "mnist5k-z2"
UPLOAD_PREFIX = "uploaded: "
SESSION_DATA_PREFIX = "upload: "  # names of a visitor's uploaded data sets (never file paths)
MAX_CHECKPOINT_UPLOAD_MB = 64
CHECKPOINT_UPLOAD = "upload_checkpoint"  # the upload widget's key (uploads.key adds a count)


@dataclass
class SidebarState:
    upload_error: str | None = None  # the last checkpoint upload's problem


@dataclass(frozen=True)
class Selection:
    """The model in use and its data, as every page needs them."""

    name: str
    checkpoint: Checkpoint
    dataset: ImageDataset | None  # None when the model's data is not available here
    split: str
    data_problem: str | None  # why dataset is None

    @property
    def server_path(self):
        """The checkpoint's file when it is a server-side model (session models are never server files)."""
        return known_checkpoints().get(self.name) if self.name not in session.visitor().models else None

    def latents(self) -> Latents:
        return resources.latents(self.checkpoint, self.dataset, self.split)

    @property
    def condition_names(self) -> tuple[str, ...]:
        """The labels a conditional model can be given (empty for others)."""
        checkpoint = self.checkpoint
        if not checkpoint.model_config.conditional:
            return ()
        return checkpoint.label_names or tuple(str(i) for i in range(checkpoint.model.num_classes))

    @property
    def file_stem(self) -> str:
        """The model's name as the start of a download's file name."""
        return self.name.replace(": ", "-").replace(" ", "_")

    def link_model(self) -> str | None:
        """The model's name for a link, if others can open it."""
        return self.name if self.server_path is not None else None


def dataset_named(name: str) -> ImageDataset:
    """The visitor's own uploaded data set of that name, else a built-in or server-side one (shared, cached)."""
    mine = session.visitor().datasets
    return mine[name] if name in mine else resources.shared_dataset(name)


def _on_upload(key: str) -> None:
    """Callback: load an uploaded checkpoint; on failure keep the current model and remember the message."""
    def use(upload) -> None:
        session.add_model(UPLOAD_PREFIX + upload.name, load_checkpoint(upload.getvalue(), name=upload.name,
                                                                       limit=refusal))

    session.page_state(SidebarState).upload_error = uploads.read(key, CHECKPOINT_UPLOAD, use)


def _own_copy(checkpoint: Checkpoint) -> str | None:
    """The visitor's upload that holds the very data the model records it was trained on (by content: a model
    downloaded and uploaded again names the data as it was called then)."""
    if not checkpoint.data_fingerprint:
        return None
    return next((name for name, data in session.visitor().datasets.items()
                 if data.fingerprint == checkpoint.data_fingerprint), None)


def dataset_for(checkpoint: Checkpoint, trusted: bool) -> tuple[ImageDataset | None, str | None]:
    """The data a model was trained on, if it can be had here.

    Built-in names always; a file path only for server-side (trusted) checkpoints, and never one a visitor
    named: neither an uploaded checkpoint nor a saved model trained on a visitor's upload makes the server open a
    path.
    """
    name = _own_copy(checkpoint) or checkpoint.dataset
    mine = name in session.visitor().datasets
    if not (mine or name in BUILTIN_DATASETS or (trusted and not name.startswith(SESSION_DATA_PREFIX))):
        return None, (
            f"This model was trained on {name!r}, which is not available here, so there are none of its images "
            "to map or score. The Generate page works without data."
        )
    try:
        data = dataset_named(name)
    except ValueError as error:
        return None, f"The data this model was trained on could not be loaded: {error}"
    if data.image_shape != checkpoint.image_shape:
        return None, f"{name!r} has {data.image_shape} images but the model expects {checkpoint.image_shape}."
    if checkpoint.model_config.conditional and data.num_classes != checkpoint.model.num_classes:
        return None, (f"This model is conditioned on {checkpoint.model.num_classes} classes but {name!r} has "
                      f"{data.num_classes}, so there are none of its images to map or score. The Generate page works "
                      "without data.")
    return data, None


def data_note(checkpoint: Checkpoint, data: ImageDataset | None) -> str | None:
    """Whether the visitor's upload shown under a model is the very file it was trained on, when that is not
    certain: upload names are the visitor's own, so another visitor's saved model can name a different file."""
    if data is None or checkpoint.dataset not in session.visitor().datasets:
        return None
    if checkpoint.data_fingerprint == data.fingerprint:
        return None
    if checkpoint.data_fingerprint:
        return ("Shown on your upload of that name, which is not the file this model was trained on: the map and "
                "scores are its view of your images.")
    return ("Shown on your upload of that name. This model does not record which file it was trained on, so your "
            "upload may not be its training data.")


def model_named(name: str) -> Checkpoint:
    """One of the visitor's models, or a server-side one; a server model that fails to load (damaged on disk after it
    was listed) gets one message, and the visitor chooses another."""
    me = session.visitor()
    if name in me.models:
        return me.models[name]
    try:
        return resources.server_model(name, known_checkpoints()[name].stat().st_mtime)
    except (ValueError, OSError):
        st.error(f"The model {quoted(name, 80)} could not be loaded; it may be damaged. Choose another model in "
                 "the sidebar.")
        st.stop()


def model_kind(config) -> str:
    """'MLP VAE', 'CONV autoencoder': what a model is, as the sidebar and the Compare page name it."""
    return f"{config.arch.upper()} {KINDS[config.kind].noun}"


def model_names() -> list[str]:
    """The models this visitor can choose: the server's, then their own."""
    return list(known_checkpoints()) + list(session.visitor().models)


def page_start() -> dict | None:
    """What every page does first: the server's start-up, this visit's presence, the sidebar's model kept while a
    page does not draw it; returns the link's parameters on a visit's first run."""
    resources.start_up()
    session.presence()
    layout.apply()
    url.new_run()
    scroll.on_request()
    session.keep_widget(session.MODEL)
    if note := uploads.refused_note():
        st.warning(plain(note))
    return url.first_visit()


def model_sidebar() -> Selection:
    """Choose the model and split; on a visit's first run, read the link."""
    link = page_start()
    if link is not None:
        url.restore_model(link)
    me = session.visitor()
    names = model_names()
    if not names:
        st.error("No models found: train one with 'python -m explorer train' into checkpoints/.")
        st.stop()
    session.offer(session.MODEL, names, DEFAULT_MODEL if DEFAULT_MODEL in names else names[0])
    with st.sidebar:
        name = st.selectbox("Model", names, key=session.MODEL, on_change=session.leave_map)
        st.file_uploader(
            "Or upload a checkpoint (.safetensors)", type=["safetensors"],
            key=(key := uploads.key(CHECKPOINT_UPLOAD)), on_change=_on_upload, args=(key,),
            max_upload_size=MAX_CHECKPOINT_UPLOAD_MB,
            help="A model trained with this app or its CLI. It stays in your session only.",
        )
        if (error := session.page_state(SidebarState).upload_error):
            st.error(plain(error) + " The current model stays in use.")
        if me.memory_notice:
            st.warning(plain(me.memory_notice))
            me.memory_notice = None
        split = st.radio("Data split", SPLITS, key=session.SPLIT, horizontal=True, on_change=session.leave_map,
                         bind="query-params", persist_state="session")
    checkpoint = model_named(name)
    data, problem = dataset_for(checkpoint, trusted=name not in me.models)
    config = checkpoint.model_config
    with st.sidebar:
        st.caption(
            f"{model_kind(config)} · {config.latent_dim}-D latent · {config.likelihood}"
            f"{' · conditional' if config.conditional else ''} · trained on {plain(checkpoint.dataset)}"
        )
        if note := data_note(checkpoint, data):
            st.warning(note)
    selection = Selection(name, checkpoint, data, split, problem)
    if link is not None:
        latents = selection.latents() if data is not None else None
        if data is not None:
            url.restore_groups(link, data)
        url.check_view(link, config.latent_dim, None if latents is None else latents.index, selection.condition_names,
                       slider_reach(latents))
    return selection


def data_page(title: str) -> tuple[Selection, Latents] | None:
    """What a page over a model's encoded data does first: the sidebar, the title and the link's notices; then the
    split's latents, or None, with the reason shown, when the model's data is not available here."""
    selection = model_sidebar()
    st.title(title)
    url.show_notices()
    if selection.dataset is None:
        st.info(plain(selection.data_problem))
        return None
    return selection, selection.latents()


def publish(selection: Selection, settings: dict[str, str]) -> None:
    """The page's view in the URL and the share box: the model, split, picks and the page's settings."""
    split = {"split": selection.split} if selection.split != SPLITS[0] else {}
    groups = list(session.groups(selection.dataset.fingerprint).values()) if selection.dataset is not None else []
    url.publish(selection.link_model(), session.visitor().picks, {**split, **settings}, groups_text(groups) or None)
