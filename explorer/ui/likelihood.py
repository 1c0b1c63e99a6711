"""The Likelihood page: each image's log p(x) under the model (the IWAE bound), the least likely images of the data,
and new images scored against the data's range, with a flag where they fall outside the band chosen."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.budget import MB
from explorer.checkpoint import Checkpoint
from explorer.data import to_floats
from explorer.config import FlagConfig, ScoreConfig
from explorer.datafiles import MAX_SCORED_IMAGES, images_for_model
from explorer.export import named_scores_csv, scores_csv
from explorer.glossary import define
from explorer.imaging import enlarge, png_bytes, to_uint8
from explorer.plots import score_histogram
from explorer.scoring import ImageScores, outside, percentile_of, score_array
from explorer.ui import session, sidebar, uploads, url
from explorer.ui.markup import plain
from explorer.ui.scores import affordable, image_scores
from explorer.ui.sidebar import Selection
from explorer.ui.widgets import setting_widget

UPLOAD_ANCHOR = "new-image"  # the upload's heading: where a lesson opens the page
GALLERY = 24  # images in the gallery
GALLERY_IMAGE = 84  # pixels
SCORE_UPLOAD = "score_upload"
MAX_SCORE_UPLOAD_MB = 4  # per file: a picture to score, or an .npz of 500 small images
MAX_SCORE_FILES = 100  # per upload; counted before any is read (an .npz holds more images)
GALLERY_END = "gallery_end"


@dataclass(frozen=True)
class ScoredUpload:
    names: tuple[str, ...]  # from the visitor's files: shown as text only
    images: np.ndarray  # (N, C, H, W) uint8, as the model saw them
    scores: ImageScores
    model: str  # the fingerprint of the model that scored them


@dataclass
class LikelihoodState:
    """What the Likelihood page keeps between runs."""

    scored: ScoredUpload | None = None  # the images last uploaded, with their scores
    error: str | None = None  # what was wrong with that upload

    def let_go(self) -> None:
        self.scored = None


def _on_upload(key: str, checkpoint: Checkpoint, config: ScoreConfig) -> None:
    """Callback: read and score the uploaded files; one message for whatever is wrong, and the files let go."""
    state = session.page_state(LikelihoodState)
    files = session.widget_value(key) or []
    try:
        if len(files) > MAX_SCORE_FILES:
            raise ValueError(f"That is {len(files)} files; score at most {MAX_SCORE_FILES} at once (an .npz of up to "
                             f"{MAX_SCORED_IMAGES} images counts as one), or all of them with "
                             "'python -m explorer score'.")
        large = [f for f in files if f.size > MAX_SCORE_UPLOAD_MB * MB]  # the widget's cap holds in browsers only
        if large:
            raise ValueError(f"{large[0].name!r} is {large[0].size / MB:,.1f} MB; each file to score can be "
                             f"at most {MAX_SCORE_UPLOAD_MB} MB.")
        names, images = images_for_model([(f.name, f) for f in files], checkpoint.image_shape)
        config = affordable(config, len(images))  # a link's k 5000 on 500 images is past the page's budget
        scores = score_array(checkpoint.model, images, k=config.k, seed=config.seed)
        state.scored, state.error = ScoredUpload(tuple(names), images, scores, checkpoint.fingerprint), None
    except ValueError as error:
        state.error = str(error)
    finally:
        for upload in files:
            uploads.let_go(upload, SCORE_UPLOAD)


def _gallery(selection: Selection, scores: ImageScores) -> None:
    """The least (or most) likely images of the split, with their scores and labels."""
    st.subheader("The least and the most likely images")
    end = st.radio("Show", ("least likely", "most likely"), key=GALLERY_END, horizontal=True, persist_state="session",
                   label_visibility="collapsed")
    order = np.argsort(scores.log_px)
    shown = order[:GALLERY] if end == "least likely" else order[::-1][:GALLERY]
    data = selection.dataset
    images = to_uint8(data.pixels(scores.index[shown]))
    with st.container(key="likelihood_gallery", horizontal=True, gap="small"):
        for image, i in zip(images, shown):
            # an image's caption is markdown: a label from the user's file goes in as text
            label = f" · {plain(data.label_names[int(scores.labels[i])])}" if scores.labels is not None else ""
            st.image(enlarge(image, GALLERY_IMAGE), width=GALLERY_IMAGE, output_format="PNG",
                     caption=f"{scores.log_px[i]:.0f} · row {scores.index[i]}{label}")
    st.caption(f"The {GALLERY} images of this split with the {'lowest' if end == 'least likely' else 'highest'} "
               "log p(x) bound (nats), each with its row and label. " + (
                   "These are the model's outliers: odd strokes, mislabelled or damaged images, or styles it "
                   "rarely saw."
                   if end == "least likely" else
                   "These are the simplest images to it: few, thin strokes (a likelihood favours plain images)."))


def _thumbnail(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(enlarge(image, 56))).decode()


def _scored_table(upload: ScoredUpload, reference: ImageScores, flags: FlagConfig) -> None:
    scores = upload.scores
    percentiles = percentile_of(reference.log_px, scores.log_px)
    flagged = outside(percentiles, flags.low, flags.high)
    band = tuple(np.percentile(reference.log_px, [flags.low, flags.high]))
    st.plotly_chart(score_histogram(reference.log_px, "log p(x)", band, scores.log_px, flagged), key="upload_histogram")
    rows = {
        "#": np.arange(1, len(scores.log_px) + 1),
        "image": [_thumbnail(i) for i in to_uint8(to_floats(upload.images))],
        "file": list(upload.names),  # the visitor's own file names: a dataframe shows them as text
        "log p(x)": np.round(scores.log_px, 1),
        "percentile": np.round(percentiles, 1),
        "flag": ["outside" if f else "" for f in flagged],
        "ELBO": np.round(scores.elbo, 1),
        "reconstruction": np.round(scores.recon, 1),
        "KL": np.round(scores.kl, 1),
    }
    st.dataframe(rows, key="upload_scores", hide_index=True, row_height=60,
                 column_config={"image": st.column_config.ImageColumn("image", width="small")})
    st.caption(f"{int(flagged.sum())} of {len(flagged)} flagged: their log p(x) falls outside percentiles "
               f"{flags.low:g} to {flags.high:g} of the data's, {band[0]:.1f} to {band[1]:.1f} nats (the shaded "
               "ends of the histogram are where an image is flagged; one far outside is drawn at the edge, with its "
               "score on hover). The percentile is the share of the data's images that score at or below the image. "
               "Each score is an estimate from random samples: at small k, an image's bound can come out a little "
               "below its one-sample ELBO.")


def _upload(selection: Selection, reference: ImageScores, config: ScoreConfig) -> None:
    st.subheader("Does a new image look like the data?", anchor=UPLOAD_ANCHOR)
    channels, height, width = selection.checkpoint.image_shape
    st.file_uploader(
        "Upload PNG or JPEG images, or an .npz of them", type=["png", "jpg", "jpeg", "npz"],
        accept_multiple_files=True, max_upload_size=MAX_SCORE_UPLOAD_MB,
        key=(key := uploads.key(SCORE_UPLOAD)), on_change=_on_upload,
        args=(key, selection.checkpoint, config),
        help=f"Up to {MAX_SCORED_IMAGES} images. Each picture is made {'grey' if channels == 1 else 'RGB'} and "
             f"resized to {width}x{height}, the model's size; an .npz must hold images of exactly that shape. "
             "They stay in your session only.",
    )
    state = session.page_state(LikelihoodState)
    if state.error:
        st.error(plain(state.error))
    _blank_caveat(selection.checkpoint, reference, config)
    cols = st.columns(2)
    flags = FlagConfig(low=setting_widget(FlagConfig, "low", cols[0], prefix="flag"),
                       high=setting_widget(FlagConfig, "high", cols[1], prefix="flag"))
    upload = _rescored(state.scored, selection.checkpoint, config)
    if upload is None:
        st.caption("MNIST-like models expect a light digit on a dark background; a dark digit on white is, rightly, "
                   "unlike the data.")
        return
    if upload.scores.k != config.k:
        st.info(f"Your {len(upload.images):,} images were scored at k = {upload.scores.k}: k = {config.k} on them is "
                "more than this shared server computes for a page. 'python -m explorer score' scores any k.")
    _scored_table(upload, reference, flags)
    st.download_button("Your images' scores (CSV)", lambda: named_scores_csv(upload.names, upload.scores),
                       file_name=f"{selection.file_stem}-uploads.csv", mime="text/csv", key="upload_scores_csv",
                       on_click="ignore")


def _blank_caveat(checkpoint: Checkpoint, reference: ImageScores, config: ScoreConfig) -> None:
    """Why the band has an upper end, measured on this model: where a blank image scores among the data."""
    if checkpoint.model_config.conditional:
        return  # it scores p(x | label), and a blank image has no label
    blank = score_array(checkpoint.model, np.zeros((1, *checkpoint.image_shape), np.uint8), k=config.k,
                        seed=config.seed).log_px[0]
    above = percentile_of(reference.log_px, np.array([blank]))[0]
    text = (f"On this model a blank image scores {blank:,.1f} nats, higher than {above:.1f}% of the split's images. "
            "A likelihood rewards images that are easy to predict, and nothing is easier than a blank one: a high "
            "log p(x) does not mean 'like the data', which is why images above the band are flagged too.")
    (st.warning if above > 50 else st.caption)(text, **({"icon": ":material/warning:"} if above > 50 else {}))


def _rescored(upload: ScoredUpload | None, checkpoint: Checkpoint, config: ScoreConfig) -> ScoredUpload | None:
    """The visitor's scored images, scored again when the model or k changed (a second or less); None if there are
    none, or they do not fit this model (said on the page)."""
    if upload is not None:
        config = affordable(config, len(upload.images))
    if upload is None or (upload.model == checkpoint.fingerprint and upload.scores.k == config.k):
        return upload
    if upload.images.shape[1:] != tuple(checkpoint.image_shape) or checkpoint.model_config.conditional:
        st.info("Your images were scored by another model, and do not fit this one: upload them again to score them "
                "with it.")
        return None
    state = session.page_state(LikelihoodState)
    state.scored = ScoredUpload(upload.names, upload.images,
                                score_array(checkpoint.model, upload.images, k=config.k, seed=config.seed),
                                checkpoint.fingerprint)
    return state.scored


def render() -> None:
    if (page := sidebar.data_page("Likelihood: how typical is each image?")) is None:
        return
    selection, latents = page
    if latents.logvar is None:
        st.info("This model is a plain autoencoder: it encodes each image to one point, not a distribution, so it "
                "gives no likelihood p(x). Choose a VAE in the sidebar.")
        sidebar.publish(selection, {})
        return
    config = ScoreConfig(k=setting_widget(ScoreConfig, "k", st.columns(2)[0], choices=url.offered(ScoreConfig, "k")))
    scores = image_scores(selection, config)
    st.plotly_chart(score_histogram(scores.log_px, "log p(x)"), key="likelihood_histogram")
    st.caption(f"log p(x) of each of the {len(scores.log_px):,} images of the {selection.split} split, as the "
               f"importance-weighted bound with k = {scores.k} samples (Burda et al. 2016): a lower bound that "
               f"tightens as k grows (k = 1 is the ELBO). Median {float(np.median(scores.log_px)):.1f} nats.",
               help=define("log p(x)", "IWAE bound", "ELBO", "nats"))
    names = selection.dataset.label_names
    # Made on the click, with no rerun: a rerun renews the file id the click is fetching.
    st.download_button("The data's scores (CSV)", lambda: scores_csv(scores, names), on_click="ignore",
                       file_name=f"{selection.file_stem}-{selection.split}-scores-k{scores.k}.csv", mime="text/csv",
                       key="scores_csv", help="Row, label, log p(x), ELBO, reconstruction and KL of every image of "
                                              "the split (what 'python -m explorer score' writes).")
    _gallery(selection, scores)
    _upload(selection, scores, config)
    sidebar.publish(selection, url.settings_link(config))
