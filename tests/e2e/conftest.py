"""Real-browser fixtures: a Streamlit server on a free port and headless Debian Chromium driven by Playwright.

A failing test leaves a screenshot and the server log under artifacts/e2e/ (or $E2E_ARTIFACTS).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "artifacts" / "e2e"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str] | None = None, script: str = "serve.py"):
        self.script = script
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"server-{self.port}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless=true",
             f"--server.port={self.port}", "--server.address=127.0.0.1", "--server.fileWatcherType=none",
             "--browser.gatherUsageStats=false"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy in 90 s; see {self.log_path}")

    def wait_for_log(self, text: str, timeout: float = 180) -> None:
        """Wait until the server's log holds `text` (e.g. resources.WARM_UP_DONE)."""
        deadline = time.monotonic() + timeout
        while text not in self.log_path.read_text():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in {self.log_path} after {timeout} s")
            time.sleep(0.5)

    def dump_stacks(self) -> None:
        """Have the server write every thread's stack to its log (serve.py registers SIGUSR1 for it)."""
        if self.script == "serve.py" and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGUSR1)
            time.sleep(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


@pytest.fixture(scope="session")
def server():
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: install Debian's chromium package (make test does) or set CHROMIUM.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = request.node.name.replace("/", "_")
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        try:
            state = tab.evaluate("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState")
        except Exception as error:  # noqa: BLE001 - a crashed page: say so and carry on with the log
            state = f"unreadable ({error})"
        before = server.log_path.read_text()
        server.dump_stacks()
        shutil.copy(server.log_path, ARTIFACTS / f"{name}.server.log")
        # CI keeps only the output: the page's state, the log's end and the server's stacks go there too.
        print(f"page {tab.url}, script {state}; screenshot and server log: {ARTIFACTS}/{name}.*")
        print("server log, last lines:", *before.splitlines()[-40:], sep="\n")
        print("server threads:", server.log_path.read_text()[len(before):], sep="\n")
    context.close()


def wait_idle(tab, timeout: float = 60_000) -> None:
    """Wait until the app has finished its current script run."""
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def settled_count(tab, selector: str, expected: int, timeout: float = 30_000) -> int:
    """How many elements match once the page has had time to show `expected` of them.

    A script run streams its elements one by one, and the run state alone can read "not running" in the gap
    before a rerun starts, so wait for the count itself; the caller asserts on what came back.
    """
    try:
        tab.wait_for_function("([s, n]) => document.querySelectorAll(s).length === n", arg=[selector, expected],
                              timeout=timeout)
    except Exception:  # noqa: BLE001 - a timeout: the assertion that follows reports the real count
        pass
    return tab.locator(selector).count()


# A drawn Plotly chart holding at least n marker points: a map, not the empty chart the app sends first so the
# browser fetches Plotly early (explorer/ui/boot.py), nor the training page's line charts.
MAP_DRAWN_JS = """n => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
    .some(g => (g._fullData || []).some(t => t.mode === 'markers' && t.x && t.x.length >= n))"""


def wait_for_map(tab, min_points: int = 50, timeout: float = 60_000) -> None:
    """Wait for the explorer page's latent map (its heading, and a chart with at least `min_points` markers)."""
    tab.wait_for_selector("h1:has-text('Explore the latent space')", timeout=timeout)
    tab.wait_for_function(MAP_DRAWN_JS, arg=min_points, timeout=timeout)


def map_points(tab) -> np.ndarray:
    """Every point drawn on the explorer map (the first chart with markers), in data coordinates."""
    xy = tab.evaluate(
        """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
                   .map(g => (g._fullData || []).filter(t => t.mode === 'markers'))
                   .find(traces => traces.length)
                   .flatMap(t => Array.from(t.x).map((x, i) => [x, t.y[i]]))"""
    )
    return np.array(xy, dtype=float)


def lonely_pair(points: np.ndarray, apart: float) -> tuple[np.ndarray, np.ndarray]:
    """Two points a click hits without doubt: the one farthest from its nearest neighbour, and the next loneliest
    that lies more than `apart` from it."""
    distance = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    order = np.argsort(-distance.min(axis=1))
    second = next(i for i in order[1:] if np.linalg.norm(points[i] - points[order[0]]) > apart)
    return points[order[0]], points[second]


def bundled_lonely_pair() -> tuple[np.ndarray, np.ndarray]:
    """lonely_pair over the default model's test-split means, as the explorer map draws them."""
    from explorer.checkpoint import bundled_checkpoints, load_checkpoint
    from explorer.datafiles import load_dataset
    from explorer.latent import encode_dataset

    checkpoint = load_checkpoint(bundled_checkpoints()["mnist5k-z2"])
    return lonely_pair(encode_dataset(checkpoint.model, load_dataset("mnist5k"), "test").mu, apart=2)


# Milliseconds until a mouse-down on the chart no longer counts as the second half of a double click: Plotly
# counts any two mouse-downs within its doubleClickDelay (500 ms) as one, wherever they land, and a double click
# clears the selection. (Under load the browser handles the first click late, and a test's next click came
# 440 ms after it: the second point was never picked.)
_DOUBLE_CLICK_LEFT_JS = """sel => {
    const g = document.querySelector(sel + ' .js-plotly-plot');
    return Math.max(0, (g._mouseDownTime || 0) + g._context.doubleClickDelay - Date.now());
}"""
# Where data coordinates (X, Y) lie on the page, read from the plot's own axes; also starts listening for the
# selection event Plotly sends when a click lands on a point.
_POINT_ON_PAGE_JS = """([sel, X, Y]) => {
    const g = document.querySelector(sel + ' .js-plotly-plot');
    window.__plotlySelected = null;
    window.__plotlyClicked = g;
    g.once('plotly_selected', e => { window.__plotlySelected = e && e.points ? e.points.length : 0; });
    const L = g._fullLayout, r = g.getBoundingClientRect();
    return {x: r.left + L._size.l + L.xaxis.d2p(X), y: r.top + L._size.t + L.yaxis.d2p(Y)};
}"""


def wait_past_double_click(tab, chart: str = "[data-testid='stPlotlyChart']") -> None:
    """Wait until a click on the chart would no longer count, for Plotly, as the second half of a double click."""
    left = tab.evaluate(_DOUBLE_CLICK_LEFT_JS, chart)
    if left > 0:
        tab.wait_for_timeout(left + 50)


def click_point(tab, x: float, y: float, chart: str = "[data-testid='stPlotlyChart']", tries: int = 3) -> None:
    """Click the point at data coordinates (x, y) and wait until Plotly reports it selected.

    It waits, as a person picking two points does, until Plotly would not take it for a double click. A click
    Plotly never saw (it found no point there: the chart was mid-redraw) is made again, at most `tries` times in
    all, each time printing where it went. What the app then does with a selection is the test's to check.
    """
    for attempt in range(1, tries + 1):
        wait_past_double_click(tab, chart)
        box = tab.evaluate(_POINT_ON_PAGE_JS, [chart, x, y])
        tab.mouse.move(box["x"], box["y"])
        tab.mouse.down()
        tab.mouse.up()
        try:
            tab.wait_for_function("() => window.__plotlySelected !== null", timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - a timeout: say where the click went, then click again
            rebuilt = tab.evaluate("s => document.querySelector(s + ' .js-plotly-plot') "
                                   "!== window.__plotlyClicked", chart)
            assert not rebuilt, "the chart was rebuilt while it was being clicked"  # so no click again: it may toggle
            there = tab.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y); "
                                 "return e ? e.tagName + '.' + e.getAttribute('class') : null; }", [box["x"], box["y"]])
            print(f"click {attempt}/{tries} at data ({x:.3f}, {y:.3f}), page ({box['x']:.0f}, {box['y']:.0f}) "
                  f"on {there}: Plotly selected nothing")
    raise AssertionError(f"Plotly selected no point at data ({x:.3f}, {y:.3f}) in {tries} clicks")


def open_and_pick_a(tab, url: str) -> tuple[np.ndarray, np.ndarray]:
    """Open the explorer at url and pick the first of bundled_lonely_pair as A; returns the pair."""
    tab.goto(url)
    wait_for_map(tab)
    wait_idle(tab)
    first, second = bundled_lonely_pair()
    click_point(tab, *map(float, first))
    tab.wait_for_selector(".st-key-pick_A img")
    wait_idle(tab)
    return first, second
