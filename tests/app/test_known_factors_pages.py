"""AppTest: data with known factors on the pages: scored vectors on Vectors, factor-named sliders on Generate, a
known factor colouring Explore's map."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from explorer.checkpoint import load_checkpoint
from explorer.datafiles import load_dataset
from explorer.latent import encode_dataset
from explorer.numbers import share
from explorer.reader import reader_for
from explorer.vectors import scored
from tests.app.conftest import APP, image_urls, no_exception

VECTORS, GENERATE, EXPLORE = (f"explorer/ui/pages/{name}.py" for name in ("vectors", "generate", "explore"))


def visit(page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update(params)
    return at.switch_page(page).run()


def test_vectors_open_on_bold_for_glyphs_and_show_the_score_the_library_computes():
    at = visit(VECTORS, model="glyphs-z16")
    no_exception(at)
    assert (at.selectbox(key="vec_with").value == "level:bold"
            and at.selectbox(key="vec_without").value == "level:regular")
    shown = next(m.value for m in at.markdown if "vector, scored" in m.value)
    checkpoint, dataset = load_checkpoint("checkpoints/glyphs-z16.safetensors"), load_dataset("glyphs")
    score = scored(checkpoint.model, dataset, encode_dataset(checkpoint.model, dataset, "test"), "bold",
                   reader_for(dataset))
    plus, minus = score.at(2), score.at(-2)
    assert (f"**+2** on {plus.images:,} test glyphs without it: {share(plus.moved)} measured more bold; "
            f"{share(plus.kept)} kept their character") in shown
    assert f"**−2** on {minus.images:,} test glyphs with it: {share(minus.moved)} measured less bold" in shown
    assert plus.moved > 0.9  # the vector visibly works: the bundled model's bold vector makes 9 in 10 bolder
    assert len(image_urls(at, "vector_strip")) == 9


def test_vectors_open_on_ink_for_digits_measured_from_the_pixels():
    at = visit(VECTORS, model="mnist5k-z16")
    no_exception(at)
    assert at.selectbox(key="vec_with").value == "most:ink" and at.selectbox(key="vec_without").value == "least:ink"
    shown = next(m.value for m in at.markdown if "vector, scored" in m.value)
    moved = re.search(r"\*\*\+2\*\* on [\d,]+ test digits without it: (\d+)% measured more ink", shown)
    assert moved and int(moved.group(1)) >= 90
    assert any("measured by its pixels" in c.value for c in at.caption)


def test_a_group_pair_is_not_scored_and_says_how_to_get_a_score():
    at = visit(VECTORS, model="mnist5k-z16", vec_with="label: 3", vec_without="label: 8")
    no_exception(at)
    assert not any("vector, scored" in m.value for m in at.markdown)
    assert any("Choose a known or measured attribute and its opposite to have it scored" in c.value for c in at.caption)


def test_generate_names_the_factor_each_slider_moves_on_sprites():
    at = visit(GENERATE, model="sprites-z10-beta8")
    no_exception(at)
    labels = [s.label for s in at.slider if s.label.startswith("z")]
    assert len(labels) == 10
    moved = {re.search(r"moves (\w+)", label).group(1) for label in labels if "moves no" not in label}
    assert {"x", "y"} <= moved
    assert any("names the known factor it moves most" in c.value for c in at.caption)


def test_explore_colours_the_map_by_a_known_factor():
    at = visit(EXPLORE, model="sprites-z10", colour="a known factor", factor="rotation")
    no_exception(at)
    assert at.selectbox(key="factor").value == "rotation"
    assert any("Coloured by rotation, a factor the data set was made from" in c.value for c in at.caption)
    plain = visit(EXPLORE, model="mnist5k-z2")
    assert "factor" not in plain.selectbox(key="colour").options


def test_compare_shows_what_beta_buys_on_sprites():
    at = visit("explorer/ui/pages/compare.py")
    at.button(key="compare_pair_beta").click().run()
    no_exception(at)
    table = at.table[0].value
    mig = table.loc["disentanglement (MIG), 0 to 1"]
    assert float(mig["B"]) > float(mig["A"]) + 0.1  # β 8 puts x and y each in a dimension of its own; β 1 does not
    from explorer.disentanglement import mig as compute

    checkpoint, dataset = load_checkpoint("checkpoints/sprites-z10-beta8.safetensors"), load_dataset("sprites")
    latents = encode_dataset(checkpoint.model, dataset, "test")
    assert mig["B"] == f"{compute(latents.mu, tuple(f.take(latents.index) for f in dataset.factors)).score:.2f}"
    assert float(table.loc["· x: its gap, in"]["B"].split(",")[0]) > 0.4
    assert any("mutual information gap" in c.value for c in at.caption)
    unmoved = table.loc["factors no dimension moves most"]
    assert unmoved["B"] == "shape, rotation" and "shape" in unmoved["A"]  # β 8's blobs: no slider turns or reshapes
    assert set(table.loc["factors a dimension moves most (Generate)"]["B"].split(", ")) == {"x", "y", "scale"}
    assert any("No latent dimension of B moves shape or rotation most" in c.value for c in at.caption)


def test_choosing_another_attribute_sets_its_opposite_and_scores_it():
    at = visit(VECTORS, model="glyphs-z16")
    at.selectbox(key="vec_with").set_value("level:italic").run()
    no_exception(at)
    assert at.selectbox(key="vec_without").value == "level:upright"  # not italic against regular
    assert any(m.value.startswith("**italic vector, scored**") for m in at.markdown)
    at.selectbox(key="vec_with").set_value("most:width").run()
    assert at.selectbox(key="vec_without").value == "least:width"


def test_a_level_of_many_is_set_against_all_the_others_and_scored_as_the_cli_scores_it():
    at = visit(VECTORS, model="glyphs-z16")
    at.selectbox(key="vec_with").set_value("level:DejaVu Serif").run()
    no_exception(at)
    assert at.selectbox(key="vec_without").value == "not:DejaVu Serif"  # a family against every other family
    shown = next(m.value for m in at.markdown if "vector, scored" in m.value)
    checkpoint, dataset = load_checkpoint("checkpoints/glyphs-z16.safetensors"), load_dataset("glyphs")
    score = scored(checkpoint.model, dataset, encode_dataset(checkpoint.model, dataset, "test"), "DejaVu Serif",
                   reader_for(dataset))
    assert f"{share(score.at(2).moved)} measured more DejaVu Serif" in shown  # what `python -m explorer vector` says


def test_a_vector_that_barely_moves_its_attribute_is_flagged_with_its_units():
    at = visit(VECTORS, model="sprites-z10-beta8", vec_with="most rotation (a quarter)",
               vec_without="least rotation (a quarter)")
    no_exception(at)
    assert at.selectbox(key="vec_with").value == "most:rotation"
    warning = next(w.value for w in at.warning if "barely moves rotation" in w.value)
    assert re.search(r"\d+% at \+2", warning) and "the Compare page's rows" in warning  # β 8 keeps no rotation
    assert any("The strip's numbers: degrees." in c.value for c in at.caption)
    assert all(caption.endswith("°") for caption in _strip_captions(at))
    assert any("No latent dimension of this model moves the shape most" in c.value for c in at.caption)  # the blobs
    bold = visit(VECTORS, model="glyphs-z16")  # a vector that works is not flagged
    assert not any("barely moves" in w.value for w in bold.warning)
    assert not any("No latent dimension" in c.value for c in bold.caption)  # its dimensions move the character


def _strip_captions(at) -> list[str]:
    return [img.proto.imgs[0].caption for img in at.get_by_key("vector_strip").image]


def test_compare_says_when_a_model_is_shown_on_data_it_was_not_trained_on():
    at = visit("explorer/ui/pages/compare.py", compare_a="glyphs-z16", compare_b="sprites-z10")
    no_exception(at)
    assert [w.value for w in at.warning if "was trained on" in w.value] == [
        "B (sprites-z10) was trained on sprites, not glyphs: everything below shows it on glyphs, images it never "
        "saw, so its numbers and pictures say how it handles foreign data. Choose two models of the same data to "
        "compare them."]
    same = visit("explorer/ui/pages/compare.py", compare_a="sprites-z10", compare_b="sprites-z10-beta8")
    assert not any("was trained on" in w.value for w in same.warning)


def test_explore_says_when_a_links_factor_or_colouring_is_not_this_datas():
    at = visit(EXPLORE, model="glyphs-z16", colour="a known factor", factor="rotation")
    no_exception(at)
    (warning,) = [w.value for w in at.warning]
    assert "factor='rotation' is not a known factor of this model's data (bold, italic, serif, mono, family)" in warning
    assert at.selectbox(key="factor").value == "bold"
    digits = visit(EXPLORE, model="mnist5k-z2", colour="a known factor", factor="x")
    (warning,) = [w.value for w in digits.warning]
    assert "colour='a known factor' is not offered for this model" in warning and "(it has none)" in warning


def test_a_link_naming_only_the_attribute_sets_it_against_its_opposite():
    at = visit(VECTORS, model="glyphs-z16", vec_with="known: italic")
    no_exception(at)
    assert at.selectbox(key="vec_without").value == "level:upright"
    assert any(m.value.startswith("**italic vector, scored**") for m in at.markdown)


def test_a_choice_another_models_data_lacks_is_said_when_it_falls_back():
    at = visit(VECTORS, model="sprites-z10")
    at.selectbox(key="vec_with").set_value("level:heart").run()
    assert at.selectbox(key="vec_without").value == "not:heart"
    at.selectbox(key="model_name").set_value("glyphs-z16").run()
    no_exception(at)
    assert at.selectbox(key="vec_with").value == "level:bold"
    shown = [c.value.replace("\\", "") for c in at.caption]
    assert "known: heart is not a choice for this model's data, so known: bold is shown." in shown
    assert "known: not heart is not a choice for this model's data, so known: regular is shown." in shown
    at.run()
    assert not any("is not a choice" in c.value for c in at.caption)  # said once
