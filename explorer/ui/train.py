"""The train page: set up a run, watch the KL / reconstruction balance live, then use, save or download the model."""

from __future__ import annotations

import datetime
import io
import re

import numpy as np
import streamlit as st

from explorer.checkpoint import (
    checkpoint_bytes,
    known_checkpoints,
    load_checkpoint,
    saved_models_dir,
)
from explorer.config import ModelConfig, TrainConfig
from explorer.data import BUILTIN_DATASETS, OFFLINE_DATASETS, load_dataset_file
from explorer.diagnostics import (
    active_dimensions,
    collapse_warning,
    seconds_left,
    stall_warning,
)
from explorer.files import write_atomically
from explorer.imaging import enlarge, tile, to_uint8
from explorer.job import DIVERGED, DONE, FAILED, STOPPED, WAITING, TrainingJob
from explorer.live_charts import LiveChart, elbo_chart, kl_heatmap_chart, loss_balance_chart, series_chart, snapshot_chart
from explorer.projection import align_snapshots, common_range
from explorer.ui import state

MAX_DATA_UPLOAD_MB = 200
LR_CHOICES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 1.0, 10.0]  # the last ones are there to watch a run diverge
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


# ---------------------------------------------------------------------------------------------------------------
# Data choice


def _on_data_upload() -> None:
    """Callback: validate an uploaded .npz / .zip with the library; a bad file changes nothing."""
    upload = st.session_state.get("train_upload")
    st.session_state.pop("train_upload_error", None)
    if upload is None:
        return
    try:
        dataset = load_dataset_file(io.BytesIO(upload.getvalue()), upload.name)
    except ValueError as error:
        st.session_state["train_upload_error"] = f"{upload.name}: {error}"
        return
    name = state.SESSION_DATA_PREFIX + upload.name
    st.session_state["session_datasets"] = {**st.session_state.get("session_datasets", {}), name: dataset}
    st.session_state["train_data"] = name


def _data_choice() -> None:
    session_data = st.session_state.get("session_datasets", {})
    options = [*OFFLINE_DATASETS, *(n for n in BUILTIN_DATASETS if n not in OFFLINE_DATASETS), *session_data]
    labels = {"mnist5k": "mnist5k (5,000 MNIST digits, 28x28)", "digits": "digits (1,797 digits, 8x8)",
              "mnist": "mnist (70,000, downloads once)", "fashion-mnist": "fashion-mnist (70,000, downloads once)"}
    if st.session_state.get("train_data") not in options:
        st.session_state["train_data"] = "mnist5k"
    st.selectbox("Data", options, key="train_data", format_func=lambda n: labels.get(n, n))
    st.file_uploader("Or upload your own (.npz of images, or .zip of label folders)", type=["npz", "zip"],
                     key="train_upload", on_change=_on_data_upload, max_upload_size=MAX_DATA_UPLOAD_MB)
    if st.session_state.get("train_upload_error"):
        st.error(st.session_state["train_upload_error"] + " Nothing was changed.")


# ---------------------------------------------------------------------------------------------------------------
# Settings and start / stop


def _settings() -> tuple[ModelConfig, TrainConfig] | None:
    cols = st.columns(4)
    arch = cols[0].radio("Architecture", ["mlp", "conv"], key="train_arch", horizontal=True,
                         format_func={"mlp": "MLP", "conv": "Conv"}.get)
    latent_dim = cols[0].number_input("Latent dimensions", 1, 64, 2, key="train_latent",
                                      help="2 gives a map with no projection; more reconstructs better.")
    likelihood = cols[1].radio("Likelihood p(x|z)", ["bernoulli", "gaussian"], key="train_likelihood", horizontal=True)
    conditional = cols[1].checkbox("Conditional (CVAE): give the label to encoder and decoder", key="train_conditional")
    beta = cols[2].slider("β (KL weight)", 0.0, 10.0, 1.0, 0.1, key="train_beta",
                          help="1 is the plain ELBO; larger packs the latent tighter, smaller reconstructs better.")
    warmup = cols[2].number_input("KL warm-up steps", 0, 100_000, 0, 100, key="train_warmup",
                                  help="β ramps up from 0 over these steps, which helps against posterior collapse.")
    epochs = cols[3].slider("Epochs", 1, 200, 30, key="train_epochs")
    batch = cols[3].select_slider("Batch size", [32, 64, 128, 256, 512], 128, key="train_batch")
    lr = cols[3].select_slider("Learning rate", LR_CHOICES, 1e-3, key="train_lr", format_func=lambda v: f"{v:g}")
    seed = cols[3].number_input("Seed", 0, 1_000_000, 0, key="train_seed")
    try:
        return (ModelConfig(arch=arch, latent_dim=int(latent_dim), likelihood=likelihood, conditional=conditional),
                TrainConfig(epochs=epochs, batch_size=batch, lr=lr, beta=beta, warmup_steps=int(warmup), seed=int(seed)))
    except ValueError as error:
        st.error(str(error))
        return None


def _start() -> None:
    """Callback (so the page renders the new run at once): start a run with the settings last shown."""
    name = st.session_state["train_data"]
    model_config, train_config = st.session_state["train_configs"]
    holder = state.job_holder()
    try:
        dataset = state.dataset_named(name)
        job = TrainingJob(dataset, model_config, train_config, slots=state.run_slots())
    except ValueError as error:
        st.session_state["train_start_error"] = str(error)
        return
    st.session_state.pop("train_start_error", None)
    holder.replace(job.start())
    st.session_state["train_job_data"] = name


# ---------------------------------------------------------------------------------------------------------------
# The live view


def _series(metrics, field: str) -> np.ndarray:
    return np.array([getattr(m, field) for m in metrics], dtype=np.float64)


def _status_line(job: TrainingJob, metrics) -> None:
    if job.status == WAITING:
        st.info(f"Waiting for a free slot: at most {state.max_runs()} runs train at once on this server. "
                "It starts as soon as another run ends.")
        return
    if not metrics:
        st.progress(0.0, text="Starting ...")
        return
    last = metrics[-1]
    left = seconds_left(metrics)
    text = (f"epoch {last.epoch}/{job.train_config.epochs} · step {last.step:,}/{last.total_steps:,} · "
            f"{last.samples_per_s:,.0f} samples/s")
    if not job.finished and left is not None:
        text += f" · about {left:,.0f} s left"
    st.progress(min(1.0, last.step / last.total_steps), text=text)


def _snapshot_view(job: TrainingJob) -> None:
    snapshots = job.snapshots()
    if not snapshots:
        st.caption("The latent map appears at the end of the first epoch.")
        return
    dim = snapshots[0].mu.shape[1]
    choices = ["identity", "pca"] if dim <= 2 else ["pca"]
    if job.finished:
        choices.append("umap")
    labels = {"identity": "as it is (z0, z1)", "pca": "PCA", "umap": "UMAP, aligned across epochs"}
    cols = st.columns([2, 3])
    method = cols[0].radio("Map", choices, key="snapshot_method", horizontal=True, format_func=labels.get)
    epochs = [s.epoch for s in snapshots]
    # Follow the newest epoch unless the visitor moved the slider back to look at an older one.
    if st.session_state.get("snapshot_follow", True) or st.session_state.get("snapshot_epoch") not in epochs:
        st.session_state["snapshot_epoch"] = epochs[-1]
    if len(epochs) > 1:
        cols[1].select_slider("Epoch", epochs, key="snapshot_epoch",
                              on_change=lambda: st.session_state.update(snapshot_follow=False))
    epoch = st.session_state["snapshot_epoch"]
    if epoch == epochs[-1]:
        st.session_state["snapshot_follow"] = True
    key = (id(job), method, len(snapshots))
    cache = st.session_state.setdefault("snapshot_maps", {})
    if key not in cache:
        with st.spinner("Aligning the maps across epochs ..." if method == "umap" else None):
            cache.clear()
            cache[key] = align_snapshots([s.mu for s in snapshots], method)
    maps = cache[key]
    x_range, y_range = common_range(maps)
    i = epochs.index(epoch)
    titles = ("z0", "z1") if method == "identity" else ((f"{method.upper()} 1", f"{method.upper()} 2"))
    _draw(snapshot_chart(maps[i], snapshots[i].labels, job.dataset.label_names, x_range, y_range, titles), st,
          width="content")
    st.caption(f"Test means at the end of epoch {epoch} ({len(maps[i]):,} images), on axes shared by all epochs; "
               f"{snapshots[i].active_units} of {dim} latent dimensions active.")


def _draw(chart: LiveChart, where, width: str = "stretch") -> None:
    """A live chart: Vega-Lite, whose data Streamlit replaces in place on each poll (see explorer.live_charts)."""
    where.vega_lite_chart(chart.data, chart.spec, width=width)


def _live_view(job: TrainingJob) -> None:
    metrics = job.metrics()
    with st.container(key="train_live"):
        _status_line(job, metrics)
        # The warnings get a slot of their own: one appearing mid-run must not shift the charts below, which would
        # make the browser rebuild them rather than redraw them.
        with st.container():
            for warning in filter(None, (collapse_warning(metrics), stall_warning(metrics))):
                st.warning(warning)
        if metrics:
            step, recon, kl, beta = (_series(metrics, field) for field in ("step", "recon", "kl", "beta"))
            cols = st.columns([2, 1, 1])
            _draw(loss_balance_chart(step, recon, kl, beta), cols[0])
            _draw(series_chart(step, kl, "KL (unweighted), nats", "#d62728"), cols[1])
            _draw(series_chart(step, beta, "β (KL weight)", "#2ca02c"), cols[2])
            last = metrics[-1]
            cols = st.columns(4)
            cols[0].metric("Reconstruction", f"{last.recon:.1f} nats")
            cols[1].metric("KL", f"{last.kl:.2f} nats")
            cols[2].metric("β", f"{last.beta:.2f}")
            cols[3].metric("Active dimensions", f"{active_dimensions(last.kl_per_dim)} of {len(last.kl_per_dim)}",
                           help="Dimensions with more than 0.1 nats of KL in the latest batch.")
            left, right = st.columns(2)
            kl_dims = np.array([m.kl_per_dim for m in metrics])
            _draw(kl_heatmap_chart(step, kl_dims), left)
            ends = [m for m in metrics if m.epoch_end]
            if ends:
                _draw(elbo_chart(_series(ends, "epoch"), _series(ends, "test_elbo")), right)
            else:
                right.caption("The test ELBO appears at the end of each epoch.")
        originals, recons = job.preview()
        if recons is not None:  # None for the moment the job's thread takes to build the model
            pair = to_uint8(np.concatenate([originals, recons]))
            mosaic = tile(np.stack([enlarge(im, 56) for im in pair]), columns=len(originals))
            st.image(mosaic, caption="Fixed test images (top) and their reconstructions now (bottom)",
                     width=min(720, mosaic.shape[1]), output_format="PNG")
        _snapshot_view(job)


def _live(job: TrainingJob) -> None:
    """Polled twice a second while the run goes on; one full rerun when it ends, to show what comes after."""
    _live_view(job)
    if job.finished and st.session_state.get("train_polling"):
        st.session_state["train_polling"] = False
        st.rerun()


# ---------------------------------------------------------------------------------------------------------------
# After a run


def _trained_bytes(job: TrainingJob) -> bytes:
    name = st.session_state.get("train_job_data", job.dataset.name)
    return checkpoint_bytes(job.model, dataset=name, label_names=job.dataset.label_names,
                            train_config=job.train_config, step_history=job.step_history())


def _use_trained() -> None:
    """Callback: make the finished run's model the one the explore and generate pages use (this session only)."""
    job = state.job_holder().job
    if job is None or not job.finished:
        return
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    name = f"{state.TRAINED_PREFIX}{job.dataset.name} z{job.model_config.latent_dim} {stamp}"
    state.add_session_model(name, load_checkpoint(_trained_bytes(job), name=name))


def _save_trained() -> None:
    """Callback: save the finished run's model on the server under a new name (never over another model)."""
    job = state.job_holder().job
    name = st.session_state.get("train_save_name", "").strip()
    st.session_state.pop("train_save_result", None)
    if job is None or not job.finished:
        return
    if not NAME_PATTERN.fullmatch(name):
        message = "Use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit."
        st.session_state["train_save_result"] = ("error", f"{name!r} is not a usable name. {message}")
        return
    if name in known_checkpoints():  # the bundled models and every saved one
        st.session_state["train_save_result"] = ("error", f"A model named {name!r} already exists; choose another name.")
        return
    try:
        write_atomically(saved_models_dir() / f"{name}.safetensors", _trained_bytes(job))
    except OSError as error:
        st.session_state["train_save_result"] = ("error", f"Could not save: {error}")
        return
    st.session_state["train_save_result"] = ("success", f"Saved as {name!r}: it is in the model list for everyone.")


def _after_run(job: TrainingJob) -> None:
    if job.status == DONE:
        st.success(job.message)
    elif job.status == STOPPED:
        st.warning(job.message)
    elif job.status == DIVERGED:
        st.error(job.message)
    elif job.status == FAILED:
        st.error(job.message)
        return
    if not job.metrics():
        return
    cols = st.columns([2, 2, 2])
    cols[0].button("Use this model on Explore and Generate", key="train_use", on_click=_use_trained, type="primary")
    if st.session_state.get("model_name", "").startswith(state.TRAINED_PREFIX):
        cols[0].caption(f"In use: {st.session_state['model_name']}")
    cols[1].text_input("Save on the server as", key="train_save_name", placeholder="my-model")
    cols[1].button("Save", key="train_save", on_click=_save_trained)
    result = st.session_state.get("train_save_result")
    if result:
        (st.error if result[0] == "error" else st.success)(result[1])
    cols[2].download_button("Download (.safetensors)", _trained_bytes(job), key="train_download",
                            file_name=f"vae-{job.dataset.name.replace(' ', '_')}-z{job.model_config.latent_dim}.safetensors",
                            mime="application/octet-stream")


def render() -> None:
    state.model_sidebar()
    st.title("Train a VAE")
    holder = state.job_holder()
    job = holder.job
    running = job is not None and not job.finished
    with st.expander("Settings", expanded=not running):
        _data_choice()
        configs = _settings()
    st.session_state["train_configs"] = configs
    cols = st.columns([1, 1, 6])
    cols[0].button("Start", key="train_start", type="primary", disabled=running or configs is None, on_click=_start)
    cols[1].button("Stop", key="train_stop", disabled=not running, on_click=holder.stop)
    if st.session_state.get("train_start_error"):
        st.error(st.session_state["train_start_error"])
    if job is None:
        st.info("Choose the data and settings, then Start. The defaults train a 2-D MNIST model in about 15 s.")
        return
    st.session_state["train_polling"] = running
    st.fragment(run_every=0.5 if running else None)(_live)(job)
    if job.finished:
        _after_run(job)
