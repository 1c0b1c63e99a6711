"""The VAE: MLP or convolutional encoder/decoder with a diagonal Gaussian posterior, optionally label-conditioned;
the same networks with a deterministic encoder make the plain autoencoder (a kind without a posterior)."""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import NamedTuple
from collections.abc import Iterator

import torch
from torch import nn
from torch.nn import functional as F

from explorer.config import ModelConfig
from explorer.data import MAX_CLASSES, MAX_SIDE, MIN_SIDE
from explorer.kinds import KINDS, Kind
from explorer.objectives import sample_noise
from explorer.runtime import seed_everything


class VAEOutput(NamedTuple):
    recon_logits: torch.Tensor  # (B, C, H, W) decoder output before the sigmoid
    mu: torch.Tensor  # (B, D) posterior means
    logvar: torch.Tensor | None  # (B, D) posterior log-variances; None for an autoencoder (its code is a point)
    z: torch.Tensor  # (B, D) one reparameterised sample (an autoencoder's: its code); (B, k, D) for k draws each


def _dense(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (and after the last, as a hidden block)."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


def _check_shape(config: ModelConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
    channels, height, width = (int(s) for s in image_shape)
    if channels not in (1, 3) or not all(MIN_SIDE <= s <= MAX_SIDE for s in (height, width)):
        raise ValueError(
            f"Images shaped {tuple(image_shape)} are not supported: use 1 or 3 channels and sides from "
            f"{MIN_SIDE} to {MAX_SIDE} pixels."
        )
    if not 0 <= num_classes <= MAX_CLASSES:
        raise ValueError(f"num_classes must be from 0 to {MAX_CLASSES}, not {num_classes}.")
    if config.conditional and num_classes < 1:
        raise ValueError("A conditional VAE needs labelled data; this data set has no labels.")


class VAE(nn.Module):
    """q(z|x[,y]) = N(mu, diag(exp(logvar))), p(z) = N(0, I), p(x|z[,y]) Bernoulli or Gaussian per pixel.

    For a kind without a posterior the encoder gives one point z = mu per image and no variance: an autoencoder.
    """

    def __init__(self, config: ModelConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__()
        _check_shape(config, image_shape, num_classes)
        self.config = config
        self.image_shape = tuple(int(s) for s in image_shape)
        self.num_classes = int(num_classes)
        n_cond = self.num_classes if config.conditional else 0
        self.feature_shape = self._convs() if config.arch == "conv" else self.image_shape
        n_features = math.prod(self.feature_shape)

        encoder_sizes = [n_features + n_cond, *config.hidden_dims]
        self.encoder_dense = _dense(encoder_sizes)
        # (The name is kept for an autoencoder, whose layer gives mu alone: checkpoints of both read the same way.)
        self.to_mu_logvar = nn.Linear(encoder_sizes[-1], (2 if self.kind.posterior else 1) * config.latent_dim)
        decoder_sizes = [config.latent_dim + n_cond, *reversed(config.hidden_dims)]
        self.decoder_dense = _dense(decoder_sizes)
        self.to_features = nn.Linear(decoder_sizes[-1], n_features)
        if config.likelihood == "gaussian" and config.learn_std:
            self.log_std = nn.Parameter(torch.tensor(math.log(config.gaussian_std)))
        else:
            self.register_buffer("log_std", torch.tensor(math.log(config.gaussian_std)))

    def _convs(self) -> tuple[int, int, int]:
        """The conv layers, each halving H and W (kernel 4, stride 2, padding 1); every size is kept so the
        transposed convs hit them exactly, odd sizes included. Returns the features' shape after them."""
        channels, height, width = self.image_shape
        convs = self.config.conv_channels
        self.conv_sizes = [(height, width)]
        for _ in convs:
            h, w = self.conv_sizes[-1]
            if min(h, w) < 2:
                raise ValueError(f"{height}x{width} images are too small for {len(convs)} conv layers; use fewer "
                                 "conv_channels or the mlp architecture.")
            self.conv_sizes.append(((h - 2) // 2 + 1, (w - 2) // 2 + 1))
        pairs = list(zip([channels, *convs][:-1], convs))
        self.encoder_convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1) for c_in, c_out in pairs)
        self.decoder_convs = nn.ModuleList(nn.ConvTranspose2d(c_out, c_in, 4, stride=2, padding=1)
                                           for c_in, c_out in reversed(pairs))
        return (convs[-1], *self.conv_sizes[-1])

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def kind(self) -> Kind:
        """What the model is (explorer.kinds): whether it has a posterior, how it is trained."""
        return KINDS[self.config.kind]

    def _condition(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if not self.config.conditional:
            return h
        if labels is None:
            raise ValueError("This conditional VAE needs a label for every image it encodes or decodes.")
        return torch.cat([h, F.one_hot(labels.long(), self.num_classes).to(h.dtype)], dim=1)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, C, H, W) in [0, 1] -> mu, logvar, each (B, D); an autoencoder's logvar is None."""
        h = x
        if self.config.arch == "conv":
            for conv in self.encoder_convs:
                h = F.relu(conv(h))
        h = self.encoder_dense(self._condition(h.flatten(1), labels))
        out = self.to_mu_logvar(h).float()  # float32 even under bf16 autocast: KL needs it
        if not self.kind.posterior:
            return out, None
        mu, logvar = out.chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, D) -> decoder output (B, C, H, W) before the sigmoid."""
        h = self.to_features(self.decoder_dense(self._condition(z, labels)))
        h = h.view(-1, *self.feature_shape)
        if self.config.arch == "conv":
            sizes = list(reversed(self.conv_sizes[:-1]))
            for i, (deconv, size) in enumerate(zip(self.decoder_convs, sizes)):
                h = deconv(h, output_size=size)
                if i < len(self.decoder_convs) - 1:
                    h = F.relu(h)
        return h.float()  # the likelihood is computed in float32 even under bf16 autocast

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, D) -> images (B, C, H, W) in [0, 1]: the Bernoulli probabilities or the Gaussian means."""
        return torch.sigmoid(self.decode_logits(z, labels))

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> VAEOutput:
        """noise (B, D): the standard normal draws to use, when the caller drew them (else drawn from generator);
        (B, k, D): k draws per image, decoded as B * k images, image by image."""
        mu, logvar = self.encode(x, labels)
        if logvar is None:
            return VAEOutput(self.decode_logits(mu, labels), mu, logvar, mu)
        eps = sample_noise(mu, generator) if noise is None else noise
        if eps.dim() == 3:
            z = mu[:, None] + eps * torch.exp(0.5 * logvar)[:, None]  # (B, k, D)
            rows = None if labels is None else labels.repeat_interleave(eps.shape[1])
            return VAEOutput(self.decode_logits(z.flatten(0, 1), rows), mu, logvar, z)
        z = mu + eps * torch.exp(0.5 * logvar)  # reparameterisation
        return VAEOutput(self.decode_logits(z, labels), mu, logvar, z)


_INIT_LOCK = threading.Lock()


def create_model(
    config: ModelConfig, image_shape: tuple[int, int, int], num_classes: int = 0, seed: int = 0
) -> VAE:
    """A freshly initialised VAE; the seed fixes its starting weights."""
    with _INIT_LOCK:  # seeding is process-wide: two threads building models must not interleave
        seed_everything(seed)
        return VAE(config, image_shape, num_classes)


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """The model in eval mode inside; its previous mode back afterwards, even after an error."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
