"""What every model kind is: its declaration (Kind). Light to import: config reads it for the kind setting."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# (model, x, labels, beta, free_bits, network, noise (B, draws, D) or None) -> explorer.objectives.LossTerms
Objective = Callable[..., Any]


@dataclass(frozen=True)
class Kind:
    """A model kind, declared once: the model, the training step, evaluation, scoring, the pages and the CLI ask
    it what the kind has instead of testing its name."""

    name: str  # the setting's value: in checkpoints, links and CLI flags
    label: str  # how the picker and captions name it
    help: str  # one clause for the setting's help: what it is and what it is trained on
    loss: str  # its training loss, in words ("reconstruction alone")
    objective: Objective  # one training step's loss (explorer.objectives)
    posterior: bool  # each image encodes to a Gaussian q(z|x): so it has a KL term, an ELBO and a bound on log p(x)
    weighs_kl: bool = False  # its loss weighs the KL term: β, KL warm-up and free bits apply
    draws: Callable[[Any], int] | None = None  # train config -> standard normal draws per image a step needs
    parameters: dict[str, dataclasses.Field] = field(default_factory=dict)  # its own training settings

    @property
    def noun(self) -> str:
        """How a sentence names it: 'VAE', 'autoencoder'."""
        return self.label if self.label.isupper() else self.label.lower()
