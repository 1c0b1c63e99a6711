"""ModelConfig and TrainConfig: frozen, validated settings for a VAE and its training run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
PRECISIONS = ("auto", "fp32", "bf16")
MAX_LATENT_DIM = 128
MAX_WIDTH = 8192  # per dense layer; also bounds what a foreign checkpoint's metadata can ask us to build
MAX_CHANNELS = 1024
MAX_LAYERS = 8


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class ModelConfig:
    """What the VAE looks like; every shape beyond these comes from the data."""

    arch: str = "mlp"  # "mlp" (dense layers) or "conv" (strided convolutions, then dense layers)
    latent_dim: int = 2  # size of z; 2 gives a map that needs no projection
    hidden_dims: tuple[int, ...] = (512, 256)  # dense layer widths, encoder order (decoder mirrors them)
    conv_channels: tuple[int, ...] = (32, 64)  # conv only: channels per layer, each halving height and width
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (BCE on logits) or "gaussian" (scaled MSE)
    gaussian_std: float = 0.1  # gaussian only: the decoder's std (its starting value when learned)
    learn_std: bool = False  # gaussian only: learn one shared std (the "sigma-VAE" choice)
    conditional: bool = False  # CVAE: encoder and decoder also see the one-hot label

    def __post_init__(self) -> None:
        # Lists arrive from JSON and argparse; store tuples so the config stays hashable.
        object.__setattr__(self, "hidden_dims", tuple(int(h) for h in self.hidden_dims))
        object.__setattr__(self, "conv_channels", tuple(int(c) for c in self.conv_channels))
        _check(self.arch in ARCHITECTURES, f"arch must be one of {', '.join(ARCHITECTURES)}, not {self.arch!r}.")
        _check(
            isinstance(self.latent_dim, int) and 1 <= self.latent_dim <= MAX_LATENT_DIM,
            f"latent_dim must be a whole number from 1 to {MAX_LATENT_DIM}, not {self.latent_dim!r}.",
        )
        _check(
            len(self.hidden_dims) <= MAX_LAYERS and all(0 < h <= MAX_WIDTH for h in self.hidden_dims),
            f"hidden_dims must be at most {MAX_LAYERS} layer widths from 1 to {MAX_WIDTH}, not {self.hidden_dims}.",
        )
        _check(
            len(self.conv_channels) <= MAX_LAYERS and all(0 < c <= MAX_CHANNELS for c in self.conv_channels),
            f"conv_channels must be at most {MAX_LAYERS} channel counts from 1 to {MAX_CHANNELS}.",
        )
        _check(
            self.arch != "conv" or len(self.conv_channels) > 0,
            "conv_channels must list at least one channel count for the conv architecture.",
        )
        _check(
            self.likelihood in LIKELIHOODS,
            f"likelihood must be one of {', '.join(LIKELIHOODS)}, not {self.likelihood!r}.",
        )
        _check(self.gaussian_std > 0, f"gaussian_std must be positive, not {self.gaussian_std!r}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        return _from_dict(cls, values)


@dataclass(frozen=True)
class TrainConfig:
    """How a run trains: optimiser, schedule and the ELBO's weights."""

    epochs: int = 30  # passes over the training split
    batch_size: int = 128  # images per step
    lr: float = 1e-3  # Adam learning rate
    beta: float = 1.0  # weight of the KL term (beta-VAE); 1 is the plain ELBO
    warmup_steps: int = 0  # KL warm-up: beta ramps linearly from 0 over this many steps
    free_bits: float = 0.0  # nats per latent dimension below which KL is not penalised (Kingma et al. 2016)
    seed: int = 0  # seeds weights, shuffling and sampling: same seed, same run
    device: str = "auto"  # "auto", "cpu" or "cuda"
    precision: str = "auto"  # forward pass in "fp32", or "bf16" autocast; "auto": bf16 where the CPU has it

    def __post_init__(self) -> None:
        _check(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}.")
        _check(isinstance(self.epochs, int) and self.epochs >= 1, f"epochs must be at least 1, not {self.epochs!r}.")
        _check(
            isinstance(self.batch_size, int) and self.batch_size >= 1,
            f"batch_size must be at least 1, not {self.batch_size!r}.",
        )
        _check(self.lr > 0, f"lr (learning rate) must be positive, not {self.lr!r}.")
        _check(self.beta >= 0, f"beta must be zero or positive, not {self.beta!r}.")
        _check(self.warmup_steps >= 0, f"warmup_steps must be zero or positive, not {self.warmup_steps!r}.")
        _check(self.free_bits >= 0, f"free_bits must be zero or positive, not {self.free_bits!r}.")
        _check(self.device in ("auto", "cpu", "cuda"), f"device must be auto, cpu or cuda, not {self.device!r}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        return _from_dict(cls, values)


def _from_dict(cls, values: dict[str, Any]):
    """Rebuild a config, refusing unknown keys so a foreign file cannot pass as ours."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    _check(not unknown, f"unknown {cls.__name__} settings: {', '.join(sorted(unknown))}.")
    return cls(**values)
