"""The hand-written references name everything the code offers."""

from __future__ import annotations

import ast
import re

from reconciler import engine
from tests.docs.generator import ROOT

ENVIRONMENT = ROOT / "docs" / "reference" / "environment.md"
PYTHON_API = ROOT / "docs" / "reference" / "python-api.md"


def variables_the_tool_reads() -> set[str]:
    """Names passed to os.environ / os.getenv / click's envvar=, and CODAT_* constants."""
    found = set()
    for path in (ROOT / "reconciler").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"CODAT_[A-Z0-9_]*[A-Z0-9]", node.value)
            ):
                found.add(node.value)
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                if func in {"os.environ.get", "os.getenv", "environ.get"} and node.args:
                    arg = node.args[0]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
                for keyword in node.keywords:
                    if keyword.arg == "envvar" and isinstance(keyword.value, ast.Constant):
                        found.add(str(keyword.value.value))
    return found


def test_every_environment_variable_is_documented() -> None:
    variables = variables_the_tool_reads()
    assert {"CODAT_API_KEY", "CODAT_RECONCILER_KEY", "NO_COLOR"} <= variables  # the scan works
    text = ENVIRONMENT.read_text(encoding="utf-8")
    missing = sorted(v for v in variables if f"`{v}`" not in text)
    assert missing == [], f"docs/reference/environment.md does not list {missing}"


def test_every_engine_name_is_documented() -> None:
    text = PYTHON_API.read_text(encoding="utf-8")
    missing = [name for name in engine.__all__ if f"`{name}" not in text]
    assert missing == [], f"docs/reference/python-api.md does not describe {missing}"
