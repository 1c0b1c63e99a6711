"""Scale: the latent map with 10k to 100k points in real Chromium. For each size, the time until the map is
drawn and until a clicked point is selected (its details shown); the peer is Plotly's default SVG scatter of
the same points in a bare page (what a notebook shows), timed to its first full draw.

    python -m bench.scale [--sizes 10000,35000,70000,100000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from explorer.checkpoint import bundled_checkpoints, load_checkpoint, save_checkpoint
from explorer.data import make_dataset
from explorer.datafiles import load_dataset
from explorer.latent import encode_dataset
from explorer.ui.resources import WARM_UP_DONE
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, MAP_DRAWN_JS, Server, click_point, wait_idle

CLICK_USABLE_S = 2.0  # a click that takes longer to answer is not one people keep making
DRAW_USABLE_S = 10.0  # the first draw includes the page's cold start (~5 s even for 1,000 points here)


def synthetic_set(n: int, folder: Path) -> Path:
    """n MNIST-like images: the 5,000 digits, shifted by a pixel and with a little noise, repeated."""
    base = load_dataset("mnist5k")
    rng = np.random.default_rng(0)
    reps = -(-n // len(base))
    images = np.concatenate([np.roll(base.images, shift=(r % 3) - 1, axis=2) for r in range(reps)])[:n]
    noisy = np.clip(images[:, 0] + rng.normal(0, 8, images[:, 0].shape), 0, 255).astype(np.uint8)
    path = folder / f"synthetic{n}.npz"
    np.savez(path, images=noisy, labels=np.tile(base.labels, reps)[:n])
    return path


def peer_seconds(browser, points: np.ndarray, labels: np.ndarray, folder: Path) -> float:
    figure = go.Figure([go.Scatter(x=points[labels == k, 0], y=points[labels == k, 1], mode="markers", name=str(k))
                        for k in range(10)])
    html = folder / "peer.html"
    figure.write_html(html, include_plotlyjs=True, full_html=True)
    page = browser.new_page()
    started = time.perf_counter()
    page.goto(html.as_uri())
    page.wait_for_function("() => { const g = document.querySelector('.js-plotly-plot'); "
                           "return g && g.querySelectorAll('.scatterlayer .point').length > 0; }", timeout=300_000)
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,35000,70000,100000")  # 100,000: the app's default data cap
    parser.add_argument("--script", default="serve.py", help="the app entry to serve")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="scale-"))
    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
    rows = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            data_path = synthetic_set(n, folder)
            save_checkpoint(folder / f"scale{n}.safetensors", checkpoint.model, dataset=str(data_path),
                            label_names=checkpoint.label_names)
            with np.load(data_path) as arrays:
                dataset = make_dataset("scale", arrays["images"], arrays["labels"])
            mu = encode_dataset(checkpoint.model, dataset, "all").mu
            server = Server(env={"EXPLORER_MODELS_DIR": str(folder)}, script=args.script)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    started = time.perf_counter()
                    page.goto(f"{server.url}/?model=scale{n}&split=all")
                    page.wait_for_function(MAP_DRAWN_JS, arg=1, timeout=300_000)
                    wait_idle(page, timeout=300_000)
                    drawn = time.perf_counter() - started
                    server.wait_for_log(WARM_UP_DONE)  # the click is timed on a running server, not its first minute
                    # an outlier: no neighbour to hit instead
                    far = mu[np.argmax(np.linalg.norm(mu - mu.mean(0), axis=1))]
                    started = time.perf_counter()
                    click_point(page, float(far[0]), float(far[1]))
                    page.wait_for_selector(".st-key-pick_A img", timeout=300_000)
                    selected = time.perf_counter() - started
                    peer = peer_seconds(browser, mu, dataset.labels, folder)
                finally:
                    browser.close()
                    server.stop()
            rows.append((n, drawn, selected, peer))
            print(f"n={n:>7,}: ours drawn {drawn:6.2f} s, click -> selected {selected:5.2f} s; "
                  f"peer (SVG scatter) drawn {peer:6.2f} s; ratio peer/ours drawn {peer / drawn:.2f}x", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    usable = [n for n, drawn, selected, _ in rows if drawn <= DRAW_USABLE_S and selected <= CLICK_USABLE_S]
    print(f"largest map that stays usable (drawn within {DRAW_USABLE_S:g} s, "
          f"click answered within {CLICK_USABLE_S:g} s): "
          f"{max(usable):,} points" if usable else "no size stayed usable")


if __name__ == "__main__":
    main()
