"""The library's shape, checked: functions that fit on a screen, and model kinds asked, never tested by name."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "explorer"
MAX_FUNCTION_LINES = 50


def test_every_function_fits_on_a_screen():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_no_module_tests_a_model_kind_by_name():
    flag = re.compile(r"is_vae|kind ==")
    found = [f"{path.relative_to(PACKAGE)}:{n}" for path in PACKAGE.rglob("*") if path.suffix in (".py", ".js")
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if flag.search(line) and "kinds" not in path.parts]
    assert found == []
