"""TrainingJob: one training run in a background thread, with what a live view needs to show it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.data import ImageDataset
from explorer.diagnostics import seconds_left
from explorer.latent import Latents, active_units, encode_rows, mean_kl_per_dim, reconstruct
from explorer.model import VAE, create_model
from explorer.runqueue import RunQueue, Standing, Ticket
from explorer.train import StepMetrics, TrainingDiverged, train_steps

PREVIEW_EVERY_S = 0.4  # reconstructions of the fixed images are refreshed at most this often
SNAPSHOT_POINTS = 1000  # test means kept per epoch for the forming map
WAITING, RUNNING, DONE, STOPPED, DIVERGED, FAILED = "waiting", "running", "done", "stopped", "diverged", "failed"
FINISHED = (DONE, STOPPED, DIVERGED, FAILED)


@dataclass(frozen=True)
class Snapshot:
    """The encoded test means at one epoch's end (epoch 0: the untrained model)."""

    epoch: int
    mu: np.ndarray  # (M, D) float32, the same M test images at every epoch
    labels: np.ndarray | None
    kl_per_dim: np.ndarray | None  # (D,) average KL of each latent dimension over these images, nats; None: an AE
    logvar: np.ndarray | None = None  # (M, D) float32; None for an autoencoder

    @property
    def latents(self) -> Latents:
        return Latents(self.mu, self.logvar, self.labels, np.arange(len(self.mu)))

    @property
    def active_units(self) -> int | None:
        """Dimensions in use; None for an autoencoder, which has no KL to tell them by."""
        return None if self.kl_per_dim is None else int(active_units(self.kl_per_dim).sum())


class TrainingJob:
    """Trains a fresh model on a thread; the page reads copies of its state under a lock.

    `queue` (shared by the server; None: no cap) caps concurrent runs: a job takes its place in line when it
    starts, waits its turn on its thread, and a stop while waiting ends it without training.
    """

    def __init__(
        self,
        dataset: ImageDataset,
        model_config: ModelConfig,
        train_config: TrainConfig,
        queue: RunQueue | None = None,
        preview_count: int = 8,
    ):
        self.dataset = dataset
        self.model_config = model_config
        self.train_config = train_config
        # Shapes only, on the meta device: a config that cannot fit the data fails here, in the caller. The real
        # model is built on the job's thread: once a thread has run a parallel torch op, a 2-thread run on
        # another thread is slower (bench/train_throughput.py).
        with torch.device("meta"):
            VAE(model_config, dataset.image_shape, dataset.num_classes)
        self.model: VAE | None = None  # set when the thread starts
        self._queue = queue
        self._ticket: Ticket | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="training-job", daemon=True)
        self._metrics: list[StepMetrics] = []
        self._snapshots: list[Snapshot] = []
        self.status = WAITING
        self.message = ""
        self.started_at: float | None = None
        self.finished_at: float | None = None
        rng = np.random.default_rng(0)
        test = dataset.test_index
        self.preview_rows = _one_per_label(dataset, test, preview_count)
        self.snapshot_rows = np.sort(rng.choice(test, min(SNAPSHOT_POINTS, len(test)), replace=False))
        self._preview: np.ndarray | None = None

    # --- control -------------------------------------------------------------------------------------------
    def start(self) -> TrainingJob:
        """Take a place in line now, in the caller (so it is the order visitors pressed Start), then run."""
        if self._queue is not None:
            samples = self.train_config.epochs * len(self.dataset.train_index)
            self._ticket = self._queue.enter(samples, self._seconds_left)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end; it stops before its next step (or leaves the queue), keeping what it learned."""
        self._stop.set()
        if self._ticket is not None:
            self._queue.cancel(self._ticket)  # wakes the thread if it is waiting its turn

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    # --- what the page reads ---------------------------------------------------------------------------------
    def metrics(self) -> list[StepMetrics]:
        with self._lock:
            return list(self._metrics)

    def snapshots(self) -> list[Snapshot]:
        with self._lock:
            return list(self._snapshots)

    def preview(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(originals, reconstructions) of the fixed test images, each (K, C, H, W) in [0, 1]; the
        reconstructions are None until the thread has built the model."""
        with self._lock:
            return self.dataset.pixels(self.preview_rows), self._preview

    def standing(self) -> Standing | None:
        """Its place in line and estimated wait while it waits for a slot; None otherwise."""
        return self._queue.standing(self._ticket) if self._ticket is not None else None

    def _seconds_left(self) -> float | None:
        with self._lock:
            newest = self._metrics[-1:]  # the pace so far is all seconds_left reads: no copy of the whole run
        return seconds_left(newest)

    def step_history(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.metrics()]

    # --- the thread ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            model = create_model(self.model_config, self.dataset.image_shape, self.dataset.num_classes,
                                 self.train_config.seed)
            preview = reconstruct(model, self.dataset, self.preview_rows)
            with self._lock:
                self.model, self._preview = model, preview
            untrained = self._snapshot(0)  # the map before training: where every run starts
            with self._lock:
                self._snapshots.append(untrained)
            if not self._take_slot():
                self._finish(STOPPED, "Stopped before it started.")
                return
            self._train()
        except Exception as error:  # noqa: BLE001 - any failure must end the job visibly, never silently
            self._finish(FAILED, f"The run failed: {error}")
        finally:
            if self._ticket is not None:
                self._queue.leave(self._ticket)  # the slot (or the place in line) is never kept by an ended run

    def _take_slot(self) -> bool:
        if self._ticket is not None and not self._queue.wait(self._ticket):
            return False
        return not self._stop.is_set()

    def _train(self) -> None:
        self.status = RUNNING
        self.started_at = time.time()
        last_preview = 0.0
        try:
            for metrics in train_steps(self.model, self.dataset, self.train_config, self._stop):
                now = time.perf_counter()
                preview = None
                if now - last_preview > PREVIEW_EVERY_S or metrics.epoch_end:
                    preview = reconstruct(self.model, self.dataset, self.preview_rows)
                    last_preview = now
                snapshot = self._snapshot(metrics.epoch) if metrics.epoch_end else None
                if self._queue is not None:
                    self._queue.report_speed(metrics.samples_per_s)  # sizes the runs waiting behind
                with self._lock:
                    self._metrics.append(metrics)
                    if preview is not None:
                        self._preview = preview
                    if snapshot is not None:
                        self._snapshots.append(snapshot)
        except TrainingDiverged as error:
            self._finish(DIVERGED, str(error))
            return
        if self._stop.is_set():
            done = len(self._metrics)
            self._finish(STOPPED, f"Stopped after {done:,} of {self._total_steps():,} steps; "
                                  "the model keeps what it learned.")
        else:
            self._finish(DONE, "Training finished.")

    def _finish(self, status: str, message: str) -> None:
        if self.model is not None:
            self.model.eval()
        self.message = message
        self.finished_at = time.time()
        self.status = status

    def _total_steps(self) -> int:
        metrics = self.metrics()
        return metrics[-1].total_steps if metrics else 0

    def _snapshot(self, epoch: int) -> Snapshot:
        latents = encode_rows(self.model, self.dataset, self.snapshot_rows)
        kl = None if latents.logvar is None else mean_kl_per_dim(latents.mu, latents.logvar)
        return Snapshot(epoch, latents.mu, latents.labels, kl, latents.logvar)


def _one_per_label(dataset: ImageDataset, rows: np.ndarray, count: int) -> np.ndarray:
    """Up to `count` test rows, covering as many labels as possible (the first row of each label, then more)."""
    if dataset.labels is None:
        return rows[:count]
    picked: list[int] = []
    for label in range(dataset.num_classes):
        hits = rows[dataset.labels[rows] == label]
        if len(hits):
            picked.append(int(hits[0]))
    extra = [int(r) for r in rows if int(r) not in picked]
    return np.array((picked + extra)[:count])
