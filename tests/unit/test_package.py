"""The installable package (pyproject.toml): its command resolves, and every file the library reads at run time
ships with it. (`pip install .` in a fresh venv, then `vae-explorer --help`, is the full check: README.)"""

import importlib
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_console_command_is_the_cli():
    target = PROJECT["project"]["scripts"]["vae-explorer"]
    module, _, name = target.partition(":")
    assert callable(getattr(importlib.import_module(module), name))


def test_every_data_file_of_the_library_is_packaged():
    patterns = PROJECT["tool"]["setuptools"]["package-data"]["explorer"]
    package = ROOT / "explorer"
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data and [f for f in data if not any(fnmatch(f, pattern) for pattern in patterns)] == []


def test_the_command_names_itself():
    done = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = '/venv/bin/vae-explorer'; "
                           "from explorer.__main__ import main; main(['--help'])"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.startswith("usage: vae-explorer ")
