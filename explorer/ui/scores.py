"""Per-image scores on a page: computed once per model, data, split and k (resources), with a progress bar the first
time. Shared by the Explore map's colouring and the Likelihood page."""

from __future__ import annotations

import dataclasses

import streamlit as st

from explorer.config import MapConfig, ScoreConfig
from explorer.scoring import ImageScores
from explorer.settings import specs
from explorer.ui import resources
from explorer.ui.sidebar import Selection

SCORE_NAMES = specs(MapConfig)["colour"][1].names  # the scores' names, as the colour widget shows them
# Decodes one page may ask of a shared server: images times k (1,000 test images at k 500, or all 5,000 at k 200);
# beyond, k is lowered with a notice and the CLI scores any k.
MAX_DECODES = 1_000_000


def affordable(config: ScoreConfig, images: int) -> ScoreConfig:
    """The settings with k lowered, to the largest k the widget offers, until the work fits MAX_DECODES."""
    if config.k * images <= MAX_DECODES:
        return config
    ticks = specs(ScoreConfig)["k"][1].ticks
    return dataclasses.replace(config, k=max([t for t in ticks if t * images <= MAX_DECODES], default=ticks[0]))


def image_scores(selection: Selection, config: ScoreConfig) -> ImageScores:
    """The split's scores: at once from the cache, else computed now under a progress bar. The returned scores' k
    may be lower than asked for (affordable), and the page says so."""
    count = len(selection.dataset.split_index(selection.split))
    asked, config = config, affordable(config, count)
    if config.k != asked.k:
        st.info(f"k = {asked.k} on {count:,} images is more than this shared server computes for a page; scored at "
                f"k = {config.k}. 'python -m explorer score --k {asked.k}' scores any k.")
    where = (selection.checkpoint, selection.dataset, selection.split, config)
    ready = resources.ready_image_scores(*where)
    if ready is not None:
        return ready
    text = f"Scoring {count:,} images: log p(x) with k = {config.k} importance samples each"
    bar = st.progress(0.0, text=text)
    result = resources.image_scores(*where, progress=lambda share: bar.progress(share, text=f"{text}: {share:.0%}"))
    bar.empty()
    return result
