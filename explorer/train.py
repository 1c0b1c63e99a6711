"""train_steps: the training loop as a generator of StepMetrics, shared by the CLI and the app."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

import torch

from explorer.config import TrainConfig
from explorer.data import ImageDataset
from explorer.distributed import Group, share
from explorer.evaluation import evaluate
from explorer.model import VAE
from explorer.objectives import beta_at
from explorer.optim import optimizer_for, schedule_for
from explorer.runtime import resolve_device, use_bf16


# A loss, reconstruction or KL per image above this many times the first step's loss, and above EXPLODED_NATS,
# has blown up. (The floor keeps a plain autoencoder's KL, unweighted at beta 0 and free to grow, clear of it.)
EXPLODED = 1000.0
EXPLODED_NATS = 1e6


class TrainingDiverged(ValueError):
    """The loss or its gradient stopped being finite, or exploded; the model keeps its last sound weights."""


@dataclass(frozen=True)
class StepMetrics:
    """What one optimisation step reports; the epoch's last step also carries the test-split ELBO."""

    step: int  # steps done so far, 1-based
    epoch: int  # 1-based
    total_steps: int  # steps the whole run will take if not stopped
    steps_per_epoch: int
    recon: float  # -log p(x|z), nats per image, this batch
    kl: float  # KL(q || p), nats per image, this batch
    beta: float  # KL weight used this step (after warm-up)
    loss: float  # the minimised loss: recon + beta * KL (with free bits)
    kl_per_dim: tuple[float, ...]  # (D,) KL of each latent dimension, this batch
    grad_norm: float  # global gradient norm before the update
    samples_per_s: float  # training images per second so far (evaluation time excluded)
    elapsed_s: float  # wall time since the run began
    test_elbo: float | None = None  # epoch end only: mean test ELBO per image (nats, higher is better); never an AE's
    test_recon: float | None = None  # epoch end only
    test_kl: float | None = None
    lr: float | None = None  # the learning rate this step used (its schedule's); None in older histories

    @property
    def epoch_end(self) -> bool:
        return self.test_recon is not None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _labels_for(model: VAE, dataset: ImageDataset, rows, device) -> torch.Tensor | None:
    if not model.config.conditional:
        return None
    return torch.from_numpy(dataset.labels[rows]).to(device)


def _check_fits(model: VAE, dataset: ImageDataset) -> None:
    if tuple(model.image_shape) != dataset.image_shape:
        raise ValueError(
            f"The model expects {model.image_shape} images but {dataset.name} has {dataset.image_shape}; "
            "train a new model for this data."
        )
    if model.config.conditional and model.num_classes != dataset.num_classes:
        raise ValueError(
            f"The model is conditioned on {model.num_classes} classes but {dataset.name} has {dataset.num_classes}."
        )


@dataclass
class _Run:
    """What a training run holds while it trains: where, on what, with which random streams and optimiser."""

    model: VAE
    network: torch.nn.Module  # the model, or its DistributedDataParallel wrapper under torchrun
    device: torch.device
    bf16: bool
    rank: int
    world_size: int
    shuffle: torch.Generator
    noise: torch.Generator
    x_train: torch.Tensor  # (N, C, H, W) uint8 on the device: 1/4 the memory of floats
    y_train: torch.Tensor | None
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    draws: int  # standard normal draws per image and step (the kind's)
    steps_per_epoch: int
    total_steps: int


def _prepare(model: VAE, dataset: ImageDataset, config: TrainConfig, group: Group | None) -> _Run:
    device = group.device(config.device) if group else resolve_device(config.device)
    model.to(device).train()
    steps_per_epoch = math.ceil(len(dataset.train_index) / config.batch_size)
    optimizer = optimizer_for(model.parameters(), config)
    # The run's own generators (not the global RNG) make it repeatable even beside other runs in the process.
    # Every process draws the same shuffle and the same noise for the whole batch, then keeps its own rows: each
    # image meets the noise it would meet in one process, so N processes train the model one process trains.
    return _Run(
        model=model, network=group.wrap(model, device) if group else model, device=device,
        bf16=use_bf16(config.precision, device), rank=group.rank if group else 0,
        world_size=group.world_size if group else 1, shuffle=torch.Generator().manual_seed(config.seed),
        noise=torch.Generator(device=device).manual_seed(config.seed + 1),
        x_train=torch.from_numpy(dataset.images[dataset.train_index]).to(device),
        y_train=_labels_for(model, dataset, dataset.train_index, device), optimizer=optimizer,
        schedule=schedule_for(optimizer, config, steps_per_epoch * config.epochs),
        draws=model.kind.draws(config) if model.kind.draws else 0, steps_per_epoch=steps_per_epoch,
        total_steps=steps_per_epoch * config.epochs,
    )


def _losses(run: _Run, batch: torch.Tensor, beta: float, config: TrainConfig):
    """This process's share of the batch through the kind's objective: (its terms, its share's weight, the
    (3 + D,) per-image means to report: loss, recon, KL, KL per dimension)."""
    mine, weight = share(len(batch), run.rank, run.world_size)
    rows = batch[mine]
    x = run.x_train[rows].float() / 255  # the same division as ImageDataset.pixels
    y = run.y_train[rows] if run.y_train is not None else None
    eps = None
    if run.draws:  # (B, k, D) draws for the whole batch, then this process's rows of them
        eps = torch.randn((len(batch), run.draws, run.model.latent_dim), generator=run.noise, device=run.device)[mine]
    with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.bf16):
        terms = run.model.kind.objective(run.model, x, y, beta, config.free_bits, network=run.network, noise=eps)
    stats = torch.cat([torch.stack([terms.total, terms.recon, terms.kl]), terms.kl_per_dim]).detach().float()
    return terms, weight, len(rows) if weight else 0, stats


def _check_sound(values: tuple[float, float, float], first: float, step: int, epoch: int, config: TrainConfig):
    """TrainingDiverged when the loss, reconstruction or KL is not finite, or exploded past the first step's."""
    loss, recon, kl = values
    if not all(map(math.isfinite, values)):
        raise _diverged(step, epoch, "the loss became NaN or infinite", config)
    ceiling = max(EXPLODED * abs(first), EXPLODED_NATS)
    # Finite but exploding (a large learning rate at beta 0 drove the KL to 3.5e9 nats): the run is as lost as a
    # NaN one, and its weights are no use, so it ends the same way, before this step's update.
    worst = max((abs(loss), "loss"), (abs(recon), "reconstruction"), (abs(kl), "KL"))
    if worst[0] > ceiling:
        raise _diverged(step, epoch, f"the {worst[1]} exploded to {worst[0]:.3g} nats per image "
                                     f"(the first step's loss was {first:.3g})", config)


def _update(run: _Run, total: torch.Tensor, step: int, epoch: int, config: TrainConfig) -> tuple[float, float]:
    """One optimiser step (and the schedule's) on this loss; (the gradient's norm, the step's learning rate).
    A gradient that is not finite raises TrainingDiverged before any weight moves."""
    lr = run.optimizer.param_groups[0]["lr"]
    run.optimizer.zero_grad(set_to_none=True)
    total.backward()
    gradients = [p.grad for p in run.model.parameters() if p.grad is not None]
    grad_norm = torch.nn.utils.get_total_norm(gradients).item()
    if not math.isfinite(grad_norm):
        raise _diverged(step, epoch, "the gradient became NaN or infinite", config)
    run.optimizer.step()
    run.schedule.step()
    return grad_norm, lr


def train_steps(
    model: VAE, dataset: ImageDataset, config: TrainConfig, stop_event: threading.Event | None = None,
    group: Group | None = None,
) -> Iterator[StepMetrics]:
    """Train in place, yielding metrics after every step.

    A set stop_event ends the run before the next step, keeping what was learned. A non-finite loss or
    gradient raises TrainingDiverged before the update, so the weights stay the last finite ones.

    With a group (torchrun), every process shuffles alike and trains on its share of each batch
    (config.batch_size is the global batch); the metrics, and so every stop and divergence, are the whole batch's,
    the same on every process; only the leader evaluates.
    """
    _check_fits(model, dataset)
    run = _prepare(model, dataset, config, group)
    step, samples, train_seconds, first = 0, 0, 0.0, None  # first: the first step's loss, what explosions exceed
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(len(dataset.train_index), generator=run.shuffle).to(run.device)
        for i in range(run.steps_per_epoch):
            stopping = stop_event is not None and stop_event.is_set()
            if stopping and group is None:
                return
            tick = time.perf_counter()
            batch = order[i * config.batch_size : (i + 1) * config.batch_size]
            beta = beta_at(step, config.beta, config.warmup_steps)
            terms, weight, count, stats = _losses(run, batch, beta, config)
            if group is not None:  # one stop for all: a process asked to stop ends every one, before the update
                stats, stopping = group.average(stats, count, len(batch), stopping)
                if stopping:
                    return
            loss, recon, kl, *kl_per_dim = stats.tolist()
            first = first if first is not None else loss
            _check_sound((loss, recon, kl), first, step, epoch, config)
            grad_norm, lr = _update(run, terms.total * weight, step, epoch, config)
            step, samples = step + 1, samples + len(batch)  # the whole batch: every process's images
            train_seconds += time.perf_counter() - tick
            metrics = StepMetrics(
                step=step, epoch=epoch, total_steps=run.total_steps, steps_per_epoch=run.steps_per_epoch,
                recon=recon, kl=kl, beta=beta, loss=loss, kl_per_dim=tuple(kl_per_dim), grad_norm=grad_norm,
                samples_per_s=samples / max(train_seconds, 1e-9), elapsed_s=time.perf_counter() - started, lr=lr)
            if i == run.steps_per_epoch - 1 and run.rank == 0:
                scores = evaluate(model, dataset, "test", seed=config.seed, active_units=False)
                metrics = dataclasses.replace(metrics, test_elbo=scores.elbo, test_recon=scores.recon,
                                              test_kl=scores.kl, elapsed_s=time.perf_counter() - started)
            yield metrics


def _diverged(step: int, epoch: int, what: str, config: TrainConfig) -> TrainingDiverged:
    return TrainingDiverged(
        f"Training diverged at step {step + 1} (epoch {epoch}): {what}. "
        f"The model keeps its weights from step {step}. Try a lower learning rate (it was {config.lr:g})"
        + (" or a smaller beta." if config.beta > 1 else ".")
    )


PROBE_STEPS = 6  # training steps timed to estimate a run; the first is left out (it allocates)
PROBE_MAX_PARAMETERS = 5_000_000  # larger models are not built just to time them


def measure_speed(model_config, dataset: ImageDataset, config: TrainConfig) -> float | None:
    """Training images per second for these settings on this machine, now (beside whatever else it runs): a few
    steps of a throwaway model; None for a model too large to build for that."""
    with torch.device("meta"):
        size = sum(p.numel() for p in VAE(model_config, dataset.image_shape, dataset.num_classes).parameters())
    if size > PROBE_MAX_PARAMETERS:
        return None
    model = VAE(model_config, dataset.image_shape, dataset.num_classes)
    steps = train_steps(model, dataset, dataclasses.replace(config, epochs=1))
    first = next(steps)
    started, last = time.perf_counter(), first
    for last, _ in zip(steps, range(PROBE_STEPS - 1)):  # noqa: B007 - keeps the last step taken
        pass
    steps.close()
    timed = last.step - first.step
    return timed * config.batch_size / (time.perf_counter() - started) if timed else None
