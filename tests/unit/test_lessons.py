"""The lessons' computations on the bundled models: each caption's numbers come from the arrays its figure draws, and
what a caption or answer claims holds on those arrays."""

from __future__ import annotations

import re

import numpy as np
import pytest

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.compare import prior_fit, prior_radius
from explorer.datafiles import load_dataset
from explorer.history import history_path, load_history
from explorer.latent import encode_dataset
from explorer.lessons import autoencoder, extremes, forming, paths, sampling, unusual, vectors
from explorer.lessons.common import typical_row
from explorer.neighbours import nearest_distance, neighbour_spacing
from explorer.numbers import share
from explorer.reader import reader_for
from explorer.vectors import class_reader
from explorer.scoring import score_images


@pytest.fixture(scope="module")
def data():
    return load_dataset("mnist5k")


@pytest.fixture(scope="module")
def bundled(data):
    """name -> (checkpoint, test latents), loaded once."""
    found = {}

    def get(name: str):
        if name not in found:
            checkpoint = load_checkpoint(bundled_checkpoints()[name])
            found[name] = checkpoint, encode_dataset(checkpoint.model, data, "test")
        return found[name]

    return get


def test_a_typical_row_is_the_one_nearest_its_labels_average_code(bundled):
    _, latents = bundled("mnist5k-z16")
    row = typical_row(latents, 3)
    threes = latents.mu[latents.labels == 3]
    i = np.searchsorted(latents.index, row)
    assert latents.labels[i] == 3
    assert np.linalg.norm(latents.mu[i] - threes.mean(0)) == pytest.approx(
        np.linalg.norm(threes - threes.mean(0), axis=1).min())


def test_draws_from_a_bubble_decode_to_its_digit_and_the_caption_counts_them(bundled, data):
    checkpoint, latents = bundled("mnist5k-z16")
    b = sampling.bubble_draws(checkpoint.model, latents, typical_row(latents, 3))
    assert b.draws.shape == (8, 16) and b.images.shape == (9, 1, 28, 28)
    assert np.allclose(b.sigma, np.exp(0.5 * latents.logvar[np.searchsorted(latents.index, b.row)]))
    assert np.all(np.abs(b.draws - b.mu) > 0)  # draws, not the mean
    text = sampling.draws_caption(b, data.label_names)
    same = int((b.read_as == 3).sum())
    assert same == 8 and f"{same} of 8 read as a 3" in text
    assert f"from {b.sigma.min():.2f} to {b.sigma.max():.2f}" in text


def test_prior_samples_land_where_the_2d_models_bubbles_are(bundled):
    checkpoint, latents = bundled("mnist5k-z2")
    r = sampling.prior_reach(checkpoint.model, latents, 10)
    fit = prior_fit(latents, 10)
    text = sampling.reach_caption(r, 10)
    assert f"{share(fit.inside)} of the encoded images" in text and f"{share(fit.covered)} of prior draws" in text
    assert f"read as {len(set(r.read_as.tolist()))} of the 10 digits" in text and fit.covered > 0.9


def test_the_pair_shown_is_the_one_whose_coverage_differs_most_and_its_captions_say_so(bundled, data):
    reader = reader_for(data)
    sides = {dim: [autoencoder.side(n, bundled(n)[0].model, bundled(n)[1], 10, reader) for n in names]
             for dim, names in ((16, ("mnist5k-ae-z16", "mnist5k-z16")), (2, ("mnist5k-ae-z2", "mnist5k-z2")))}
    assert autoencoder.chosen([tuple(sides[16]), tuple(sides[2])]) == 0  # 0% against 95% beats 82% against 96%
    ae, vae = sides[16]
    text = autoencoder.norms_caption(ae, vae, 16)
    assert (f"{share(ae.fit.inside)} of the autoencoder's codes lie inside it "
            f"(median |z| {np.median(ae.norms):.1f}" in text)
    assert ae.fit.inside == 0 and vae.fit.inside > 0.95 and np.median(ae.norms) > 3 * prior_radius(16)
    other = (2, sides[2][0].fit.covered, sides[2][1].fit.covered)
    text = autoencoder.samples_caption(ae, vae, 16, other)
    assert f"in 2-D it is {share(other[1])} against {share(other[2])}" in text
    assert f"in {ae.legible} of the autoencoder's 16 and {vae.legible} of the VAE's" in text
    assert vae.legible >= ae.legible + 8  # the reader sees digits in the VAE's samples (11 of 16), not the AE's (0)


def test_the_beta_series_shows_the_kl_terms_two_extremes(bundled):
    series = []
    for name in ("mnist5k-z2-beta0", "mnist5k-z2", "mnist5k-z2-beta50"):
        checkpoint, latents = bundled(name)
        history = load_history(history_path(bundled_checkpoints()[name]), fingerprint=checkpoint.fingerprint)
        series.append(extremes.extreme(name, checkpoint, latents, history))
    zero, one, fifty = series
    assert [e.beta for e in series] == [0, 1, 50]
    assert zero.mean_sigma < 0.01 and zero.reach > 10  # no KL: bubbles shrink, means drift far out
    assert 0.01 < one.mean_sigma < 0.2 and one.reach < 3.5
    assert fifty.mean_sigma > 0.99 and fifty.reach < 0.05 and fifty.kl < 0.01  # all KL: everything on the prior
    for e in series:
        assert f"mean σ {e.mean_sigma:.3f}, 90% of means within {e.reach:.2f}" in extremes.describe(e)
        assert e.forces.mean_sigma[-1] == pytest.approx(e.mean_sigma, abs=2e-3)  # the history ends at the model
    text = extremes.forces_caption(series)
    assert f"β 0: |μ| {zero.forces.mean_abs_mu[-1]:.2f}, σ {zero.forces.mean_sigma[-1]:.3f}" in text


def test_every_step_from_a_3_to_an_8_lies_among_the_encoded_images(bundled, data):
    checkpoint, latents = bundled("mnist5k-z16")
    lesson = paths.path_lesson(checkpoint.model, latents, class_reader(reader_for(data)))
    assert lesson.spacing == pytest.approx(neighbour_spacing(latents))
    for p in lesson.paths:
        assert np.allclose(p.distances, nearest_distance(latents, p.z), atol=1e-5)
        assert p.distances.max() <= lesson.spacing  # the answer's claim, on this model
        assert p.read_as[0] == 3 and p.read_as[-1] == 8
        text = paths.path_caption(lesson, p, data.label_names, data.labels)
        assert f"{p.distances.min():.2f} to {p.distances.max():.2f}" in text
        assert "reads the steps as " + " ".join(str(i) for i in p.read_as) in text
        assert "the nearest test images are labelled " + " ".join(str(data.labels[r]) for r in p.nearest) in text


def test_the_map_forms_over_the_recorded_epochs(bundled):
    checkpoint, latents = bundled("mnist5k-z2")
    history = load_history(history_path(bundled_checkpoints()["mnist5k-z2"]), fingerprint=checkpoint.fingerprint)
    assert history.epochs.tolist() == [*range(11), *range(15, 81, 5)]
    assert np.allclose(history.mu[-1], latents.mu, atol=5e-3)  # the last frame is the bundled model (float16)
    stages = forming.stages(history)
    untrained, last = stages[0], stages[-1]
    assert untrained.mean_sigma > 0.9 and untrained.reach < 0.5
    assert last.agreement > untrained.agreement + 0.3 and last.mean_sigma < 0.1 and last.reach < 3
    assert [history.epochs[i] for i in forming.small_multiples(history)] == [0, 5, 10, 80]
    assert forming.stage_caption(untrained).startswith(
        f"Before training: 90% of the means within {untrained.reach:.2f} of the origin, "
        f"mean σ {untrained.mean_sigma:.2f}")


def test_the_bold_vector_on_glyphs_makes_a_regular_glyph_bold_and_the_captions_read_the_score():
    glyphs = load_dataset("glyphs")
    checkpoint = load_checkpoint(bundled_checkpoints()["glyphs-z16"])
    lesson = vectors.vector_lesson(checkpoint.model, glyphs, encode_dataset(checkpoint.model, glyphs, "test"),
                                   reader_for(glyphs), "bold")
    s = lesson.strip
    assert glyphs.factor("bold").values[s.row] == 0  # a regular glyph, made bold: judged by the reader
    assert s.measured[0] < 0.1 and s.measured[-1] > 0.9 and s.kept == 9
    text = vectors.strip_caption(lesson, glyphs.label_names, "character")
    own = glyphs.label_names[s.read_as[4]]
    assert (f"from {share(s.measured[0])} to {share(s.measured[-1])}, rising at {s.rises} of 8 steps" in text
            and f"9 of 9 images as '{own}'" in text and f"of the {lesson.with_count:,} bold test glyphs" in text)
    plus = lesson.score.at(2)
    assert plus.moved >= 0.9 and plus.kept >= 0.7  # checkpoints/README: 100% bolder, 79% kept at +2
    assert (f"at +2 on {plus.images} regular test glyphs, {share(plus.moved)} read as more bold, "
            f"{share(plus.kept)} kept" in vectors.score_caption(lesson, "character"))


def test_unusual_images_fall_outside_the_data_and_the_blank_one_above_it(bundled, data):
    checkpoint, latents = bundled("mnist5k-z16")
    reference = score_images(checkpoint.model, data, data.test_index, k=100)
    v = unusual.verdicts(checkpoint.model, data.images[typical_row(latents, 3)], reference)
    scores = dict(zip(v.names, v.log_px))
    assert scores["noise"] < reference.log_px.min() and scores["an inverted digit"] < reference.log_px.min()
    assert scores["a blank image"] > reference.log_px.max()
    assert "a blank image" in unusual.caveat(v)
    text = unusual.caption(v)
    assert f"{int(v.flagged.sum())} of 4 are flagged" in text
    assert re.search(r"a blank image: −\d+ nats, above every test digit", text)


def test_the_glossarys_prior_ball_radii_are_the_priors():
    from explorer.glossary import TERMS

    assert f"{prior_radius(2):.1f} in 2-D, {prior_radius(16):.1f} in 16-D" in TERMS["99% ball"]


def test_a_split_of_a_few_images_gets_a_stage_with_fewer_neighbours():
    """A visitor's tiny upload (2 test images) trained on the Train page: its live maps are captioned, not crashed
    (the hostile pass: IndexError in agreement, asking 5 neighbours of 2 means)."""
    from explorer.latent import Latents
    from explorer.lessons.forming import stage, stage_caption

    two = Latents(np.array([[0.0, 0.0], [1.0, 1.0]], np.float32), np.zeros((2, 2), np.float32), np.array([0, 1]),
                  np.array([3, 4]))
    caption = stage_caption(stage(1, two))
    assert "0% of images share their label with most of their nearest mean" in caption
    one = Latents(two.mu[:1], two.logvar[:1], two.labels[:1], two.index[:1])
    assert stage_caption(stage(1, one)).endswith("mean σ 1.00.")
