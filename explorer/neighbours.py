"""Distances in latent space: how far points lie from the encoded images, how far those lie from each other, and the
class a point's nearest encoded images give it (how a decoded image's class is read back: re-encode it, ask its
neighbours)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.latent import Latents
from explorer.model import VAE, evaluating

NEIGHBOURS = 5  # a point's class: the most common label among the encoded test images nearest it


def _tree(latents: Latents):
    from scipy.spatial import cKDTree

    return cKDTree(np.asarray(latents.mu, np.float64))


def nearest(latents: Latents, points: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(S, k) distances to, and positions of, the k encoded means nearest each point, nearest first."""
    distances, where = _tree(latents).query(np.asarray(points, np.float64), k=k)
    return distances.reshape(len(points), k), where.reshape(len(points), k)


def nearest_distance(latents: Latents, points: np.ndarray) -> np.ndarray:
    """(S,) how far each point lies from the nearest encoded mean."""
    return nearest(latents, points)[0][:, 0]


def neighbour_spacing(latents: Latents) -> float:
    """The median distance from an encoded mean to the nearest other one: how close the data lie to each other."""
    return float(np.median(nearest(latents, latents.mu, k=2)[0][:, 1]))  # the first is the mean itself


def majority(votes: np.ndarray) -> np.ndarray:
    """(S,) the most common label in each row of (S, k) labels."""
    return np.array([np.bincount(row).argmax() for row in votes])


def read_labels(latents: Latents, points: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """(S,) the most common label among the k encoded means nearest each point."""
    return majority(latents.labels[nearest(latents, points, k)[1]])


@torch.no_grad()
def reencode(model: VAE, images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) decoded images in [0, 1] -> (N, D) their encoded means: where the model puts what it drew."""
    x = torch.as_tensor(np.asarray(images, np.float32), device=next(model.parameters()).device)
    with evaluating(model):
        return model.encode(x, None)[0].cpu().numpy()
