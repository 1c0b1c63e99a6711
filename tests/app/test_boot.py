"""Start-up: serve.py's hook imports the pages' heavy modules on a thread (the e2e tests run the app through
serve.py); without the hook, nothing is imported early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.app.conftest import APP

CHECK = """
import sys
from explorer.ui import boot
assert "torch" not in sys.modules and "explorer.ui.explore" not in sys.modules  # boot itself is light
{action}
print(sorted(m for m in ("torch", "pandas", "explorer.ui.explore", "explorer.ui.train") if m in sys.modules),
      boot.took_s)
print(sorted(m for m in ("umap", "openTSNE", "torchvision", "numba", "pynndescent") if m in sys.modules))
"""


def run(action: str) -> str:
    out = subprocess.run([sys.executable, "-c", CHECK.format(action=action)], capture_output=True, text=True,
                         timeout=120, cwd=Path(APP).parent)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_start_imports_the_pages_modules_and_wait_blocks_until_done():
    imported, heavy = run("boot.start(); boot.start(); boot.wait()").splitlines()
    assert imported.startswith("['explorer.ui.explore', 'explorer.ui.train', 'pandas', 'torch']")
    assert heavy == "[]"  # UMAP, t-SNE and their compilers still load only when asked for


def test_without_start_wait_returns_at_once_and_imports_nothing():
    assert run("boot.wait(timeout=60)").splitlines() == ["[] None", "[]"]

