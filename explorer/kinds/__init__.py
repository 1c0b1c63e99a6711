"""Model kinds as a registry: one module per kind (its objective, and what it has: a posterior, so a KL term and a
bound on log p(x); whether its loss weighs the KL; its own training settings), registered in KINDS below. The
model, the training step, evaluation, scoring, the pages and the CLI ask the kind; none tests its name.

To add a kind: a module beside these with a `KIND = Kind(...)`, and one entry in KINDS.
"""

from __future__ import annotations

from explorer.kinds import autoencoder, iwae, vae
from explorer.kinds.base import Kind

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    vae.KIND,
    autoencoder.KIND,
    iwae.KIND,
)}
__all__ = ["KINDS", "Kind"]
