"""The settings a user can choose, each declared once (explorer.settings): model, training, map, path, sampling."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from explorer.kinds import KINDS
from explorer.projections import METHODS as PROJECTIONS
from explorer.settings import normalise, setting, validate

ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")
MAX_LATENT_DIM = 128
MAX_WIDTH = 8192  # per dense layer; also bounds what a foreign checkpoint's metadata can ask us to build
MAX_CHANNELS = 1024
MAX_LAYERS = 8
COLOURINGS = ("label", "factor", "log_px", "elbo", "recon", "kl")  # the label, a known factor, or a score (scoring.py)
SCORE_COLOURINGS = COLOURINGS[2:]  # the scores: a VAE's only
MARKS = ("points", "bubbles", "both")  # how a 2-D map of a VAE draws each image: its mean, its ±1σ bubble, or both
Z_LIMIT = 4.0  # the latent sliders span +/- this: under the prior N(0, 1) all but 6e-5 of z


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


class _Config:
    """Shared by the configs: coerce, validate every declared field, and round-trip through plain dicts."""

    def __post_init__(self) -> None:
        normalise(self)
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        """Rebuild a config, refusing unknown keys so a foreign file cannot pass as ours."""
        _check(isinstance(values, dict), f"{cls.__name__} must be a table of settings, not {type(values).__name__}.")
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        _check(not unknown, f"unknown {cls.__name__} settings: {', '.join(sorted(unknown))}.")
        return cls(**values)


@dataclass(frozen=True)
class ModelConfig(_Config):
    """What the VAE looks like; every shape beyond these comes from the data."""

    kind: str = setting("vae", "Model kind", "; ".join(f"{k.label} ({k.name}): {k.help}" for k in KINDS.values()) + ".",
                        choices=tuple(KINDS), names={k.name: k.label for k in KINDS.values()}, panel="network")
    arch: str = setting("mlp", "Architecture", "mlp: dense layers; conv: strided convolutions, then dense layers.",
                        choices=ARCHITECTURES, names={"mlp": "MLP", "conv": "Conv"}, panel="network")
    latent_dim: int = setting(2, "Latent dimensions",
                              "Size of z. 2 gives a map with no projection; more reconstructs better.",
                              low=1, high=MAX_LATENT_DIM, widget="number", panel="network")
    hidden_dims: tuple = setting((512, 256), "Hidden widths", "Dense layer widths in encoder order, e.g. 512,256.",
                                 low=1, high=MAX_WIDTH, flag="--hidden")
    conv_channels: tuple = setting((32, 64), "Conv channels",
                                   "Conv only: channels per layer (each halves the size), e.g. 32,64.",
                                   low=1, high=MAX_CHANNELS)
    likelihood: str = setting("bernoulli", "Likelihood p(x|z)", "bernoulli: each pixel the probability of ink "
                              "(binary cross-entropy on logits), for near black-and-white images; gaussian: each pixel "
                              "a mean with a fixed spread (a scaled squared error).", choices=LIKELIHOODS,
                              panel="decoder")
    gaussian_std: float = setting(0.1, "Decoder σ", "Gaussian only: the decoder's std (its start when learned).",
                                  low=1e-4, high=10.0)
    learn_std: bool = setting(False, "Learn the decoder's σ", "Gaussian only: learn one shared std (the σ-VAE choice).")
    conditional: bool = setting(False, "Conditional (CVAE)",
                                "A CVAE (conditional VAE): encoder and decoder also see the label as a one-hot vector "
                                "(all zeros but a 1 at the label's place), so z holds the rest (the style).",
                                panel="decoder")

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, top in (("hidden_dims", MAX_WIDTH), ("conv_channels", MAX_CHANNELS)):
            _check(len(getattr(self, name)) <= MAX_LAYERS,
                   f"{name} must be at most {MAX_LAYERS} layer widths from 1 to {top}, not {getattr(self, name)}.")
        _check(self.arch != "conv" or len(self.conv_channels) > 0,
               "conv_channels must list at least one channel count for the conv architecture.")


# One-click starting points on the Train page: the settings each sets (ModelConfig's or TrainConfig's, by field
# name); the others keep their values.
PRESETS = {
    "ae": ("Autoencoder", {"kind": "ae"}),
    "vae": ("VAE", {"kind": "vae", "beta": 1.0}),
    "beta_vae": ("β-VAE (β 4)", {"kind": "vae", "beta": 4.0}),
}

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "onecycle")
ADAMW_DECAY = 0.01  # AdamW's decoupled weight decay: torch's default
SGD_MOMENTUM = 0.9
ONE_CYCLE_WARM = 0.3  # the share of the steps one-cycle spends rising to the learning rate (Smith's and torch's)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 1.0, 10.0)  # the last ones: watch a run diverge


@dataclass(frozen=True)
class _Training(_Config):
    """How a run trains: optimiser, schedule, the ELBO's weights, and each model kind's own settings (declared in
    its module of explorer.kinds; only the chosen kind's matter)."""

    epochs: int = setting(30, "Epochs", "Passes over the training split.", low=1, high=1000, widget="number",
                          panel="optimisation")
    batch_size: int = setting(128, "Batch size", "Images per step.", low=1, high=8192, ticks=(32, 64, 128, 256, 512),
                              panel="optimisation")
    lr: float = setting(1e-3, "Learning rate", "The optimiser's step size (the schedule's peak); 1 and 10 are there "
                        "to watch a run diverge.", low=1e-6, high=100.0, ticks=LEARNING_RATES, panel="optimisation")
    optimizer: str = setting("adam", "Optimiser", f"Adam; AdamW: Adam with decoupled weight decay ({ADAMW_DECAY:g}); "
                             f"SGD with momentum {SGD_MOMENTUM:g}.", choices=OPTIMIZERS,
                             names={"adam": "Adam", "adamw": "AdamW", "sgd": "SGD (momentum)"}, panel="optimisation")
    schedule: str = setting("constant", "Learning-rate schedule", "constant: the learning rate throughout; cosine: "
                            f"from it down to 0 along a half cosine; one-cycle: up to it over the first "
                            f"{ONE_CYCLE_WARM:.0%} of the steps, then down to near 0 (Smith 2018).", choices=SCHEDULES,
                            names={"constant": "constant", "cosine": "cosine", "onecycle": "one-cycle"},
                            panel="optimisation")
    beta: float = setting(1.0, "β (KL weight)", "1 is the plain ELBO; larger packs the latent tighter, smaller "
                          "reconstructs better; 0 is a plain autoencoder.", low=0.0, high=100.0, needs="weighs_kl",
                          ticks=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0), panel="objective")
    warmup_steps: int = setting(0, "KL warm-up steps", "β ramps up from 0 over these steps, against posterior "
                                "collapse (the KL term winning: every bubble becomes the prior, z carries nothing).",
                                low=0, high=1_000_000, step=100, widget="number", needs="weighs_kl", panel="objective")
    free_bits: float = setting(0.0, "Free bits (nats per dimension)", "KL below this per latent dimension is not "
                               "penalised (Kingma et al. 2016), against posterior collapse.", low=0.0, high=10.0,
                               step=0.05, widget="number", needs="weighs_kl", panel="objective")
    seed: int = setting(0, "Seed", "Seeds weights, shuffling and sampling: same seed, same run.",
                        low=0, high=2**31 - 1, widget="number", panel="optimisation")
    device: str = setting("auto", "Device", "auto picks a CUDA GPU when there is one.", choices=DEVICES)
    precision: str = setting("auto", "Precision", "The forward pass in fp32, or bf16 autocast; auto: bf16 where "
                             "the hardware has it.", choices=PRECISIONS)


def _kind_fields() -> list[tuple[str, type, Any]]:
    fields: list[tuple[str, type, Any]] = []
    for kind in KINDS.values():
        for name, declared in kind.parameters.items():
            _check(name not in {f[0] for f in fields}, f"two model kinds declare a setting {name!r}")
            fields.append((name, type(declared.default), declared))
    return fields


TrainConfig = dataclasses.make_dataclass("TrainConfig", _kind_fields(), bases=(_Training,), frozen=True,
                                         namespace={"__doc__": _Training.__doc__})
TrainConfig.__module__ = __name__


class _Projection(_Config):
    """How latent means become a 2-D map: the method, each method's own parameters (declared in its module of
    explorer.projections), and the seed; only the chosen method's parameters matter."""

    @property
    def params(self) -> dict[str, Any]:
        """The parameters the chosen method uses."""
        return {name: getattr(self, name) for name in PROJECTIONS[self.method].parameters}

    @property
    def random_seed(self) -> int:
        """The seed the method uses: a deterministic one's (identity, PCA) is always 0."""
        return self.seed if PROJECTIONS[self.method].random else 0

    @property
    def key(self) -> tuple:
        """What the map depends on (a cache key): other methods' parameters, and a deterministic one's seed, do not
        count."""
        return (self.method, tuple(sorted(self.params.items())), self.random_seed)


def _projection_fields() -> list[tuple[str, type, Any]]:
    random = [method.label for method in PROJECTIONS.values() if method.random]
    fields = [("method", str, setting("umap", "Projection", "Identity plots a 2-D latent as it is; the others "
                                      "flatten more dimensions.", choices=tuple(PROJECTIONS), link="proj",
                                      widget="select", names={n: m.label for n, m in PROJECTIONS.items()}))]
    for method in PROJECTIONS.values():
        for name, declared in method.parameters.items():
            _check(name not in {f[0] for f in fields}, f"two projections declare a parameter {name!r}")
            fields.append((name, type(declared.default), declared))
    named = " and ".join([", ".join(random[:-1]), random[-1]] if len(random) > 1 else random)
    seed = setting(0, "Seed", f"{named} are random: same seed, same map.", low=0, high=10_000,
                   link="seed", widget="number")
    return [*fields, ("seed", int, seed)]


ProjectionConfig = dataclasses.make_dataclass("ProjectionConfig", _projection_fields(), bases=(_Projection,),
                                              frozen=True, namespace={"__doc__": _Projection.__doc__})
ProjectionConfig.__module__ = __name__


@dataclass(frozen=True)
class MapConfig(_Config):
    """How a 2-D map of a VAE draws each image: its posterior's mean, its ±1σ bubble, or both."""

    marks: str = setting("points", "Draw each image as", "A VAE encodes an image to a Gaussian bubble: its mean "
                         "(a point) and σ per dimension (the bubble's half-widths).", choices=MARKS,
                         names={"points": "its mean", "bubbles": "its ±1σ bubble", "both": "both"})
    colour: str = setting("label", "Colour by", "Each image's label, a known factor of data that has them (a glyph's "
                          "boldness, a sprite's rotation), or one of its scores under the model: the IWAE bound on "
                          "log p(x) (low: atypical), the ELBO, the reconstruction error or the KL.",
                          choices=COLOURINGS, link="colour", widget="select",
                          names={"label": "label", "factor": "a known factor", "log_px": "log p(x) (IWAE bound)",
                                 "elbo": "ELBO",
                                 "recon": "reconstruction error", "kl": "KL"})
    images: bool = setting(False, "Images as points", "Draw every point as its image. Without it, the points "
                           "become their images once zoomed in to 400 or fewer.", link="images")


@dataclass(frozen=True)
class ScoreConfig(_Config):
    """How each image's log p(x) is estimated: the importance-weighted bound (Burda et al. 2016) with k samples."""

    k: int = setting(100, "Importance samples k", "More samples tighten the bound on log p(x) (k 1 is the ELBO) "
                     "and take longer, in proportion to k.", low=1, high=5000,
                     ticks=(1, 10, 50, 100, 200, 500), link="k")
    seed: int = setting(0, "Seed", "Seeds the importance samples: same seed, same scores.", low=0, high=2**31 - 1,
                        widget="number")


@dataclass(frozen=True)
class FlagConfig(_Config):
    """Which scored images are flagged: those whose log p(x) falls outside this band of the data's percentiles."""

    low: float = setting(1.0, "Flag below percentile", "An image scoring lower than this share (%) of the data's "
                         "images is flagged as unlike the data.", low=0.0, high=50.0, step=0.5, widget="number")
    high: float = setting(99.9, "Flag above percentile", "An image scoring higher than this share of the data is "
                          "flagged too: a VAE can give plain or blank images a high likelihood.", low=50.0, high=100.0,
                          step=0.5, widget="number")


@dataclass(frozen=True)
class PathConfig(_Config):
    """How the path between two picked points is decoded."""

    steps: int = setting(10, "Images along the path", "Decoded points from A to B, both ends included.",
                         low=3, high=24, link="steps")
    method: str = setting("linear", "Interpolation", "slerp turns along the shell round the origin, its length "
                          "moving evenly from A's to B's; linear cuts straight through.",
                          choices=("linear", "slerp"), link="interp",
                          names={"linear": "linear", "slerp": "spherical (slerp)"})


@dataclass(frozen=True)
class SamplingConfig(_Config):
    """The Generate page's prior samples and manifold grid."""

    temperature: float = setting(1.0, "Temperature", "z ~ N(0, T²I): below 1, more typical samples; above 1, wilder.",
                                 low=0.1, high=2.0, step=0.05, link="temp")
    samples: int = setting(36, "Samples", "How many prior samples to decode.", choices=(16, 36, 64), link="n",
                           widget="slider")
    grid_size: int = setting(15, "Grid size", "Decoded images per side of the manifold grid.", low=5, high=25,
                             link="grid")
    extent: float = setting(2.5, "Half-width (in σ of the prior)", "How far from the centre the grid reaches.",
                            low=0.5, high=Z_LIMIT, step=0.25, link="half")
