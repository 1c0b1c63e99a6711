"""The Train page's live view: progress, the loss balance, diagnostics, reconstructions and the forming map."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from explorer.alignment import ALIGN_METHODS, align_snapshots, common_range
from explorer.checkpoint import Checkpoint
from explorer.config import TrainConfig
from explorer.diagnostics import collapse, seconds_left, stall
from explorer.imaging import enlarge, tile, to_uint8
from explorer.glossary import define
from explorer.history import History
from explorer.job import Snapshot, TrainingJob
from explorer.latent import mean_kl_per_dim
from explorer.lessons.forming import stage, stage_caption
from explorer.live_charts import (
    LiveChart, elbo_chart, epoch_chart, forces_chart, kl_heatmap_chart, kl_share_chart, loss_balance_chart,
    series_chart, snapshot_chart,
)
from explorer.numbers import article, duration, ordinal, si
from explorer.kinds import KINDS
from explorer.projections import METHODS
from explorer.runqueue import Standing
from explorer.tasks import Task
from explorer.ui import session
from explorer.ui.markup import plain
from explorer.ui.sidebar import model_kind

SNAPSHOT_METHOD = "snapshot_method"
SNAPSHOT_EPOCH = "snapshot_epoch"
COLLAPSE_FROM_EPOCH = 3


def _map_name(method: str) -> str:
    found = METHODS[method]
    return found.label if found.quick else f"{found.label}, aligned across epochs"


def _fallback(dim: int) -> str:
    """The map a cancelled slow alignment goes back to."""
    return next(name for name in ALIGN_METHODS if METHODS[name].quick and (dim <= 2 or not METHODS[name].latent_axes))


def _series(metrics, field: str) -> np.ndarray:
    return np.array([getattr(m, field) for m in metrics], dtype=np.float64)


def _waiting_text(standing: Standing) -> str:
    where = "next" if standing.place == 1 else ordinal(standing.place)
    slots = "the one training slot" if standing.slots == 1 else f"one of the {standing.slots} training slots"
    wait = ("the runs ahead have not reported their speed yet" if standing.wait_s is None
            else f"about {duration(standing.wait_s)}")
    return f"Waiting: you are {where} in line for {slots} on this server; {wait}."


def _status_line(job: TrainingJob, metrics) -> None:
    standing = job.standing()
    if standing is not None:
        st.info(_waiting_text(standing))
        return
    if not metrics:
        st.progress(0.0, text="Starting ...")
        return
    last = metrics[-1]
    left = seconds_left(metrics)
    text = (f"epoch {last.epoch}/{job.train_config.epochs} · step {last.step:,}/{last.total_steps:,} · "
            f"{last.samples_per_s:,.0f} samples/s")
    if job.train_config.schedule != TrainConfig().schedule and last.lr is not None:  # a schedule moves it
        text += f" · learning rate {last.lr:.2g}"
    if not job.finished and left is not None:
        text += f" · about {left:,.0f} s left"
    st.progress(min(1.0, last.step / last.total_steps), text=text)


@dataclass
class LiveState:
    """What the live view keeps between runs."""

    snapshot_maps: dict = field(default_factory=dict)  # aligned maps of the current run, by (job, method, count)
    alignment: Task | None = None  # the aligned UMAP being computed, on its thread
    alignment_key: tuple = ()  # what it is computed for
    browsing_job: int | None = None  # the finished run whose epochs the slider shows (id of its job)

    def let_go(self) -> None:
        if self.alignment is not None:
            self.alignment.cancel()
        self.snapshot_maps, self.alignment = {}, None


def busy(job: TrainingJob) -> bool:
    """Whether the page must keep polling: the run goes on, or its maps are being aligned."""
    task = session.page_state(LiveState).alignment
    return not job.finished or (task is not None and not task.finished)


def _cancel_alignment(dim: int) -> None:
    state = session.page_state(LiveState)
    if state.alignment is not None:
        state.alignment.cancel()  # the thread stops after the epoch it is on
        state.alignment = None
    session.set_widget(SNAPSHOT_METHOD, _fallback(dim))


def _aligned(job: TrainingJob, method: str, snapshots) -> list[np.ndarray] | None:
    """The maps on common axes, cached per run. A slow method (UMAP) aligns on a thread, with progress and Cancel:
    None until done."""
    state = session.page_state(LiveState)
    key = (id(job), method, len(snapshots))
    if key in state.snapshot_maps:
        return state.snapshot_maps[key]
    mus = [s.mu for s in snapshots]
    if not METHODS[method].quick:
        if state.alignment is None or state.alignment_key != key:
            if state.alignment is not None:
                state.alignment.cancel()
            state.alignment_key = key
            state.alignment = Task(lambda progress, stop: align_snapshots(mus, method, progress=progress, stop=stop),
                                name=f"align-{method}")
        task = state.alignment
        if not task.finished:
            st.progress(task.progress, text=f"Aligning {METHODS[method].label} maps across epochs: {task.progress:.0%}")
            st.button("Cancel", key="cancel_alignment", on_click=_cancel_alignment, args=(mus[0].shape[1],))
            return None
        state.alignment = None
        if task.error is not None:
            st.error(f"The maps could not be aligned: {plain(task.error)}")
            return None
        maps = task.result
    else:
        maps = align_snapshots(mus, method)
    state.snapshot_maps = {key: maps}
    return maps


def _epoch(job: TrainingJob, epochs: list[int], where) -> int:
    """While a run goes, its newest epoch; once it ends, the visitor's pick on a slider that starts at the newest."""
    if not job.finished:
        return epochs[-1]
    state = session.page_state(LiveState)
    if state.browsing_job != id(job) or session.widget_value(SNAPSHOT_EPOCH) not in epochs:
        state.browsing_job = id(job)
        session.set_widget(SNAPSHOT_EPOCH, epochs[-1])
    return where.select_slider("Epoch", epochs, key=SNAPSHOT_EPOCH,
                               format_func=lambda e: "0 (untrained)" if e == 0 else str(e))


def _snapshot_view(job: TrainingJob) -> None:
    snapshots = job.snapshots()
    if not snapshots:
        st.caption("The latent map appears once the model is built.")
        return
    dim = snapshots[0].mu.shape[1]
    choices = [name for name, method in ((n, METHODS[n]) for n in ALIGN_METHODS)
               if (dim <= 2 or not method.latent_axes) and (method.quick or (job.finished and len(snapshots) > 1))]
    session.offer(SNAPSHOT_METHOD, choices, choices[0])
    cols = st.columns([2, 3])
    method = cols[0].radio("Map", choices, key=SNAPSHOT_METHOD, horizontal=True, format_func=_map_name)
    epochs = [s.epoch for s in snapshots]
    epoch = _epoch(job, epochs, cols[1])
    maps = _aligned(job, method, snapshots)
    if maps is None:
        return
    i = epochs.index(epoch)
    forming_view(snapshots, i, maps, job.dataset.label_names, method)
    when = "before training" if epoch == 0 else f"at the end of epoch {epoch}"
    active = snapshots[i].active_units
    st.caption(f"Test {'means' if active is not None else 'codes'} {when} ({len(maps[i]):,} images) by "
               f"{_map_name(method)}, on axes shared by all epochs"
               + (f"; {active} of {dim} latent dimensions active." if active is not None else
                  ": with no KL term, nothing keeps them near the origin.")
               + ("" if job.finished else " The map follows the newest epoch; a slider over all epochs comes when "
                                          "the run ends."))


def forming_view(snapshots: list[Snapshot], i: int, maps: list[np.ndarray], label_names: tuple[str, ...],
                 method: str) -> None:
    """Snapshot i's map (maps: every snapshot's, on shared axes) beside what the KL term pulls on over the epochs:
    each dimension's average |μ| (toward 0) and σ (toward 1); under it, the map's stage in numbers."""
    left, right = st.columns([3, 2])
    on_latent = METHODS[method].latent_axes
    titles = ("z0", "z1") if on_latent else (f"{METHODS[method].label} 1", f"{METHODS[method].label} 2")
    _draw(snapshot_chart(maps[i], snapshots[i].labels, label_names, *common_range(maps), titles,
                         prior=on_latent), left, width="content")
    epochs = np.array([s.epoch for s in snapshots])
    vae = snapshots[i].logvar is not None
    title = ("average |μ| per dimension: the KL pulls it to 0" if vae else
             "average |code| per dimension: nothing pulls an autoencoder's codes to 0")
    _draw(forces_chart(epochs, np.stack([np.abs(s.mu).mean(axis=0) for s in snapshots]), title, 0.0, "#9467bd",
                       height=150), right)
    if vae:
        _draw(forces_chart(epochs, np.stack([np.exp(0.5 * s.logvar).mean(axis=0) for s in snapshots]),
                           "average σ per dimension: the KL pulls it to 1", 1.0, "#2ca02c", height=150), right)
        if snapshots[i].labels is not None:
            right.caption(stage_caption(stage(snapshots[i].epoch, snapshots[i].latents)),
                          help=define("μ", "σ", "KL"))


def _recipe(checkpoint: Checkpoint, epochs: list[int]) -> str:
    """How a recorded model was trained, from its checkpoint, and when its map was recorded."""
    config, run = checkpoint.model_config, checkpoint.train_config
    how = (f" for {run.epochs} epochs (batch {run.batch_size}, learning rate {run.lr:g}, β {run.beta:g})"
           if run is not None else "")
    kind = model_kind(config)
    return (f"{article(kind)} {kind} with a {config.latent_dim}-D latent, trained on {checkpoint.dataset}{how}; its "
            f"test images' posteriors recorded {len(epochs)} times, from untrained to epoch {epochs[-1]}")


def recorded_view(history: History, label_names: tuple[str, ...], name: str, checkpoint: Checkpoint) -> None:
    """Before any run: the same view over a bundled model's recorded training, so there is something to read."""
    epochs = [int(e) for e in history.epochs]
    st.subheader("What a run shows: the bundled model's own training")
    st.caption(f"{name}: {plain(_recipe(checkpoint, epochs))}. Untrained, every test image's bubble is nearly the "
               "prior; then reconstruction spreads the means and sorts them by digit while the KL term holds them "
               "inside the prior's circles. A run of yours draws the same charts live.")
    epoch = st.select_slider("Epoch", epochs, value=epochs[-1], key="recorded_epoch",
                             format_func=lambda e: "0 (untrained)" if e == 0 else str(e))
    snapshots = [Snapshot(e, history.mu[i], history.labels, mean_kl_per_dim(history.mu[i], history.logvar[i]),
                          history.logvar[i]) for i, e in enumerate(epochs)]
    forming_view(snapshots, epochs.index(epoch), [s.mu for s in snapshots], label_names, "identity")


def _draw(chart: LiveChart, where, width: str = "stretch") -> None:
    """A live chart: Vega-Lite, whose data Streamlit replaces in place on each poll (see explorer.live_charts)."""
    where.vega_lite_chart(chart.data, chart.spec, width=width)


AE_NOTE = ("An autoencoder has no KL term: the loss is reconstruction alone, so nothing pulls its codes toward the "
           "prior N(0, I), and no KL, β or active dimensions are charted.")


def _charts(job: TrainingJob, metrics) -> None:
    step, recon, kl, beta = (_series(metrics, field) for field in ("step", "recon", "kl", "beta"))
    ends = [m for m in metrics if m.epoch_end]
    if not KINDS[job.model_config.kind].posterior:
        left, right = st.columns(2)
        _draw(series_chart(step, recon, "loss = reconstruction, nats per image", "#1f77b4"), left)
        if ends:
            _draw(epoch_chart(_series(ends, "epoch"), _series(ends, "test_recon"),
                              "Test reconstruction per epoch (lower is better)"), right)
        else:
            right.caption("The test reconstruction appears at the end of each epoch.")
        st.info(AE_NOTE)
        return
    kind = KINDS[job.model_config.kind]
    if not kind.weighs_kl:  # a bound that is not reconstruction + β·KL (the IWAE's): its loss, and its parts
        cols = st.columns(3)
        _draw(series_chart(step, _series(metrics, "loss"), f"loss = -({kind.loss}), nats", "#1f77b4"), cols[0])
        _draw(series_chart(step, recon, "reconstruction, nats per image", "#ff7f0e"), cols[1])
        _draw(series_chart(step, kl, "KL (reported, not weighed), nats", "#d62728"), cols[2])
        st.caption(f"The {kind.noun} is trained on {kind.loss}, not on reconstruction + β·KL: no β weighs its KL "
                   "term. Its reconstruction and KL are shown to read the run by.",
                   help=define("reconstruction", "KL", "posterior", "prior"))
        return
    cols = st.columns([2, 1, 1])
    _draw(loss_balance_chart(step, recon, kl, beta), cols[0])
    _draw(kl_share_chart(step, recon, kl, beta), cols[1])
    _draw(series_chart(step, kl, "KL (unweighted), nats", "#d62728"), cols[2])
    st.caption("Reconstruction pushes the posteriors apart so each image can be told from the others; β·KL pulls "
               "them toward the prior. KL's share of the loss shows the balance even while β·KL is a thin band.",
               help=define("reconstruction", "KL", "β", "posterior", "prior"))


def _kl_charts(job: TrainingJob, metrics) -> None:
    if not KINDS[job.model_config.kind].posterior:
        return
    step, beta = _series(metrics, "step"), _series(metrics, "beta")
    ends = [m for m in metrics if m.epoch_end]
    cols = st.columns([2, 1, 1.5])  # the ELBO's title needs the room
    _draw(kl_heatmap_chart(step, np.array([m.kl_per_dim for m in metrics])), cols[0])
    if KINDS[job.model_config.kind].weighs_kl:
        _draw(series_chart(step, beta, "β (KL weight)", "#2ca02c"), cols[1])
    if ends:
        _draw(elbo_chart(_series(ends, "epoch"), _series(ends, "test_elbo")), cols[2])
    else:
        cols[2].caption("The test ELBO appears at the end of each epoch.")
    st.caption("A dimension the KL term has pulled back to the prior (dark in the heatmap) tells the decoder nothing.",
               help=define("ELBO", "active dimension"))


def _numbers(job: TrainingJob, metrics) -> None:
    last, snapshots = metrics[-1], job.snapshots()
    cols = st.columns(4)
    cols[0].metric("Reconstruction", f"{si(last.recon)} nats")
    if not KINDS[job.model_config.kind].posterior:
        ends = [m for m in metrics if m.epoch_end]
        if ends:
            cols[1].metric("Test reconstruction", f"{si(ends[-1].test_recon)} nats")
        return
    cols[1].metric("KL", f"{si(last.kl)} nats")
    if KINDS[job.model_config.kind].weighs_kl:
        cols[2].metric("β", f"{last.beta:.2f}")
    if snapshots:
        newest = snapshots[-1]
        cols[3].metric("Active dimensions", f"{newest.active_units} of {newest.mu.shape[1]}",
                       help="Dimensions that carry more than 0.1 nats about a test image (their average KL from the "
                            "prior), at the newest epoch's end.")


def _diagnoses(job: TrainingJob, metrics) -> None:
    """Below the charts, so one appearing never shifts them."""
    snapshots, weighs_kl = job.snapshots(), KINDS[job.model_config.kind].weighs_kl
    found = [stall(metrics, weighs_kl=weighs_kl)]
    # Collapse is judged once the run is past its first epochs (or over): right after epoch 1 a dimension the
    # model has not yet taken up would be reported, then vanish.
    # An autoencoder has no KL per dimension to judge collapse by (kl_per_dim is None).
    if snapshots and snapshots[-1].kl_per_dim is not None and (
            snapshots[-1].epoch >= min(COLLAPSE_FROM_EPOCH, job.train_config.epochs)):
        found.append(collapse(snapshots[-1].kl_per_dim, weighs_kl))
    for diagnosis in filter(None, found):
        (st.warning if diagnosis.level == "warning" else st.info)(diagnosis.text)


def live_view(job: TrainingJob) -> None:
    metrics = job.metrics()
    with st.container(key="train_live"):
        _status_line(job, metrics)
        if metrics:
            _charts(job, metrics)
        _snapshot_view(job)
        if metrics:
            _kl_charts(job, metrics)
            _numbers(job, metrics)
            with st.container(key="train_diagnoses"):
                _diagnoses(job, metrics)
        originals, recons = job.preview()
        if recons is not None:  # None for the moment the job's thread takes to build the model
            pair = to_uint8(np.concatenate([originals, recons]))
            mosaic = tile(np.stack([enlarge(im, 56) for im in pair]), columns=len(originals))
            st.image(mosaic, caption="Fixed test images (top) and their reconstructions now (bottom)",
                     width=min(720, mosaic.shape[1]), output_format="PNG")
