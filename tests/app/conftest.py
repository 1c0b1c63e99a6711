"""AppTest helpers, and small server-side models on 8x8 grey and 32x32 RGB data beside the bundled 28x28 ones."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.checkpoint import save_checkpoint
from explorer.config import ModelConfig, TrainConfig
from explorer.datafiles import load_dataset
from explorer.model import create_model
from explorer.train import train_steps
from explorer.ui import session
from explorer.ui.explore import MAP, ExploreState
from tests.conftest import synthetic_images

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


def train_and_save(folder: Path, name: str, data: str, config: ModelConfig) -> Path:
    dataset = load_dataset(data)
    model = create_model(config, dataset.image_shape, dataset.num_classes)
    history = [m.to_dict() for m in train_steps(model, dataset, TrainConfig(epochs=1, batch_size=64))]
    return save_checkpoint(folder / f"{name}.safetensors", model, dataset=data, label_names=dataset.label_names,
                           step_history=history)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    images, labels = synthetic_images(120, (3, 32, 32), classes=3)
    rgb = folder / "rgb32.npz"
    np.savez(rgb, images=images, labels=labels, label_names=np.array(["left", "middle", "right"]))
    train_and_save(folder, "rgb32-conv", str(rgb), ModelConfig(arch="conv", latent_dim=3, hidden_dims=(32,)))
    train_and_save(folder, "digits-cvae", "digits",
                   ModelConfig(arch="conv", latent_dim=2, hidden_dims=(32,), conv_channels=(8,), conditional=True))
    return folder


@pytest.fixture(autouse=True)
def _fresh_visitor():
    """Every AppTest runs as the same session ("test session id"): after each test its session-scoped resources (a
    training run, the visitor's presence) are released, as when a real visitor's session ends, so no test sees
    the last one's run."""
    yield
    from streamlit.runtime.caching.cache_resource_api import clear_session_cache
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner  # noqa: F401 - where the id is fixed

    clear_session_cache("test session id")


@pytest.fixture
def app(models_dir, monkeypatch):
    """Factory: a fresh AppTest session of the app (optionally on a page), run once."""
    monkeypatch.setenv("EXPLORER_MODELS_DIR", str(models_dir))

    def start(page: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        if page:
            at.switch_page(page)
        return at.run()

    return start


def state_of(at: AppTest, kind: type):
    """A page's state (explorer.ui.session.page_state) in this AppTest session, as a fresh one if not made yet."""
    states = at.session_state["visitor"].states if "visitor" in at.session_state else {}
    return states.get(session.state_key(kind)) or kind()


def select_points(at: AppTest, *rows: int) -> AppTest:
    """What a click (one row) or a box/lasso (several rows) on the map sends back."""
    points = [{"curve_number": 0, "point_index": i, "x": 0.0, "y": 0.0, "customdata": int(r)}
              for i, r in enumerate(rows)]
    done = state_of(at, ExploreState).map_round
    key = MAP if done == 0 else f"{MAP}-{done}"
    at.session_state[key] = {
        "selection": {"points": points, "point_indices": list(range(len(rows))), "box": [], "lasso": []}
    }
    return at.run()


def image_urls(at: AppTest, key: str) -> list[str]:
    """The media URLs of the images inside a keyed container (a new URL means new pixels)."""
    return [img.proto.imgs[0].url for img in at.get_by_key(key).image]


def live_payloads(at: AppTest) -> dict[str, bytes]:
    """The decoders sent to the browser (explorer.ui.live_decode), by the component's key."""
    found = {}
    for element in at.get("bidi_component"):
        proto = element.proto
        found[proto.id.split("-", 2)[-1]] = proto.bytes  # "$$ID-<hash>-<key>"
    return found


def plotly_array(values) -> list:
    """A Plotly array from a chart's spec: a list, or numpy's base64-encoded typed array."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
