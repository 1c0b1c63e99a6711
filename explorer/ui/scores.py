"""Per-image scores on a page: computed once per model, data, split and k (resources), with a progress bar the first
time. Shared by the Explore map's colouring and the Likelihood page."""

from __future__ import annotations

import streamlit as st

from explorer.config import MapConfig, ScoreConfig
from explorer.scoring import ImageScores
from explorer.settings import specs
from explorer.ui import resources
from explorer.ui.sidebar import Selection

SCORE_NAMES = specs(MapConfig)["colour"][1].names  # the scores' names, as the colour widget shows them


def image_scores(selection: Selection, config: ScoreConfig) -> ImageScores:
    """The split's scores: at once from the cache, else computed now under a progress bar."""
    where = (selection.checkpoint, selection.dataset, selection.split, config)
    ready = resources.ready_image_scores(*where)
    if ready is not None:
        return ready
    count = len(selection.dataset.split_index(selection.split))
    text = f"Scoring {count:,} images: log p(x) with k = {config.k} importance samples each"
    bar = st.progress(0.0, text=text)
    result = resources.image_scores(*where, progress=lambda share: bar.progress(share, text=f"{text}: {share:.0%}"))
    bar.empty()
    return result
