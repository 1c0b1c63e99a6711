"""AppTest: the train page starts, watches, stops and hands over runs; bad data and diverging runs are handled."""

from __future__ import annotations

import io
import json
import re
import time

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.checkpoint import bundled_checkpoints, load_checkpoint
from explorer.datafiles import load_dataset
from explorer.history import history_path, load_history
from explorer.lessons import forming
from explorer.ui import resources
from tests.app.conftest import no_exception

PAGE = "explorer/ui/pages/train.py"


def open_train(app, **settings):
    at = app()
    at.switch_page(PAGE).run()
    no_exception(at)
    at.selectbox(key="train_data").set_value(settings.pop("data", "digits"))
    at.number_input(key="train_epochs").set_value(settings.pop("epochs", 2))
    for key, value in settings.items():
        at.get_by_key(key).set_value(value)
    return at.run()


def progress_step(at) -> int:
    texts = [p.proto.text for p in at.get("progress")]
    match = re.search(r"step ([\d,]+)/", texts[0]) if texts else None
    return int(match.group(1).replace(",", "")) if match else 0


def wait_until_finished(at, timeout=120):
    """Rerun as the browser's polling would, until Start is enabled again (the run has ended)."""
    deadline = time.monotonic() + timeout
    while at.button(key="train_start").proto.disabled:
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
        at.run()
    return at


def test_every_setting_given_a_column_is_drawn_in_one():
    from explorer.config import ModelConfig, TrainConfig
    from explorer.settings import specs
    from explorer.ui.train import PANELS, drawn

    named = {spec.panel for config_type in (ModelConfig, TrainConfig) for _, spec in specs(config_type).values()}
    assert named - {None} == set(PANELS) and all(drawn(panel) for panel in PANELS)
    assert [name for _, name, _ in drawn("network")] == ["kind", "arch", "latent_dim"]  # kind first: it greys others


def test_start_watch_stop_and_use_the_model(app):
    at = open_train(app, epochs=200)
    at.button(key="train_start").click().run()
    no_exception(at)
    assert at.button(key="train_start").proto.disabled and not at.button(key="train_stop").proto.disabled
    steps = []
    for _ in range(3):
        time.sleep(0.6)
        at.run()
        steps.append(progress_step(at))
    assert steps[0] < steps[1] < steps[2], steps  # the metrics grow while it runs
    assert at.get_by_key("train_live") is not None
    at.button(key="train_stop").click().run()
    at = wait_until_finished(at)
    assert any(w.value.startswith("Stopped after") for w in at.warning)
    at.button(key="train_use").click().run()
    no_exception(at)
    assert at.session_state["model_name"].startswith("trained: digits z2")
    at.switch_page("explorer/ui/pages/explore.py").run()
    no_exception(at)
    assert "MLP VAE · 2-D latent" in at.sidebar.caption[0].value and len(at.get("plotly_chart")) == 1


def test_a_finished_run_can_be_saved_and_downloaded(app, models_dir):
    at = open_train(app, epochs=1)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    assert [s.value for s in at.success] == ["Training finished."]
    assert at.download_button(key="train_download").proto.label.startswith("Download")
    for bad, message in (("../evil", "not a usable name"), ("mnist5k-z2", "already exists")):
        at.text_input(key="train_save_name").set_value(bad).run()
        at.button(key="train_save").click().run()
        assert any(message in e.value for e in at.error), bad
    at.text_input(key="train_save_name").set_value("digits-from-test").run()
    at.button(key="train_save").click().run()
    saved = models_dir / "digits-from-test.safetensors"
    assert saved.exists() and load_checkpoint(saved).dataset == "digits"
    assert at.selectbox(key="model_name").value == "digits-from-test"  # saved, and now the one in use
    assert at.query_params["model"] == "digits-from-test"
    (link,) = [c.value for c in at.sidebar.code]  # the share box names it, with nothing about a session's copy
    assert "model=digits-from-test" in link and not any("lives only in your session" in c.value for c in at.caption)
    at.text_input(key="train_save_name").set_value("digits-again").run()
    at.button(key="train_save").click().run()  # the same run again: saved once, whatever the name
    assert any("saved already, as 'digits-from-test'" in e.value for e in at.error)
    assert not (models_dir / "digits-again.safetensors").exists()
    saved.unlink()


def test_a_run_past_the_memory_budget_is_refused_before_it_starts(app, monkeypatch):
    import explorer.budget

    at = open_train(app, epochs=1, train_batch_size=512)
    monkeypatch.setattr(explorer.budget, "PER_VISITOR_BYTES", 12 * 2**20)  # digits: 5 MB of state, 14 MB of batch
    at.button(key="train_start").click().run()
    no_exception(at)
    (message,) = [e.value for e in at.error]
    assert message.startswith("This model cannot train on this server: A batch of 512 needs") and "or less" in message
    assert not at.button(key="train_start").proto.disabled  # no run began


def test_a_diverging_run_says_so_and_keeps_a_usable_model(app):
    at = open_train(app, epochs=20, train_lr=10.0)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    assert any("Training diverged at step" in e.value for e in at.error)
    use = at.button(key="train_use")
    assert use.proto.type == "secondary" and use.label == "Use its weights from before it diverged"  # not promoted
    use.click().run()
    no_exception(at)


def npz_payload(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_bad_data_gets_the_librarys_message_and_changes_nothing(app):
    at = open_train(app)
    at.file_uploader(key="train_upload").set_value(("bad.npz", npz_payload(images=np.full((5, 8, 8), np.nan)),
                                                    "application/octet-stream")).run()
    no_exception(at)
    assert any("bad.npz: Images contain NaN or infinite values" in e.value for e in at.error)
    assert at.selectbox(key="train_data").value == "digits"


def test_uploaded_data_trains_and_its_map_shows_in_this_session(app):
    at = open_train(app)
    rng = np.random.default_rng(0)
    payload = npz_payload(images=rng.integers(0, 255, (60, 12, 12), dtype=np.uint8), labels=np.arange(60) % 3)
    at.file_uploader(key="train_upload").set_value(("mine.npz", payload, "application/octet-stream")).run()
    assert at.selectbox(key="train_data").value == "upload: mine.npz"
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    at.button(key="train_use").click().run()
    at.switch_page("explorer/ui/pages/explore.py").run()
    no_exception(at)
    assert "12 test images" in at.caption[0].value


def test_a_full_server_shows_the_place_in_line_until_a_slot_frees(app):
    queue = resources.run_queue()
    taken = [queue.enter() for _ in range(queue.capacity)]  # every slot busy, ...
    ahead = queue.enter()  # ... and another visitor already in line
    try:
        at = open_train(app, epochs=1)
        at.button(key="train_start").click().run()
        time.sleep(0.5)
        at.run()
        waiting = [i.value for i in at.info if i.value.startswith("Waiting:")]
        slots = "the one training slot" if queue.capacity == 1 else f"one of the {queue.capacity} training slots"
        assert waiting and waiting[0].startswith(f"Waiting: you are 2nd in line for {slots} on this server; ")
        queue.leave(ahead)
        at.run()
        assert any(i.value.startswith("Waiting: you are next in line") for i in at.info)
    finally:
        for ticket in (*taken, ahead):
            queue.leave(ticket)
    at = wait_until_finished(at)
    assert [s.value for s in at.success] == ["Training finished."]
    assert not any(i.value.startswith("Waiting:") for i in at.info)


def test_the_forming_map_has_a_slider_over_epochs_and_a_choice_of_projection(app):
    at = open_train(app, epochs=3, train_latent_dim=3)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    assert at.select_slider(key="snapshot_epoch").value == 3  # follows the newest epoch
    newest = [c.value for c in at.caption if "at the end of epoch 3" in c.value]
    at.select_slider(key="snapshot_epoch").set_value(1).run()
    no_exception(at)
    assert any("at the end of epoch 1" in c.value for c in at.caption) and newest
    assert at.radio(key="snapshot_method").options == ["PCA", "UMAP, aligned across epochs"]


def test_settings_survive_page_switches(app):
    at = open_train(app, epochs=5, train_latent_dim=16, train_beta=4.0, train_lr=3e-3, train_free_bits=0.5)
    at.switch_page("explorer/ui/pages/generate.py").run()
    at.switch_page(PAGE).run()
    no_exception(at)
    assert at.number_input(key="train_epochs").value == 5 and at.number_input(key="train_latent_dim").value == 16
    assert at.select_slider(key="train_beta").value == 4.0 and at.select_slider(key="train_lr").value == 3e-3
    assert at.number_input(key="train_free_bits").value == 0.5 and at.selectbox(key="train_data").value == "digits"


def test_collapsed_dimensions_are_named_on_the_page(app):
    at = open_train(app, epochs=2, train_latent_dim=8, train_beta=8.0)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    assert any(re.match(r"Posterior collapse: [5-8] of 8 latent dimensions have collapsed \(z", w.value)
               for w in at.warning)
    active = [m.value for m in at.metric if m.label == "Active dimensions"]
    assert re.fullmatch(r"[0-3] of 8", active[0])


def test_the_forming_map_starts_untrained_and_follows_a_new_run(app):
    at = open_train(app, epochs=2)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    assert at.select_slider(key="snapshot_epoch").options == ["0 (untrained)", "1", "2"]
    at.select_slider(key="snapshot_epoch").set_value(0).run()
    assert any("Test means before training" in c.value for c in at.caption)
    at.number_input(key="train_epochs").set_value(4).run()
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + 120
    while at.button(key="train_start").proto.disabled and time.monotonic() < deadline:
        captions = [c.value for c in at.caption if c.value.startswith("Test means")]
        assert not captions or "follows the newest epoch" in captions[0]  # no slider to leave behind mid-run
        time.sleep(0.3)
        at.run()
    at.run()
    assert at.select_slider(key="snapshot_epoch").value == 4  # the new run's newest, not the 0 picked before


def test_the_aligned_umap_shows_progress_can_be_cancelled_and_then_draws(app):
    at = open_train(app, epochs=3, train_latent_dim=3)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    at.radio(key="snapshot_method").set_value("umap").run()
    assert any(p.proto.text.startswith("Aligning UMAP maps across epochs") for p in at.get("progress"))
    at.button(key="cancel_alignment").click().run()
    no_exception(at)
    assert at.radio(key="snapshot_method").value == "pca"
    assert not any(p.proto.text.startswith("Aligning") for p in at.get("progress"))
    at.radio(key="snapshot_method").set_value("umap").run()
    deadline = time.monotonic() + 120
    while not any("by UMAP, aligned across epochs" in c.value for c in at.caption):
        assert time.monotonic() < deadline, "the aligned maps never came"
        time.sleep(0.5)
        at.run()
    assert not [b for b in at.button if b.key == "cancel_alignment"]  # gone once the maps are ready


def test_presets_set_the_model_kind_and_beta_in_one_click(app):
    at = open_train(app, train_latent_dim=3)
    assert at.radio(key="train_kind").value == "vae" and at.select_slider(key="train_beta").value == 1.0
    at.button(key="preset_beta_vae").click().run()
    assert at.radio(key="train_kind").value == "vae" and at.select_slider(key="train_beta").value == 4.0
    at.button(key="preset_ae").click().run()
    no_exception(at)
    assert at.radio(key="train_kind").value == "ae"
    assert at.number_input(key="train_latent_dim").value == 3  # the fields a preset does not name stay as they were
    for key in ("train_beta", "train_warmup_steps", "train_free_bits"):  # they weigh a KL term it does not have
        assert at.get_by_key(key).proto.disabled, key
    assert any("the autoencoder's loss is reconstruction alone" in c.value for c in at.caption)
    at.button(key="preset_vae").click().run()
    assert at.radio(key="train_kind").value == "vae" and at.select_slider(key="train_beta").value == 1.0
    assert not at.select_slider(key="train_beta").proto.disabled


def test_an_autoencoder_run_charts_reconstruction_alone_and_its_model_is_usable(app):
    at = open_train(app, epochs=4)  # past the epoch where a VAE's collapse would be judged
    at.button(key="preset_ae").click().run()
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    no_exception(at)
    assert [s.value for s in at.success] == ["Training finished."]
    assert any(i.value.startswith("An autoencoder has no KL term: the loss is reconstruction alone") for i in at.info)
    titles = [c.proto.spec for c in at.get_by_key("train_live").get("vega_lite_chart")]
    assert titles and not any("KL" in t or "β" in t or "ELBO" in t for t in titles), titles
    assert any("Test reconstruction per epoch" in t for t in titles)
    assert [m.label for m in at.metric] == ["Reconstruction", "Test reconstruction"]  # no KL, β or active dimensions
    assert not any("collapsed" in i.value for i in [*at.info, *at.warning])
    assert any(c.value.startswith("Test codes at the end of epoch 4") for c in at.caption)
    at.button(key="train_use").click().run()
    assert at.session_state["model_name"].startswith("trained: digits ae z2 ")  # named as what it is in the lists
    at.switch_page("explorer/ui/pages/explore.py").run()
    no_exception(at)
    assert "MLP autoencoder · 2-D latent" in at.sidebar.caption[0].value


def test_a_vae_run_shows_kls_share_of_the_loss(app):
    at = open_train(app, epochs=1)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    specs = [c.proto.spec for c in at.get_by_key("train_live").get("vega_lite_chart")]
    assert any("KL's share of the loss, %" in s for s in specs) and any("Test ELBO per epoch" in s for s in specs)


def _forces(at, title: str) -> tuple[dict, dict]:
    """The spec and data of the forces chart with this title (the KL's pull on |mu| or sigma)."""
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if spec.get("title", "").startswith(title):
            return spec, chart
    raise AssertionError(f"no chart titled {title!r}")


def _recorded_view():
    from explorer.ui.lessons import data
    from explorer.ui.train_live import recorded_view

    recorded_view(data.history(data.VAE_2D), data.dataset().label_names, data.VAE_2D, data.model(data.VAE_2D))


def test_before_any_run_the_bundled_models_recorded_training_shows_its_map_and_the_kls_two_pulls():
    """What the Train page shows while no run exists (a fresh browser session; AppTest's sessions share the
    session-scoped run holder, so the view is run on its own here, and tests/e2e/test_train_browser.py sees it on
    the page)."""
    at = AppTest.from_function(_recorded_view, default_timeout=60).run()
    no_exception(at)
    assert at.subheader[0].value == "What a run shows: the bundled model's own training"
    assert at.caption[0].value.replace("\\", "").startswith(  # the model's own recipe, from its checkpoint
        "mnist5k-z2: an MLP VAE with a 2-D latent, trained on mnist5k for 80 epochs (batch 128, learning rate 0.001, "
        "β 1); its test images' posteriors recorded 25 times, from untrained to epoch 80.")
    assert at.select_slider(key="recorded_epoch").value == 80
    _forces(at, "average |μ| per dimension: the KL pulls it to 0")
    spec, _ = _forces(at, "average σ per dimension: the KL pulls it to 1")
    assert spec["layer"][2]["encoding"]["y"]["datum"] == 1.0  # the dashed rule at the prior's σ
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
    history = load_history(history_path(bundled_checkpoints()["mnist5k-z2"]), fingerprint=checkpoint.fingerprint)
    stages = forming.stages(history)
    assert forming.stage_caption(stages[-1]) in [c.value for c in at.caption]
    at.select_slider(key="recorded_epoch").set_value(0).run()
    assert forming.stage_caption(stages[0]) in [c.value for c in at.caption]
    maps = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart") if "layer" in json.loads(c.proto.spec)
            and json.loads(c.proto.spec)["layer"][0].get("data")]
    assert maps and {v["ring"] for v in maps[0]["layer"][0]["data"]["values"]} == {"1σ", "2σ", "3σ"}


def test_a_runs_map_shows_each_dimensions_average_sigma_per_epoch(app):
    at = open_train(app, epochs=2)
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    spec, _ = _forces(at, "average σ per dimension")
    assert spec["layer"][1]["transform"][0]["filter"] == "datum.dim == 'average'"
    assert any(c.value.startswith("Epoch 2: 90% of the means within") for c in at.caption)


def estimate(at) -> str:
    """The Train page's estimate, beside Start."""
    (text,) = [t.value for t in at.caption if "images a second" in t.value]
    return text


def test_the_time_a_run_takes_is_estimated_from_the_servers_measured_speed(app):
    at = open_train(app, epochs=400)  # minutes at any CPU's speed: the estimate is in seconds
    info = estimate(at)
    speed, seconds = re.search(r"\(([\d,]+) images a second .* takes about ([\d,]+) s", info).groups()
    digits = load_dataset("digits")
    expected = 400 * len(digits.train_index) / float(speed.replace(",", ""))
    assert abs(float(seconds.replace(",", "")) - expected) <= 0.5 + 0.01 * expected  # epochs x images / speed
    at.number_input(key="train_epochs").set_value(800).run()
    info = estimate(at)
    assert float(re.search(r"takes about ([\d,]+) s", info).group(1).replace(",", "")) >= 2 * expected - 1
    at.number_input(key="train_epochs").set_value(1).run()
    speed = float(re.search(r"\(([\d,]+) images a second", estimate(at)).group(1).replace(",", ""))
    if len(digits.train_index) / speed < 0.5:  # never "about 0 s"
        assert "the run takes under a second" in estimate(at)


def test_a_scheduled_run_shows_its_learning_rate(app):
    at = open_train(app, epochs=1, train_schedule="cosine", train_optimizer="adamw")
    at.button(key="train_start").click().run()
    at = wait_until_finished(at)
    no_exception(at)
    (bar,) = [p for p in at.get("progress") if "learning rate" in p.proto.text]
    assert float(bar.proto.text.split("learning rate ")[1].split(" ")[0]) < 1e-3  # cosine: below the 1e-3 start
