"""Files: a killed save's temp file is cleaned up at the next start, a live writer's is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from explorer import files
from explorer.files import remove_stale_temps

ROOT = Path(__file__).resolve().parents[2]


def test_a_killed_saves_temp_file_is_removed_at_the_next_start(tmp_path):
    # A writer that dies between writing its temp file and renaming it into place (what a kill mid-save leaves).
    script = "import sys; from pathlib import Path; from explorer.files import _written_temp; " \
             "_written_temp(Path(sys.argv[1]), b'half a model')"
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "m.safetensors")], cwd=ROOT, check=True)
    (temp,) = tmp_path.iterdir()
    assert temp.name.startswith(".m.safetensors.") and temp.name.endswith(files.TEMP_SUFFIX)  # hidden, beside it
    assert remove_stale_temps(tmp_path) == 1 and not any(tmp_path.iterdir())  # seconds old, but its writer is gone


def test_a_live_writers_temp_file_is_kept_until_it_is_old(tmp_path):
    mine = Path(files._written_temp(tmp_path / "m.safetensors", b"being written"))
    assert f".{os.getpid()}." in mine.name
    unnamed = tmp_path / ".b.safetensors.x2.tmp"  # no writer in its name: only its age counts
    unnamed.write_bytes(b"x")
    assert remove_stale_temps(tmp_path) == 0 and mine.exists() and unnamed.exists()
    os.utime(mine, (0, 0))
    assert remove_stale_temps(tmp_path) == 1 and not mine.exists() and unnamed.exists()
