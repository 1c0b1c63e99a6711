"""AppTest: a shared link restores the view; a tampered one falls back to defaults with a notice."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from explorer.datafiles import load_dataset
from explorer.ui.markup import ZERO_WIDTH
from tests.app.conftest import APP, image_urls, no_exception, select_points

TEST_ROWS = load_dataset("mnist5k").test_index


def open_link(models_dir, monkeypatch, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(models_dir))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({k: str(v) for k, v in params.items()})
    if page:
        at.run()
        at.switch_page(page)
    return at.run()


def test_a_link_restores_model_projection_picks_and_path(models_dir, monkeypatch):
    a, b = TEST_ROWS[3], TEST_ROWS[400]
    at = open_link(models_dir, monkeypatch, model="mnist5k-z16", proj="t-SNE", perp=30, seed=0,
                   picks=f"{a},{b}", interp="spherical (slerp)", steps=6)
    no_exception(at)
    assert at.selectbox(key="model_name").value == "mnist5k-z16" and at.selectbox(key="proj").value == "tsne"
    assert at.slider(key="perp").value == 30 and at.radio(key="interp").value == "slerp"
    assert at.slider(key="steps").value == 6
    assert at.session_state["visitor"].picks == [a, b] and len(image_urls(at, "interp_strip")) == 8
    assert not at.warning  # nothing in the link was refused
    # The shipped t-SNE map was used: its path placement is by neighbours, so approximate.
    assert any("approximate" in c.value for c in at.caption)


def share_link(at: AppTest) -> str:
    return [c.value for c in at.sidebar.code][-1]


def test_the_share_link_follows_the_view(app):
    at = app()
    select_points(at, TEST_ROWS[0])
    select_points(at, TEST_ROWS[1])
    at.radio(key="interp").set_value("slerp").run()
    at.slider(key="steps").set_value(7).run()
    link = share_link(at)
    assert f"picks={TEST_ROWS[0]}%2C{TEST_ROWS[1]}" in link and "model=mnist5k-z2" in link
    assert "interp=spherical+%28slerp%29" in link and "steps=7" in link and "proj=" not in link  # identity: default
    at.selectbox(key="proj").set_value("umap").run()
    at.slider(key="nn").set_value(30).run()
    assert "proj=UMAP" in share_link(at) and "nn=30" in share_link(at) and "md=" not in share_link(at)
    assert at.query_params["picks"] == f"{TEST_ROWS[0]},{TEST_ROWS[1]}" and at.query_params["model"] == "mnist5k-z2"


def test_projection_parameters_survive_a_switch_and_back(app):
    at = app()
    at.selectbox(key="model_name").set_value("mnist5k-z16").run()
    at.selectbox(key="proj").set_value("umap").run()
    at.slider(key="nn").set_value(30).run()
    at.number_input(key="seed").set_value(1).run()
    at.selectbox(key="proj").set_value("pca").run()
    assert "nn=" not in share_link(at)
    at.selectbox(key="proj").set_value("umap").run()
    assert at.slider(key="nn").value == 30 and at.number_input(key="seed").value == 1
    assert "nn=30" in share_link(at) and "seed=1" in share_link(at)
    at.selectbox(key="proj").set_value("tsne").run()
    assert at.number_input(key="seed").value == 1
    at.switch_page("explorer/ui/pages/generate.py").run()
    at.switch_page("explorer/ui/pages/explore.py").run()
    assert at.selectbox(key="proj").value == "tsne" and at.number_input(key="seed").value == 1


@pytest.mark.parametrize(
    "params, notice",
    [
        (dict(model="../../etc/passwd"), "the model '../../etc/passwd' is not one of this server's models"),
        (dict(model="/work/main/checkpoints/mnist5k-z16.safetensors"), "is not one of this server's models"),
        (dict(split="evil"), "split='evil' is not one of test, train, all"),
        (dict(proj="UMAP", nn="abc"), "nn='abc' is not a whole number from 2 to 100"),
        (dict(md="nan"), "md='nan' is not a number"),
        (dict(steps="1000"), "steps='1000' is not a whole number from 3 to 24"),
        (dict(picks="99999999,x"), "picks='99999999,x' is not one or two image numbers (picks=3,41)"),
        (dict(picks="99999999999999999999999,1"), "the picked points are not in this model's data split"),
        (dict(picks="4,0"), "the picked points are not in this model's data split"),  # row 0 is a training image
        (dict(interp="cubic"), "interp='cubic' is not one of linear, spherical (slerp)"),
        (dict(model="mnist5k-z16", proj="Identity (z0, z1)"),
         "proj='Identity (z0, z1)' is not one of PCA, UMAP, t-SNE"),
        (dict(model="![x](http://host/t.png)"), "the model '![x](http://host/t.png)' is not one of"),
        (dict(nn="[log in again](http://host)"), "nn='[log in again](http:…' is not a whole number"),
        (dict(z="1,2"), "'z' is not a setting of this app"),  # an older link's format
    ],
)
def test_tampered_links_fall_back_to_defaults_with_a_notice(models_dir, monkeypatch, params, notice):
    at = open_link(models_dir, monkeypatch, **params)
    no_exception(at)
    shown = [re.sub(r"\\(.)", r"\1", w.value).replace(ZERO_WIDTH, "") for w in at.warning]  # as rendered
    assert any(notice in text for text in shown), shown
    assert not any(re.search(r"(?<!\\)[\[\]!]", w.value) for w in at.warning)  # a link's text is never markup
    assert at.session_state["visitor"].picks == []
    assert len(at.get("plotly_chart")) == 1  # the default view still shows its map
    kept = {"model": "mnist5k-z16", "proj": "UMAP"}  # valid: they stay
    assert all(at.query_params.get(k) != v for k, v in params.items() if kept.get(k) != v), at.query_params
    at.button(key="url_notices_ok").click().run()
    assert not at.warning


def test_a_generate_link_sets_the_sliders_and_label(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/generate.py", model="digits-cvae",
                   z0="1.5", z1="-2", label="7")
    no_exception(at)
    assert [at.slider(key="z0").value, at.slider(key="z1").value] == [1.5, -2.0]
    assert at.selectbox(key="label").value == 7 and not at.warning


def test_a_generate_link_with_the_wrong_number_of_values(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/generate.py", z0="9", z1="x")
    assert any("z0='9' is not a number from -4 to 4" in w.value and "z1='x'" in w.value for w in at.warning)
    assert [at.slider(key="z0").value, at.slider(key="z1").value] == [0.0, 0.0]


def test_an_autoencoders_link_may_reach_its_codes_beyond_the_priors_range(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/generate.py", model="mnist5k-ae-z2", z0="9",
                   z1="-40")
    assert at.slider(key="z0").value == 9.0
    assert any("z1='-40' is not a number from -32 to 32" in w.value for w in at.warning)  # its codes reach 31.1
    assert not any("z0=" in w.value for w in at.warning)


def test_a_link_for_dimensions_or_a_label_this_model_lacks_says_so():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(model="mnist5k-z2", z1="1.5", z7="2", z15="1", label="3")
    at.switch_page("explorer/ui/pages/generate.py").run()
    (warning,) = [w.value for w in at.warning]
    assert "z7, z15 are not dimensions of this 2-D model" in warning
    assert "label= only chooses what a conditional model draws, and this model is not one" in warning
    assert at.slider(key="z1").value == 1.5  # what the model has is kept


PAGES = ("explore", "generate", "vectors", "compare", "likelihood", "train", "lessons")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_offers_its_link(app, page):
    at = app()
    at.switch_page(f"explorer/ui/pages/{page}.py").run()
    no_exception(at)
    boxes = [p for p in at.sidebar.get("popover") if p.proto.popover.label == "Share this view"]
    assert len(boxes) == 1 and boxes[0].code  # the link (AppTest has no host: a page at its defaults is empty)


def test_the_train_page_names_what_its_link_could_not_use(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/train.py", model="[x](javascript:alert(1))",
                   colourful="1", picks="12,12")
    (warning,) = [w.value for w in at.warning]
    assert "is not one of this server's models" in warning and "colourful" in warning  # a known prefix, not a key
    assert "colourful" not in at.query_params


def test_a_link_picking_one_point_twice_picks_it_once(models_dir, monkeypatch):
    row = int(TEST_ROWS[3])
    at = open_link(models_dir, monkeypatch, picks=f"{row},{row}")
    assert at.session_state["visitor"].picks == [row] and not at.warning


@pytest.mark.parametrize("k, used", [(300, 300), (5000, 5000), (10, 10)])
def test_a_likelihood_link_keeps_any_k_its_declaration_allows(models_dir, monkeypatch, k, used):
    at = open_link(models_dir, monkeypatch, page="explorer/ui/pages/likelihood.py", k=k)
    no_exception(at)
    assert at.select_slider(key="k").value == used and at.query_params["k"] == str(used)
    assert not any("This link had settings" in w.value for w in at.warning)  # nothing in the link was refused
    if k > 500:  # more than the page computes on a shared server: said, and the CLI named
        assert any(f"k = {k} on 1,000 images" in i.value for i in at.info)


def test_a_link_opens_a_pacmap_map_with_its_parameters(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, model="mnist5k-z16", proj="PaCMAP", pnn=12, mn=1.0, seed=3)
    no_exception(at)
    assert at.selectbox(key="proj").value == "pacmap" and at.slider(key="pnn").value == 12
    assert at.slider(key="mn").value == 1.0 and "by PaCMAP" in at.caption[0].value
    assert "pnn=12" in share_link(at) and "proj=PaCMAP" in share_link(at)


def test_a_fractional_whole_number_in_a_link_is_said_as_the_number_shown(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, model="mnist5k-z16", proj="PaCMAP", pnn="12.7")
    no_exception(at)
    (warning,) = [w.value for w in at.warning]
    assert "pnn='12.7' is not a whole number; 12, its whole part, is shown" in warning
    assert at.slider(key="pnn").value == 12  # as Streamlit's bound slider reads it


def test_a_session_models_link_carries_no_picks_or_groups(app):
    """It opens the default model, where the rows of this model's picks and groups are other images."""
    from explorer.checkpoint import bundled_checkpoints, load_checkpoint
    from explorer.groups import make_group

    at = app()
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
    at.session_state["visitor"].models["uploaded: mine.safetensors"] = checkpoint
    at.run()
    at.selectbox(key="model_name").set_value("uploaded: mine.safetensors").run()
    select_points(at, TEST_ROWS[0])
    kept = at.session_state["visitor"].groups.setdefault(load_dataset("mnist5k").fingerprint, {})
    kept["mine"] = make_group("mine", TEST_ROWS[:5])
    select_points(at, TEST_ROWS[1])
    link = share_link(at)
    assert at.session_state["visitor"].picks == [TEST_ROWS[0], TEST_ROWS[1]]
    assert "model=" not in link and "picks=" not in link and "groups=" not in link
    assert any("without your picks and groups" in c.value for c in at.sidebar.caption)
    assert "picks" not in at.query_params and "groups" not in at.query_params


def test_a_link_asking_pacmap_for_no_far_pairs_is_told_and_shown_the_default(models_dir, monkeypatch):
    at = open_link(models_dir, monkeypatch, model="mnist5k-z16", proj="PaCMAP", fp=0)
    no_exception(at)
    (warning,) = [w.value for w in at.warning]
    assert "fp" in warning and at.slider(key="fp").value == 2.0
