"""The project's own rules: the library never imports streamlit, and nothing unpickles."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_ui_package_imports_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "explorer").rglob("*.py")
        if "ui" not in path.relative_to(ROOT / "explorer").parts
        and re.search(r"^\s*(import streamlit|from streamlit)", path.read_text(), re.M)
    ]
    assert offenders == []


def test_nothing_unpickles():
    sources = [*(ROOT / "explorer").rglob("*.py"), ROOT / "streamlit_app.py"]
    hits = [
        str(p.relative_to(ROOT))
        for p in sources
        if p.exists() and re.search(r"torch\.load\(|pickle\.loads?\(|allow_pickle=True", p.read_text())
    ]
    assert hits == []


def test_one_module_owns_the_session():
    """Pages never read or write raw session keys: explorer/ui/session.py is the only code that does."""
    owners = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "explorer" / "ui").rglob("*.py")
        if "st.session_state" in path.read_text()
    )
    assert owners == ["explorer/ui/session.py"]
