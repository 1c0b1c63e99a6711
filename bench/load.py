"""Load check: N visitors at once on one server, each its own browser session in one Chromium.

    .venv/bin/python -m bench.load --visitors 8 --trainers 4 [--max-runs 2] [--epochs 5] [--cold]

Every visitor waits for the Explore map; K of them then start a short run on the Train page, one after
another (each once the last one's page shows it in line or running, so the order of presses is known).
Prints visitors served, time to map, the most runs seen training at once against the cap, whether waiting
runs started in the order pressed, and the server's RSS (its process and children): before, at peak, and for
--linger seconds (60) after every tab has closed. Unless --cold, one visitor comes and goes first and the server's
background warm-up finishes, so the baseline holds the shared caches a running server keeps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from explorer.ui.resources import DEFAULT_MAX_RUNS, WARM_UP_DONE
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, MAP_DRAWN_JS, Server

PAGE_LAG_S = 1.0  # pages poll their run every 0.5 s, we poll pages every 0.25 s: shorter overlaps are lag
STATUS_JS = """() => {
    const done = Array.from(document.querySelectorAll('[data-testid=stAlertContentSuccess]'))
        .some(e => e.innerText.includes('Training finished.'));
    const bad = document.querySelectorAll('[data-testid=stException], [data-testid=stAlertContentError]');
    const bar = document.querySelector('.st-key-train_live [data-testid=stProgress]');
    if (done) return 'finished';
    if (bad.length) return 'error: ' + bad[0].innerText.slice(0, 200);
    if (/in line/.test(document.body.innerText)) return 'waiting';
    const step = bar && bar.innerText.match(/step ([\\d,]+)\\/([\\d,]+)/);
    if (step && step[1] === step[2]) return 'trained';  // the last step: the slot is let go as the run ends
    return bar && /epoch \\d|Starting/.test(bar.innerText) ? 'running' : 'other';
}"""


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, from /proc/*/stat (psutil is not installed)."""
    parent, pages = {}, {}
    for name in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()  # after "(comm)": field 3 on
            parent[int(name)], pages[int(name)] = int(fields[1]), int(fields[21])  # ppid (4), rss in pages (24)
        except (ValueError, OSError, IndexError):
            continue  # not a process, or it just ended
    tree, more = {pid}, {pid}
    while more:
        more = {child for child, up in parent.items() if up in more} - tree
        tree |= more
    return sum(pages.get(member, 0) for member in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler(threading.Thread):
    """Samples the server's RSS every 0.2 s until stopped: (monotonic time, MB) pairs."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.halt = pid, [], threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append((time.monotonic(), tree_rss_mb(self.pid)))
            self.halt.wait(0.2)

    def since(self, start: float) -> list[float]:
        return [mb for t, mb in list(self.samples) if t >= start]


@dataclass
class Visitor:
    index: int
    trainer: bool
    map_s: float | None = None
    pressed: float | None = None
    started: float | None = None
    trained: float | None = None  # its last step seen
    finished: float | None = None
    waited: bool = False
    problems: list[str] = field(default_factory=list)


async def explore(page, url: str, me: Visitor) -> None:
    began = time.perf_counter()
    await page.goto(url)
    await page.wait_for_function(MAP_DRAWN_JS, arg=50)
    me.map_s = time.perf_counter() - began


async def press_start(page, me: Visitor, epochs: int, turn: asyncio.Lock) -> None:
    """Set a short run, then press Start once the previous trainer's press has reached the server."""
    await page.get_by_role("link", name="Train", exact=True).click()
    epochs_box = page.locator(".st-key-train_epochs input")
    await epochs_box.fill(str(epochs))
    await epochs_box.press("Enter")  # a number input sends its value on Enter or blur
    await page.wait_for_function("v => document.querySelector('.st-key-train_epochs input')?.value === v",
                                 arg=str(epochs))
    await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    async with turn:
        me.pressed = time.monotonic()
        await page.locator(".st-key-train_start button").click()
        await page.wait_for_function(f"() => ['waiting', 'running', 'trained', 'finished'].includes(({STATUS_JS})())")


async def follow(page, me: Visitor, deadline: float) -> None:
    """Poll the page's status until its run has finished, noting when it waited, started and ended."""
    while time.monotonic() < deadline:
        status = await page.evaluate(STATUS_JS)
        now = time.monotonic()
        me.waited |= status == "waiting"
        if status in ("running", "trained", "finished") and me.started is None:
            me.started = now
        if status in ("trained", "finished") and me.trained is None:
            me.trained = now
        if status == "finished" or status.startswith("error"):
            me.finished = now
            if status != "finished":
                me.problems.append(status)
            return
        await asyncio.sleep(0.25)
    me.problems.append("the run did not finish in time")


async def visit(browser, url: str, me: Visitor, args, turn: asyncio.Lock):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(args.timeout * 1000)
    page.on("pageerror", lambda error: me.problems.append(f"page error: {error}"))
    try:
        await explore(page, url, me)
        if me.trainer:
            await press_start(page, me, args.epochs, turn)
            await follow(page, me, time.monotonic() + args.timeout)
        if await page.locator("[data-testid='stException']").count():
            me.problems.append("an exception box on the page")
    except Exception as error:  # noqa: BLE001 - one visitor failing is a result, not the end of the check
        me.problems.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
    return context


def most_running(visitors: list[Visitor], lag: float) -> int:
    """The most runs training at once, each from its page's first 'running' to its last step, less `lag`."""
    runs = [(v.started, v.trained or v.finished) for v in visitors if v.started and (v.trained or v.finished)]
    events = sorted([(start, 1) for start, _ in runs] + [(end - lag, -1) for _, end in runs])
    now = most = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start: a handover is not an overlap
        now += step
        most = max(most, now)
    return most


async def load(server: Server, args, rss: RssSampler) -> tuple[list[Visitor], float, float]:
    from playwright.async_api import async_playwright

    visitors = [Visitor(i, i < args.trainers) for i in range(args.visitors)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        alone = Visitor(-1, False)
        if not args.cold:  # one visitor first: the shared caches load and the background warm-up starts
            await (await visit(browser, server.url, alone, args, asyncio.Lock())).close()
            await asyncio.to_thread(server.wait_for_log, WARM_UP_DONE, args.timeout)
        await asyncio.sleep(2)
        baseline = statistics.median(mb for _, mb in rss.samples[-10:])
        began, turn = time.monotonic(), asyncio.Lock()
        contexts = await asyncio.gather(*(visit(browser, server.url, v, args, turn) for v in visitors))
        wall = time.monotonic() - began
        for context in contexts:
            await context.close()
        await browser.close()
    return [alone, *visitors], wall, baseline


def report(visitors: list[Visitor], args, wall: float, baseline: float, peak: float, after: list[float]) -> None:
    if visitors[0].map_s is not None:
        print(f"time to map for one visitor alone, before the load: {visitors[0].map_s:.1f} s")
    visitors = visitors[1:]
    maps = [v.map_s for v in visitors if v.map_s is not None]
    trainers = [v for v in visitors if v.trainer]
    print(f"visitors served (map shown): {len(maps)} of {len(visitors)}")
    if maps:
        print(f"time to map: median {statistics.median(maps):.1f} s, max {max(maps):.1f} s")
    held, raw = most_running(trainers, PAGE_LAG_S), most_running(trainers, 0.0)
    print(f"runs training at once: at most {held} "
          f"(cap {args.max_runs}: {'held' if held <= args.max_runs else 'BROKEN'})"
          + (f"; {raw} counting overlaps under {PAGE_LAG_S:.0f} s (the pages' polling lag)" if raw != held else ""))
    done = [v for v in trainers if v.finished and not v.problems]
    print(f"runs finished: {len(done)} of {len(trainers)}; waited in line: {sum(v.waited for v in trainers)}")
    by_press = [v.index for v in sorted(trainers, key=lambda v: v.pressed or 1e18)]
    by_start = [v.index for v in sorted(trainers, key=lambda v: v.started or 1e18)]
    print(f"started in the order pressed: {'yes' if by_press == by_start else 'NO'} "
          f"(pressed {by_press}, started {by_start})")
    zero = min((v.pressed for v in trainers if v.pressed), default=0.0)  # times from the first press
    for v in sorted(trainers, key=lambda v: v.pressed or 1e18):
        print(f"  trainer {v.index}: " + ", ".join(f"{what} +{getattr(v, what) - zero:.1f} s" for what in
              ("pressed", "started", "trained", "finished") if getattr(v, what)) + (", waited" if v.waited else ""))
    print(f"total wall time: {wall:.1f} s")
    print(f"server RSS: baseline {baseline:.0f} MB, peak {peak:.0f} MB")
    if after:
        print(f"server RSS in the {args.linger:.0f} s after the tabs closed: last {after[-1]:.0f} MB, min "
              f"{min(after):.0f} MB ({after[-1] - baseline:+.0f} MB from baseline); every 10 s: "
              + " ".join(f"{mb:.0f}" for mb in after[::50]))
    for v in visitors:
        for problem in v.problems:
            print(f"visitor {v.index}: {problem}")


def server_problems(log_path: Path) -> list[str]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [line for line in lines
            if any(word in line.lower() for word in ("traceback", "error", "exception", "warning"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--trainers", type=int, default=4)
    parser.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS)
    parser.add_argument("--epochs", type=int, default=5, help="each run's epochs (the page's default is 30)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds any one wait may take")
    parser.add_argument("--linger", type=float, default=60, help="seconds to watch RSS after the tabs close")
    parser.add_argument("--cold", action="store_true", help="no visitor before the load: a just-started server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as models:
        server = Server(env={"EXPLORER_MAX_RUNS": str(args.max_runs), "EXPLORER_MODELS_DIR": models})
        rss = RssSampler(server.process.pid)
        rss.start()
        try:
            visitors, wall, baseline = asyncio.run(load(server, args, rss))
            closed = time.monotonic()
            time.sleep(args.linger)  # the issue: memory back near the baseline within a minute of the tabs closing
            peak = max(mb for _, mb in rss.samples)
            after = rss.since(closed + 0.2)
        finally:
            rss.halt.set()
            server.stop()
    report(visitors, args, wall, baseline, peak, after)
    problems = server_problems(server.log_path)
    print(f"server log {server.log_path}: {len(problems)} lines naming an error, exception or warning")
    for line in problems[:10]:
        print("  " + line[:200])


if __name__ == "__main__":
    main()
