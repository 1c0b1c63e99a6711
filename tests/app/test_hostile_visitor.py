"""What a hostile visitor's files and links do to the pages: one message each, and the previous state stays."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.checkpoint import checkpoint_bytes
from explorer.config import ModelConfig
from explorer.model import create_model
from tests.app.conftest import APP, no_exception


@pytest.fixture
def own_models(tmp_path, monkeypatch, models_dir):
    """A models folder of one good saved model, a damaged file and one whose weights are cut off after its header."""
    folder = tmp_path / "models"
    folder.mkdir()
    good = (models_dir / "digits-cvae.safetensors").read_bytes()
    (folder / "good.safetensors").write_bytes(good)
    (folder / "corrupt.safetensors").write_bytes(b"\x00" * 64)
    (folder / "cut.safetensors").write_bytes(good[: len(good) - 5000])
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(folder))
    return folder


def visit(page: str | None = None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    if page:
        at.switch_page(page)
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning, *at.info)]


def test_a_damaged_model_file_is_not_offered_nor_opened_by_a_link(own_models):
    at = visit(model="corrupt")
    no_exception(at)
    options = at.selectbox(key="model_name").options
    assert "good" in options and "corrupt" not in options
    assert any("not one of this server" in t for t in texts(at))
    assert at.selectbox(key="model_name").value == "mnist5k-z2"


def test_a_model_damaged_after_its_header_gets_one_message(own_models):
    at = visit()
    at.selectbox(key="model_name").set_value("cut").run()
    no_exception(at)
    assert [t for t in texts(at) if "could not be loaded" in t] == [
        "The model 'cut' could not be loaded; it may be damaged. Choose another model in the sidebar."]
    at.selectbox(key="model_name").set_value("good").run()  # and the visitor goes on
    no_exception(at)
    assert not any("could not be loaded" in t for t in texts(at))


def upload_model(at: AppTest, model, name: str, dataset: str = "digits") -> AppTest:
    payload = checkpoint_bytes(model, dataset=dataset)
    return at.file_uploader(key="upload_checkpoint").set_value((name, payload, "application/octet-stream")).run()


def test_a_conditional_model_whose_classes_do_not_match_its_data_gets_a_message(app):
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,), conditional=True), (1, 8, 8), 3)
    at = upload_model(app(), model, "three.safetensors")
    no_exception(at)
    assert at.selectbox(key="model_name").value == "uploaded: three.safetensors"
    assert any("conditioned on 3 classes but 'digits' has 10" in t for t in texts(at))


def test_huge_finite_weights_are_refused_at_upload(app):
    model = create_model(ModelConfig(latent_dim=16, hidden_dims=(8,)), (1, 8, 8), 0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(3e38)
    at = upload_model(app(), model, "huge.safetensors")
    no_exception(at)
    assert any("outputs overflow" in e.value for e in at.error)
    assert at.selectbox(key="model_name").value == "mnist5k-z2" and len(at.get("plotly_chart")) == 1


def test_a_data_upload_with_a_bad_crc_is_one_message_and_changes_nothing(app):
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros((6, 8, 8), np.uint8))
    data = bytearray(buffer.getvalue())
    data[data.index(b"PK\x01\x02") + 16] ^= 0xFF  # the first entry's CRC, in the directory zipfile checks against
    at = app("explorer/ui/pages/train.py")
    before = at.selectbox(key="train_data").value
    at.file_uploader(key="train_upload").set_value(("bad.npz", bytes(data), "application/octet-stream")).run()
    no_exception(at)
    assert len(at.error) == 1 and "could not be read: its archive is damaged" in at.error[0].value
    assert at.error[0].value.endswith("Nothing was changed.")
    assert at.selectbox(key="train_data").value == before


def test_a_zip_entry_that_is_encrypted_is_named(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/1.png", b"x")
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 1
    at = app("explorer/ui/pages/train.py")
    at.file_uploader(key="train_upload").set_value(("secret.zip", bytes(data), "application/zip")).run()
    no_exception(at)
    assert any("'secret.zip' is password-protected" in e.value for e in at.error)


def npz_upload(at: AppTest, name: str, images: np.ndarray) -> AppTest:
    buffer = io.BytesIO()
    np.savez(buffer, images=images)
    uploader = next(u for u in at.get("file_uploader") if u.key.startswith("train_upload"))  # a new key per file
    return uploader.set_value((name, buffer.getvalue(), "application/octet-stream")).run()


def test_a_visitor_over_their_budget_lets_go_of_the_oldest_with_a_notice(app, monkeypatch):
    from explorer import budget

    monkeypatch.setattr(budget, "PER_VISITOR_BYTES", 100_000)
    at = app("explorer/ui/pages/train.py")
    at = npz_upload(at, "first.npz", np.zeros((600, 8, 8), np.uint8))  # 43 KB each, with the split's indices
    at = npz_upload(at, "second.npz", np.ones((600, 8, 8), np.uint8))
    no_exception(at)
    assert not at.sidebar.warning and not any("let go" in m.value for m in at.success)
    assert any(m.value.startswith("Read second.npz: 600 images of 8x8 pixels, grey, no labels; 480 to train on")
               for m in at.success)
    at = npz_upload(at, "third.npz", np.ones((600, 8, 8), np.uint8))
    no_exception(at)
    assert set(at.session_state["visitor"].datasets) == {"upload: second.npz", "upload: third.npz"}
    assert any("let go of 'upload: first.npz'" in m.value for m in at.success)  # beside the uploader
    at = npz_upload(at, "huge.npz", np.ones((2000, 8, 8), np.uint8))
    assert any("each visitor can keep 0 MB" in e.value and "Nothing was changed" in e.value for e in at.error)
    assert at.selectbox(key="train_data").value == "upload: third.npz"


def test_a_visitor_who_leaves_has_their_uploads_let_go(app):
    from explorer.ui import session
    from explorer.ui.likelihood import LikelihoodState

    at = npz_upload(app("explorer/ui/pages/train.py"), "mine.npz", np.zeros((50, 8, 8), np.uint8))
    me = at.session_state["visitor"]
    assert me.datasets and session.ledger().held() >= 50 * 64
    came_back = session._Presence(me)
    stale = session._Presence.__new__(session._Presence)
    stale.visitor, stale.visit = me, me.visits - 1
    stale._let_go()  # an earlier visit's timer: the visitor came back since, so nothing goes
    assert me.datasets
    scored = me.states[session.state_key(LikelihoodState)] = LikelihoodState(scored="images and scores")
    came_back._let_go()
    assert me.datasets == {} and me.holdings == [] and "let go" in me.memory_notice
    assert scored.scored is None  # each page's state lets go of what it holds
    assert session.ledger().admit(me.key, [], 0, 1) == []  # nothing of theirs counted any more


def test_a_read_upload_is_let_go_and_its_widget_drawn_afresh(app):
    """Streamlit holds an upload's bytes while its widget holds the file: once read, the widget is replaced."""
    at = npz_upload(app("explorer/ui/pages/train.py"), "a.npz", np.zeros((50, 8, 8), np.uint8))
    assert ([u.key for u in at.main.get("file_uploader")] == ["train_upload-1"]
            and at.file_uploader(key="train_upload-1").value is None)
    assert "train_upload" not in at.session_state  # the old widget's state, which held the file, is gone
    at = npz_upload(at, "bad.npz", np.full((5, 8, 8), 300, np.int64))  # a refused file is let go as well
    assert [u.key for u in at.main.get("file_uploader")] == ["train_upload-2"]
    assert any("bad.npz: Integer images must lie in 0-255" in e.value for e in at.error)
    assert at.selectbox(key="train_data").value == "upload: a.npz"


def test_a_saved_model_trained_on_an_upload_never_makes_the_server_open_that_name(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    (tmp_path / "secret.npz").write_bytes(b"never read")
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), (1, 8, 8), 0)
    (folder / "theirs.safetensors").write_bytes(checkpoint_bytes(model, dataset=f"upload: {tmp_path}/secret.npz"))
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(folder))
    at = visit(model="theirs")
    no_exception(at)
    assert any("which is not available here, so there are none of its images to map or score" in t for t in texts(at))


def test_a_downloaded_model_uploaded_again_finds_its_data_by_content_whatever_it_calls_it(app):
    """A checkpoint names its data as the run called it; the visitor's upload holding the very same images (by
    fingerprint) is its data, under whatever name it has now."""
    at = npz_upload(app("explorer/ui/pages/train.py"), "mine.npz", np.arange(50 * 64, dtype=np.uint8).reshape(50, 8, 8))
    data = at.session_state["visitor"].datasets["upload: mine.npz"]
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(8,)), (1, 8, 8), 0)
    payload = checkpoint_bytes(model, dataset="mine", data_fingerprint=data.fingerprint)
    at.file_uploader(key="upload_checkpoint").set_value(("back.safetensors", payload, "application/octet-stream"))
    at.run().switch_page("explorer/ui/pages/explore.py").run()
    no_exception(at)
    assert at.selectbox(key="model_name").value == "uploaded: back.safetensors"
    assert not any("not available here" in t for t in texts(at)) and at.get("plotly_chart")  # its map, on its data


def test_a_model_too_heavy_for_the_server_is_refused_at_upload(app, monkeypatch):
    import explorer.budget

    monkeypatch.setattr(explorer.budget, "MAX_DECODE_MACS", 1000)  # stands in for the 13-billion 256x256 conv model
    model = create_model(ModelConfig(latent_dim=2, hidden_dims=(64,)), (1, 8, 8), 0)
    at = upload_model(app(), model, "heavy.safetensors")
    no_exception(at)
    assert at.selectbox(key="model_name").value != "uploaded: heavy.safetensors"
    (message,) = [e.value for e in at.sidebar.error]
    assert message.startswith("heavy.safetensors cannot be used on this server: one image's decode takes")
    assert message.endswith("The current model stays in use.")


def test_uploads_past_a_visitors_caps_are_refused_as_they_arrive(monkeypatch):
    """Streamlit itself caps one file (server.maxUploadSize); the store's guard caps what a visitor holds at once,
    before the file is kept: the hostile pass sent 250 pictures of 3.9 MB (+0.8 GB) and 20 files of 60 MB."""
    from starlette.exceptions import HTTPException
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    from explorer.ui import uploads

    manager = MemoryUploadedFileManager("/upload")
    monkeypatch.setattr(uploads.runtime, "exists", lambda: True)
    monkeypatch.setattr(uploads.runtime, "get_instance", lambda: type("R", (), {"uploaded_file_mgr": manager})())
    uploads.guard_store()
    uploads.guard_store()  # once: not wrapped twice

    def add(session, i, size):
        return manager.add_file(session, UploadedFileRec(f"f{i}", f"p{i}.png", "image/png", b"x" * size))

    for i in range(uploads.SESSION_FILES):
        add("a", i, 1000)
    with pytest.raises(HTTPException, match=f"{uploads.SESSION_FILES} files at once"):
        add("a", "one-more", 1000)
    add("b", 0, 60 * 2**20)  # one data file: fine
    with pytest.raises(HTTPException, match="64 MB"):
        add("b", 1, 60 * 2**20)
    assert manager._total_bytes == uploads.SESSION_FILES * 1000 + 60 * 2**20  # the refused were never kept
    with pytest.raises(HTTPException):
        add("a", "two-more", 1000)
    assert uploads._refused.pop("a")[:2] == ("p" + "one-more" + ".png", 2)  # the first refused, and how many
    monkeypatch.setattr(uploads, "get_script_run_ctx", lambda: type("C", (), {"session_id": "b"})())
    assert uploads.refused_note() == "'p1.png' was not taken: each visitor's uploads waiting to be read can take 64 MB."
    assert uploads.refused_note() is None  # said once
    for session in "cdef":
        try:
            add(session, 0, 60 * 2**20)
        except HTTPException as error:
            assert "server is holding as many uploads" in error.detail
            break
    else:
        pytest.fail("the server-wide cap never refused")
    assert manager._total_bytes <= uploads.STORE_BYTES
