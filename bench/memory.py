"""Memory check: visitors bringing everything at once, against the server's stated memory budget.

    .venv/bin/python -m bench.memory [--rounds 2] [--linger 120]

Each round, one Chromium tab per role at the same time, all on one server:
  data     uploads a 55 MB data file (70,000 28x28 images) on the Train page
  bomb     uploads a checkpoint whose history parses to ~20x its 7 MB (refused)
  heavy    uploads a 256x256 RGB conv checkpoint (13 billion multiply-adds a decode; refused)
  score    uploads 100 pictures to the Likelihood page
  generate opens the Generate page (36 samples and a 225-image grid)
  save     trains a 2-epoch run and saves it on the server
  explore  opens the map
Prints, for each role, what the page ended with; the server's RSS (its process and children) at the baseline
(warm: one visitor came and went first) and at its peak against BUDGET_MB; and the RSS for --linger seconds after
every tab closed, against the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.load import RssSampler
from explorer.checkpoint import checkpoint_bytes
from explorer.config import ModelConfig
from explorer.files import npz_bytes
from explorer.imaging import png_bytes
from explorer.model import create_model
from explorer.ui.resources import WARM_UP_DONE
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, MAP_DRAWN_JS, Server

BUDGET_MB = 2500  # the README's stated budget for the server's RSS, whatever visitors bring
ROLES = ("data", "bomb", "heavy", "score", "generate", "save", "explore")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
SHOWN_JS = """words => {
    const alerts = Array.from(document.querySelectorAll('[data-testid=stAlertContainer], [data-testid=stException]'))
        .map(e => e.innerText.trim().replace(/\\s+/g, ' ')).filter(Boolean);
    const images = document.querySelectorAll('[data-testid=stImage] img').length;
    const line = document.body.innerText.split('\\n').find(l => new RegExp(words).test(l));
    const found = alerts.find(a => new RegExp(words).test(a)) || (line && 'page: ' + line);
    return (found || alerts[0] || '(no message)') + ` [${images} images]`;
}"""
EVIDENCE = {"data": "^Read", "bomb": "not loaded|cannot", "heavy": "cannot be used", "score": "Your images. scores",
            "save": "Saved as", "generate": "images\\]", "explore": "Click"}  # the message that says how it ended


def files(folder: Path) -> dict[str, Path | list[Path]]:
    """The files the roles upload, written once."""
    rng = np.random.default_rng(0)
    data = folder / "big.npz"
    data.write_bytes(npz_bytes(images=rng.integers(0, 256, (70_000, 28, 28), dtype=np.uint8),
                               labels=rng.integers(0, 10, 70_000)))
    small = create_model(ModelConfig(), (1, 28, 28))
    bomb = folder / "bomb.safetensors"
    bomb.write_bytes(checkpoint_bytes(small, dataset="mnist5k", step_history=[{"step": [[]] * 1_100_000}]))
    heavy = folder / "heavy.safetensors"
    heavy.write_bytes(checkpoint_bytes(create_model(ModelConfig(arch="conv", conv_channels=(512, 384, 8),
                                                                hidden_dims=(64,)), (3, 256, 256)), dataset="x"))
    pictures = []
    for i in range(100):
        pictures.append(folder / f"picture{i}.png")
        pictures[-1].write_bytes(png_bytes(rng.integers(0, 256, (28, 28), dtype=np.uint8)))
    return {"data": data, "bomb": bomb, "heavy": heavy, "score": pictures}


async def settle(page, timeout_s: float = 300) -> None:
    await asyncio.sleep(1.0)
    await page.wait_for_selector(IDLE, timeout=timeout_s * 1000)


async def act(page, url: str, role: str, uploads: dict, round_: int) -> str:
    """Do the role's thing; return what the page showed at the end (its alerts, or what was drawn)."""
    if role in ("data", "save"):
        await page.goto(f"{url}/train")
    elif role == "score":
        await page.goto(f"{url}/likelihood")
    elif role == "generate":
        await page.goto(f"{url}/generate")
    else:
        await page.goto(url)
        await page.wait_for_function(MAP_DRAWN_JS, arg=50)
    await settle(page)
    if role == "data":
        await page.locator("[class*='st-key-train_upload'] input[type='file']").set_input_files(str(uploads["data"]))
    elif role in ("bomb", "heavy"):
        await page.locator("[class*='st-key-upload_checkpoint'] input[type='file']").set_input_files(str(uploads[role]))
    elif role == "score":
        await page.locator("[class*='st-key-score_upload'] input[type='file']").set_input_files(
            [str(p) for p in uploads["score"]])
    elif role == "generate":
        await page.wait_for_function("() => document.querySelectorAll('[data-testid=stImage] img').length >= 1")
    elif role == "save":
        box = page.locator(".st-key-train_epochs input")
        await box.fill("2")
        await box.press("Enter")
        await settle(page)
        await page.locator(".st-key-train_start button").click()
        await page.wait_for_selector(".st-key-train_save button", timeout=600_000)
        name = page.locator(".st-key-train_save_name input")
        await name.fill(f"load-{round_}")
        await name.press("Enter")
        await settle(page)
        await page.locator(".st-key-train_save button").click()
    try:  # an upload's file travels before its page runs: wait for the message that says how it ended
        await page.wait_for_function(f"words => ({SHOWN_JS})(words).match(new RegExp(words))", arg=EVIDENCE[role],
                                     timeout=300_000)
    except Exception:  # noqa: BLE001 - reported below as what the page showed instead
        pass
    await settle(page)
    shown = await page.evaluate(SHOWN_JS, EVIDENCE[role])
    return shown[:150] + (" ..." if len(shown) > 150 else "")


async def visit(browser, url: str, role: str, uploads: dict, round_: int) -> tuple[str, str]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(300_000)
    try:
        return role, await act(page, url, role, uploads, round_)
    except Exception as error:  # noqa: BLE001 - one role failing is a result, not the end of the check
        return role, f"FAILED {type(error).__name__}: {str(error).splitlines()[0][:120]}"
    finally:
        await context.close()


async def run(server: Server, rss: RssSampler, uploads: dict, rounds: int,
              roles: tuple[str, ...] = ROLES) -> tuple[list, float, float]:
    from playwright.async_api import async_playwright

    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await visit(browser, server.url, "explore", uploads, -1)  # the shared caches load
        await asyncio.to_thread(server.wait_for_log, WARM_UP_DONE, 300)
        await asyncio.sleep(3)
        baseline = statistics.median(mb for _, mb in rss.samples[-10:])
        began = time.monotonic()
        for round_ in range(rounds):
            results.append(await asyncio.gather(*(visit(browser, server.url, role, uploads, round_)
                                                  for role in roles)))
        await browser.close()
    return results, baseline, began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="times every role comes, all roles at once each time")
    parser.add_argument("--linger", type=float, default=150, help="seconds to watch RSS after the tabs close")
    parser.add_argument("--roles", default=",".join(ROLES), help="which roles come (comma-separated)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as models:
        uploads = files(Path(folder))
        server = Server(env={"EXPLORER_MODELS_DIR": models})
        rss = RssSampler(server.process.pid)
        rss.start()
        try:
            results, baseline, began = asyncio.run(run(server, rss, uploads, args.rounds,
                                                       tuple(args.roles.split(","))))
            closed = time.monotonic()
            time.sleep(args.linger)
            peak = max(mb for t, mb in rss.samples if t >= began)
            after = rss.since(closed)
        finally:
            rss.halt.set()
            server.stop()
    for round_, outcomes in enumerate(results):
        print(f"round {round_ + 1}:")
        for role, shown in outcomes:
            print(f"  {role:9s} {shown}")
    print(f"server RSS: baseline (warm) {baseline:.0f} MB, peak {peak:.0f} MB "
          f"({'under' if peak <= BUDGET_MB else 'OVER'} the budget of {BUDGET_MB} MB)")
    back = next((t - closed for t, mb in rss.samples if t >= closed and mb <= baseline + 100), None)
    print(f"after the tabs closed: {after[-1]:.0f} MB at {args.linger:.0f} s ({after[-1] - baseline:+.0f} MB from "
          f"warm); " + (f"within 100 MB of warm after {back:.0f} s" if back is not None else "never within 100 MB of "
                        "warm") + "; every 10 s: " + " ".join(f"{mb:.0f}" for mb in after[::50]))


if __name__ == "__main__":
    main()
