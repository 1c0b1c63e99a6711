"""What the pages share: read-only bundled models, data sets and latents, cached once per server."""

from __future__ import annotations

import streamlit as st

from explorer.checkpoint import Checkpoint, bundled_checkpoints, load_checkpoint
from explorer.data import ImageDataset, load_dataset
from explorer.latent import Latents, encode_dataset

DEFAULT_MODEL = "mnist5k-z2"


@st.cache_resource(show_spinner="Loading the model ...")
def bundled_model(name: str) -> Checkpoint:
    """A bundled checkpoint, shared by every visitor: used for inference only, never trained in place."""
    return load_checkpoint(bundled_checkpoints()[name])


@st.cache_resource(show_spinner="Loading the data ...")
def dataset(name: str) -> ImageDataset:
    return load_dataset(name)


@st.cache_resource(show_spinner="Encoding the data ...")
def latents(fingerprint: str, _checkpoint: Checkpoint, _dataset: ImageDataset, split: str) -> Latents:
    """Latent means per (weights, data, split); arrays are cached as resources, never pickled."""
    return encode_dataset(_checkpoint.model, _dataset, split)
