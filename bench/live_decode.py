"""Decoding while dragging, in real Chromium: the decoder in the browser (this app) against decoding on the server
when the slider is released (the same app with $EXPLORER_BROWSER_DECODER_MB=0, as it was before).

    python -m bench.live_decode [--model mnist5k-z16] [--moves 60]

A scripted drag moves the mouse as fast as Playwright sends moves. Reported for each: moves sent and images drawn per
second while the mouse is down, the time from a pointer move (or, on the server path, from the release) to the image
it shows, and in the browser the time one decode and draw takes (what bounds the frame rate).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, wait_idle

# In the page: the time of every pointer move, and of every new image (the live canvas counts its frames; the
# server's image changes its src).
INSTRUMENT = """() => {
    window.__moves = []; window.__frames = []; window.__ms = [];
    document.addEventListener('pointermove', () => window.__moves.push(performance.now()), true);
    const note = () => window.__frames.push(performance.now());
    const timed = (records) => { note(); window.__ms.push(Number(records[0].target.dataset.ms)); };
    const canvas = Array.from(document.querySelectorAll('[data-testid=stBidiComponentIsolated]'))
        .map(h => h.shadowRoot && h.shadowRoot.querySelector('canvas.live-decode')).find(c => c) || null;
    if (canvas) new MutationObserver(timed).observe(canvas, {attributes: true, attributeFilter: ['data-frames']});
    const image = () => document.querySelector('.st-key-slider_decode img');
    let shown = (image() || {}).src;
    const check = () => { const i = image(); if (i && i.src !== shown) { shown = i.src; note(); } };
    new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                        attributeFilter: ['src']});
    return Boolean(canvas);
}"""


def drag(browser, server: Server, model: str, moves: int) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server.url}/generate?model={model}")
    page.wait_for_selector(".st-key-slider_decode")
    wait_idle(page)
    page.wait_for_timeout(1000)
    live = page.evaluate(INSTRUMENT)
    track = page.locator("[data-testid='stSlider'] [data-orientation='horizontal'][style*='touch-action']").first
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    down = page.evaluate("() => performance.now()")
    for i in range(moves):
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.6 * (i + 1) / moves), y)
    up = page.evaluate("() => performance.now()")
    page.mouse.up()
    if not live:  # the server's image for the released value
        page.wait_for_function("u => window.__frames.some(t => t > u)", arg=up, timeout=30_000)
    wait_idle(page)
    moves_at, frames, decode_ms = (np.array(page.evaluate(f"() => window.{name}")) for name in ("__moves", "__frames",
                                                                                                 "__ms"))
    page.close()
    during = frames[(frames > down) & (frames <= up)]
    after = frames[frames > up]
    if len(during):
        previous = np.array([moves_at[moves_at <= f].max() for f in during])  # the move each image answers
        latency = during - previous
    else:
        latency = after[:1] - up  # nothing drawn while dragging: the image comes after the release
    seconds = (up - down) / 1000
    return {"live": live, "fps": len(during) / seconds, "frames": len(during), "moves_per_s": moves / seconds,
            "latency_ms": latency, "decode_ms": decode_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist5k-z16")
    parser.add_argument("--moves", type=int, default=60)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name, env in (("in the browser", {}), ("on release (server)", {"EXPLORER_BROWSER_DECODER_MB": "0"})):
            server = Server(env=env)
            try:
                drag(browser, server, args.model, 10)  # warm: the first page pays for start-up
                started = time.perf_counter()
                results[name] = drag(browser, server, args.model, args.moves)
                results[name]["wall_s"] = time.perf_counter() - started
            finally:
                server.stop()
        browser.close()
    print(f"{args.model}, a {args.moves}-move drag:")
    print(f"{'':22}{'moves/s':>9}{'images while dragging':>23}{'images/s':>10}{'latency median':>16}{'p95':>8}"
          f"{'decode+draw':>13}")
    for name, r in results.items():
        lat, ms = r["latency_ms"], r["decode_ms"]
        decode = f"{np.median(ms):.2f} ms" if len(ms) else "-"
        print(f"{name:22}{r['moves_per_s']:>9.0f}{r['frames']:>23}{r['fps']:>10.1f}{np.median(lat):>13.1f} ms"
              f"{np.percentile(lat, 95):>6.0f} ms{decode:>13}")
    ours, peer = results["in the browser"], results["on release (server)"]
    print(f"ratio: pointer-to-image latency on release / in the browser = "
          f"{np.median(peer['latency_ms']) / np.median(ours['latency_ms']):.1f}x; images while dragging "
          f"{ours['frames']} vs {peer['frames']}; frames one decode allows: "
          f"{1000 / np.median(ours['decode_ms']):.0f}/s")


if __name__ == "__main__":
    main()
