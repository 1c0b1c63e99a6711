"""The first page load stays light: the heavy libraries load only when a visitor asks for what needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_page_modules_import_no_heavy_libraries():
    code = (
        "import sys; import explorer.ui.resources, explorer.ui.session, explorer.ui.sidebar, explorer.ui.explore, "
        "explorer.ui.generate, explorer.ui.url;"
        "heavy = [m for m in ('umap', 'openTSNE', 'torchvision', 'numba', 'pynndescent', 'mlxtend') "
        "if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_app_imports_pandas_before_any_page_draws():
    """Plotly reads sys.modules['pandas'] without the import lock: a pandas import on another thread (the
    UMAP warm-up, a PCA) while a figure is built would hand it a half-initialised module."""
    source = (ROOT / "explorer" / "ui" / "resources.py").read_text()
    start_up = source[source.index("def start_up"):source.index("def ", source.index("def start_up") + 10)]
    assert "import pandas" in start_up and start_up.index("import pandas") < start_up.index("Timer(")
    source = (ROOT / "explorer" / "ui" / "sidebar.py").read_text()
    page_start = source[source.index("def page_start"):source.index("def model_sidebar")]
    assert "resources.start_up()" in page_start
    sidebar = source[source.index("def model_sidebar"):]
    assert sidebar.index("page_start()") < sidebar.index("st.selectbox")
    compare = (ROOT / "explorer" / "ui" / "compare.py").read_text()  # the page without the model sidebar
    render = compare[compare.index("def render"):]
    assert render.index("sidebar.page_start()") < render.index("st.")
