"""Reading a run's metrics like an expert would: posterior collapse, a stalled reconstruction, time left."""

from __future__ import annotations

import numpy as np

from explorer.train import StepMetrics

COLLAPSE_NATS = 0.5  # total KL per image below this, with beta at full weight: z carries almost nothing
ACTIVE_DIM_NATS = 0.1  # a dimension with less KL than this is (close to) the prior
STALL_WINDOW = 50  # steps compared for a stalled reconstruction
STALL_FRACTION = 0.002  # less than 0.2% better than the window before: stalled


def collapse_warning(metrics: list[StepMetrics], window: int = 20) -> str | None:
    """Posterior collapse: once warm-up is over, the KL stays near 0 (Bowman et al. 2016)."""
    full = [m for m in metrics if m.beta > 0 and m.beta >= 0.999 * max(x.beta for x in metrics)]
    if len(full) < window:
        return None
    kl = float(np.mean([m.kl for m in full[-window:]]))
    if kl >= COLLAPSE_NATS:
        return None
    return (
        f"Posterior collapse: the KL is {kl:.2f} nats per image, so z carries almost no information and the "
        "decoder ignores it. Try a smaller beta, a longer KL warm-up, or free bits."
    )


def stall_warning(metrics: list[StepMetrics], window: int = STALL_WINDOW) -> str | None:
    """The reconstruction term stopped improving: the last window is no better than the one before."""
    if len(metrics) < 2 * window:
        return None
    before = float(np.mean([m.recon for m in metrics[-2 * window : -window]]))
    after = float(np.mean([m.recon for m in metrics[-window:]]))
    if before - after > STALL_FRACTION * abs(before):
        return None
    return (
        f"The reconstruction has stalled: {after:.1f} nats over the last {window} steps against {before:.1f} before. "
        "More epochs may not help; a larger model, a higher learning rate or a smaller beta might."
    )


def active_dimensions(kl_per_dim: tuple[float, ...] | np.ndarray, threshold: float = ACTIVE_DIM_NATS) -> int:
    """Latent dimensions whose KL (nats, averaged over a batch) is above threshold."""
    return int((np.asarray(kl_per_dim) > threshold).sum())


def seconds_left(metrics: list[StepMetrics]) -> float | None:
    """Time to finish at the pace so far (None before the first step)."""
    if not metrics:
        return None
    last = metrics[-1]
    return last.elapsed_s / last.step * (last.total_steps - last.step)
