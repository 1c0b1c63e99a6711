"""The train page: set up a run, watch it live (explorer.ui.train_live), then use, save or download the model."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

import streamlit as st

from explorer.budget import refusal, run_refusal
from explorer.checkpoint import checkpoint_bytes, load_checkpoint, save_new_model
from explorer.config import PRESETS, ModelConfig, TrainConfig
from explorer.cost import model_cost
from explorer.data import BUILTIN_DATASETS, DEFAULT_DATASET, OFFLINE_DATASETS
from explorer.datafiles import load_dataset_file
from explorer.kinds import KINDS
from explorer.job import DIVERGED, DONE, FAILED, STOPPED, TrainingJob
from explorer.settings import Spec, specs
from explorer.ui import resources, session, sidebar, uploads, url
from explorer.ui.markup import plain
from explorer.ui.lessons import data as lessons
from explorer.ui.train_live import busy, live_view, recorded_view
from explorer.ui.widgets import setting_key, setting_widget

MAX_DATA_UPLOAD_MB = 64  # all of MNIST as uint8 is 55 MB; an upload is in memory while it is read
TRAINED_PREFIX = "trained: "
PANELS = ("network", "decoder", "objective", "optimisation")  # the settings' columns (Spec.panel), left to right
PREFIX = "train"
DATA_UPLOAD = "train_upload"
TRAIN_DATA = "train_data"
SAVE_NAME = "train_save_name"


@dataclass
class TrainState:
    """What the Train page keeps between runs."""

    data_upload_error: str | None = None
    data_upload_note: str | None = None  # what the last data upload was read as (and what was let go for it)
    start_error: str | None = None
    save_result: tuple[str, str] | None = None  # ("error" | "success", message)
    job_data_name: str | None = None  # the data set the current run trains on, as the visitor chose it
    train_configs: tuple | None = None  # (ModelConfig, TrainConfig) as last shown, for the Start callback
    polling: bool = False  # the live view is polling
    saved_run: tuple[int, str] | None = None  # (id of its job, name): the run last saved, which is saved once


# ---------------------------------------------------------------------------------------------------------------
# Data choice


def _on_data_upload(key: str) -> None:
    """Callback: validate an uploaded .npz / .zip with the library; a bad file changes nothing."""

    state = session.page_state(TrainState)
    state.data_upload_note = None

    def use(upload) -> None:
        name = sidebar.SESSION_DATA_PREFIX + upload.name
        dataset = load_dataset_file(upload, upload.name)  # read in place, never copied
        let_go = session.hold("datasets", name, dataset)
        session.set_widget(TRAIN_DATA, name)
        state.data_upload_note = " ".join(filter(None, (_described(upload.name, dataset), let_go)))

    state.data_upload_error = uploads.read(key, DATA_UPLOAD, use)


def _described(filename: str, dataset) -> str:
    c, h, w = dataset.image_shape
    classes = dataset.label_names
    named = (f"{len(classes)} classes ({', '.join(classes[:5])}{', ...' if len(classes) > 5 else ''})" if classes
             else "no labels")
    return (f"Read {filename}: {len(dataset):,} images of {w}x{h} pixels, {'RGB' if c == 3 else 'grey'}, {named}; "
            f"{len(dataset.train_index):,} to train on, {len(dataset.test_index):,} to test.")


def _data_label(name: str) -> str:
    builtin = BUILTIN_DATASETS.get(name)
    return f"{name} ({builtin.about})" if builtin else name


def _data_choice() -> None:
    state = session.page_state(TrainState)
    mine = session.visitor().datasets
    options = [*OFFLINE_DATASETS, *(n for n in BUILTIN_DATASETS if n not in OFFLINE_DATASETS), *mine]
    session.offer(TRAIN_DATA, options, DEFAULT_DATASET)
    st.selectbox("Data", options, key=TRAIN_DATA, format_func=_data_label,
                 persist_state="session")
    st.file_uploader("Or upload your own (.npz of images, or .zip of label folders)", type=["npz", "zip"],
                     key=(key := uploads.key(DATA_UPLOAD)), on_change=_on_data_upload, args=(key,),
                     max_upload_size=MAX_DATA_UPLOAD_MB)
    if state.data_upload_error:
        st.error(plain(state.data_upload_error) + " Nothing was changed.")
    elif state.data_upload_note:
        st.success(plain(state.data_upload_note))


# ---------------------------------------------------------------------------------------------------------------
# Settings and start / stop


def _apply_preset(preset: str) -> None:
    """Callback: set the widgets a preset names (before they draw), leaving the others as they are."""
    for name, value in PRESETS[preset][1].items():
        config_type = ModelConfig if name in specs(ModelConfig) else TrainConfig
        session.set_widget(setting_key(config_type, name, PREFIX), value)


def _presets() -> None:
    with st.container(horizontal=True):  # buttons as wide as their words, on one row or wrapped: never cut
        for preset, (label, _) in PRESETS.items():
            st.button(label, key=f"preset_{preset}", on_click=_apply_preset, args=(preset,))
    st.caption("Start from a model kind: an autoencoder is trained on reconstruction alone; a VAE adds the KL "
                    "term (β 1); a β-VAE weighs it 4 times, for a tighter packed, blurrier latent space.")


def drawn(panel: str) -> list[tuple[type, str, Spec]]:
    """The settings a column draws, in the order they are declared."""
    return [(config_type, name, spec) for config_type in (ModelConfig, TrainConfig)
            for name, (_, spec) in specs(config_type).items() if spec.panel == panel]


def _settings() -> tuple[ModelConfig, TrainConfig] | None:
    values: dict = {ModelConfig: {}, TrainConfig: {}}
    kind, greyed = None, []  # the kind is drawn first: it decides which settings apply
    for column, panel in zip(st.columns(len(PANELS)), PANELS):
        for config_type, name, spec in drawn(panel):
            unused = spec.needs is not None and not getattr(kind, spec.needs)
            greyed += [spec.label] if unused else []
            values[config_type][name] = setting_widget(
                config_type, name, column, prefix=PREFIX, disabled=unused,
                note=f"Not used by the {kind.noun}: its loss is {kind.loss}." if unused else None)
            if name == "kind":
                kind = KINDS[values[config_type][name]]
                for own in kind.parameters:  # the kind's own settings, under it
                    values[TrainConfig][own] = setting_widget(TrainConfig, own, column, prefix=PREFIX)
    if greyed:
        named = f"{', '.join(greyed[:-1])} and {greyed[-1]} are" if len(greyed) > 1 else f"{greyed[0]} is"
        st.caption(f"{named} greyed out: the {kind.noun}'s loss is {kind.loss}, which does not use them.")
    try:
        return ModelConfig(**values[ModelConfig]), TrainConfig(**values[TrainConfig])
    except ValueError as error:
        st.error(str(error))
        return None


def _start() -> None:
    """Callback (so the page renders the new run at once): start a run with the settings last shown."""
    state = session.page_state(TrainState)
    name = session.widget_value(TRAIN_DATA)
    model_config, train_config = state.train_configs
    try:
        dataset = sidebar.dataset_named(name)
        cost = model_cost(model_config, dataset.image_shape, dataset.num_classes)
        kind = KINDS[model_config.kind]
        draws = kind.draws(train_config) if kind.draws else 1
        reason = refusal(cost) or run_refusal(cost, train_config.batch_size, draws)
        if reason:
            raise ValueError(f"This model cannot train on this server: {reason}")
        session.reserve_run(cost.run_bytes(train_config.batch_size, draws))
        job = TrainingJob(dataset, model_config, train_config, queue=resources.run_queue())
    except ValueError as error:
        state.start_error = str(error)
        return
    state.start_error, state.save_result = None, None  # the last run's save said nothing about this one
    session.job_holder().replace(job.start())
    state.job_data_name = name


# ---------------------------------------------------------------------------------------------------------------
# After a run


def _recorded_with(job: TrainingJob) -> dict:
    """What a checkpoint of the run records besides its weights (see explorer.checkpoint.write_checkpoint)."""
    return {"dataset": session.page_state(TrainState).job_data_name or job.dataset.name,
            "label_names": job.dataset.label_names,
            "train_config": job.train_config, "step_history": job.step_history(),
            "data_fingerprint": job.dataset.fingerprint}


def _trained_bytes(job: TrainingJob) -> bytes:
    return checkpoint_bytes(job.model, **_recorded_with(job))


def _use_trained() -> None:
    """Callback: make the finished run's model the one the explore and generate pages use (this session only)."""
    job = session.job_holder().job
    if job is None or not job.finished:
        return
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    config = job.model_config  # what sets it apart in the model lists: the kind, and conv or conditional
    words = [w for w, used in (("conv", config.arch == "conv"), ("cvae", config.conditional),
                               (config.kind, config.kind != ModelConfig().kind)) if used]
    name = f"{TRAINED_PREFIX}{job.dataset.name} {' '.join(words + [f'z{config.latent_dim}'])} {stamp}"
    try:
        session.add_model(name, load_checkpoint(_trained_bytes(job), name=name))
    except ValueError as error:  # the memory budget
        session.page_state(TrainState).save_result = ("error", str(error))


def _save_trained() -> None:
    """Callback: save the finished run's model on the server under a new name (never over another model)."""
    job = session.job_holder().job
    state = session.page_state(TrainState)
    name = (session.widget_value(SAVE_NAME) or "").strip()
    state.save_result = None
    if job is None or not job.finished:
        return
    if state.saved_run is not None and state.saved_run[0] == id(job):
        state.save_result = ("error", f"This run is saved already, as {state.saved_run[1]!r}; train again to save "
                                      "another.")
        return
    try:
        save_new_model(name, job.model, **_recorded_with(job))
    except ValueError as error:
        state.save_result = ("error", str(error))
        return
    except OSError as error:
        state.save_result = ("error", f"Could not save ({error.strerror or 'the disk refused'}); try again later.")
        return
    state.saved_run = (id(job), name)
    session.show(name)  # the saved model is the one in use, so the pages' links name it
    state.save_result = ("success", f"Saved as {name!r} and now in use: it is in the model list for everyone, and "
                                 "\"Share this view\" gives a link that opens it in any browser.")


def _after_run(job: TrainingJob) -> None:
    show = {DONE: st.success, STOPPED: st.warning, DIVERGED: st.error, FAILED: st.error}[job.status]
    show(plain(job.message))  # a failure's words can carry a data set's (file) name
    if job.status == FAILED or not job.metrics():
        return
    diverged = job.status == DIVERGED
    cols = st.columns([2, 2, 2])
    # A diverged model is not promoted: its weights are from before the blow-up, offered only on request.
    cols[0].button("Use its weights from before it diverged" if diverged else "Use this model on Explore and Generate",
                   key="train_use", on_click=_use_trained, type="secondary" if diverged else "primary")
    in_use = session.widget_value(session.MODEL, "")
    if in_use.startswith(TRAINED_PREFIX):
        cols[0].caption(f"In use: {plain(in_use)}")
    cols[1].text_input("Save on the server as", key=SAVE_NAME, placeholder="my-model")
    cols[1].button("Save", key="train_save", on_click=_save_trained)
    result = session.page_state(TrainState).save_result
    if result:
        (st.error if result[0] == "error" else st.success)(plain(result[1]))
    # Made when clicked, not on every run of the page: a large model's checkpoint is megabytes of work and memory.
    cols[2].download_button("Download (.safetensors)", lambda: _trained_bytes(job), key="train_download",
                            on_click="ignore",
                            file_name=f"{job.model_config.kind}-{job.dataset.name.replace(' ', '_')}"
                                      f"-z{job.model_config.latent_dim}.safetensors",
                            mime="application/octet-stream")


def _recorded() -> None:
    """The bundled 2-D model's recorded training, where the live view will be (when this server has it)."""
    if lessons.VAE_2D not in lessons.missing() and (history := lessons.history(lessons.VAE_2D)) is not None:
        recorded_view(history, lessons.dataset().label_names, lessons.VAE_2D, lessons.model(lessons.VAE_2D))


def _live() -> None:
    """Polled twice a second while the run (or the alignment of its maps) goes on; one full rerun when that
    starts or ends, to switch the polling and show what comes after.

    It takes no arguments: Streamlit keeps a fragment's arguments with the session, which outlives the
    visitor's tab by minutes, and a run (its data and model) should not."""
    job = session.job_holder().job
    if job is None:
        return
    live_view(job)
    if session.page_state(TrainState).polling != busy(job):
        st.rerun()


def _estimate() -> str:
    """How long the run would take at the speed this server trains these settings now (timed, not promised)."""
    state = session.page_state(TrainState)
    name = session.widget_value(TRAIN_DATA)
    if state.train_configs is None or name is None:
        return ""
    model_config, train_config = state.train_configs
    try:
        dataset = sidebar.dataset_named(name)
        # The number of epochs does not change the speed: timed once for any, the estimate scales with them.
        per_epoch = dataclasses.replace(train_config, epochs=1)
        speed = resources.training_speed(model_config, per_epoch, dataset.fingerprint, dataset)
    except ValueError:
        return ""  # settings that cannot train this data: Start says why
    if not speed:
        return ""
    seconds = train_config.epochs * len(dataset.train_index) / speed
    takes = f"about {seconds:,.0f} s" if seconds >= 1 else "under a second"
    return (f"At the speed this server trains these settings now ({speed:,.0f} images a second over a few "
            f"timed steps), the run takes {takes}, and a little more for the test after each epoch.")


def render() -> None:
    sidebar.publish(sidebar.model_sidebar(), {})  # the share box: after a save, a link to the saved model
    kinds = [f"{'an' if k.noun[0] in 'aeiouAEIOU' else 'a'} {k.noun}" for k in KINDS.values()]
    st.title(f"Train {', '.join(kinds[:-1])} or {kinds[-1]}")
    url.show_notices()
    holder = session.job_holder()
    job = holder.job
    running = job is not None and not job.finished
    state = session.page_state(TrainState)
    with st.expander("Settings", expanded=not running):
        _presets()
        _data_choice()
        state.train_configs = _settings()
    estimate = _estimate() if not running else ""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Start", key="train_start", type="primary", disabled=running or state.train_configs is None,
                  on_click=_start)
        st.button("Stop", key="train_stop", disabled=not running, on_click=holder.stop)
        if estimate:
            st.caption(estimate)  # beside Start, where the decision is made
    if state.start_error:
        st.error(plain(state.start_error))
    if job is None:
        st.info("Choose the data and settings, then Start.")
        _recorded()
        return
    state.polling = busy(job)
    st.fragment(run_every=0.5 if state.polling else None)(_live)()
    if job.finished:
        _after_run(job)
