"""AppTest: every link the README gives as an example opens as written, with nothing refused."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, no_exception

README = Path(__file__).parents[2] / "README.md"
PAGES = {"": "explorer/ui/pages/explore.py", "lessons": "explorer/ui/pages/lessons.py",
         "generate": "explorer/ui/pages/generate.py", "vectors": "explorer/ui/pages/vectors.py",
         "compare": "explorer/ui/pages/compare.py", "likelihood": "explorer/ui/pages/likelihood.py",
         "train": "explorer/ui/pages/train.py"}


def readme_links() -> list[str]:
    """The links written in the README, as `/page?name=value&...`."""
    return re.findall(r"`(/[a-z]*\?[^`\s]+)`", README.read_text())


def test_the_readme_has_example_links():
    assert len(readme_links()) >= 2


@pytest.mark.parametrize("link", readme_links())
def test_a_readme_link_opens_as_written(link):
    parts = urlsplit(link)
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(dict(parse_qsl(parts.query)))
    at.switch_page(PAGES[parts.path.strip("/")]).run()  # the link's page is the visit's first
    no_exception(at)
    assert not at.warning, [w.value for w in at.warning]  # nothing in it was refused
    kept = {k: v for k, v in at.query_params.items()}
    assert dict(parse_qsl(parts.query)).items() <= kept.items()  # and all of it is kept
    if "picks" in link:  # the path between the picks is decoded
        assert len(at.session_state["visitor"].picks) == 2 and at.get_by_key("interp_strip")
