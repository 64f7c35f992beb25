"""reconciler/environment.py is the one list of variables the tool reads for itself.

The loader refuses `{env: NAME}` for every name in it, so a variable read anywhere
else, and not declared there, would be a secret a manifest could send to Codat.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import reconciler
from reconciler import environment

PACKAGE = Path(reconciler.__file__).parent
# Where the tool reads the variable a manifest names ({env: NAME}): the user's, not its own.
USER_REFERENCES = {("manifests/model.py", "self.name"), ("manifests/references.py", "value.name")}


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _reads(tree: ast.Module) -> list[ast.expr]:
    """The name expressions of every environment read: os.environ.get(X), os.environ[X],
    X in os.environ, os.getenv(X), and click's envvar=X."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and node.args
                and ((func.attr == "get" and _is_environ(func.value)) or func.attr == "getenv")
            ):
                found.append(node.args[0])
            found += [k.value for k in node.keywords if k.arg == "envvar"]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            found.append(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            found.append(node.left)
    return found


def _value(module: str, node: ast.expr) -> str | None:
    """The variable name an expression stands for, when it is a constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    loaded = importlib.import_module(module)
    if isinstance(node, ast.Name):
        value = getattr(loaded, node.id, None)
        return value if isinstance(value, str) else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        value = getattr(getattr(loaded, node.value.id, None), node.attr, None)
        return value if isinstance(value, str) else None
    return None


def _own_reads() -> Iterator[tuple[str, str, ast.expr]]:
    """(path in the package, module, name expression) of every read of the tool's own."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        module = "reconciler." + relative.removesuffix(".py").replace("/", ".")
        for node in _reads(ast.parse(path.read_text(encoding="utf-8"))):
            if (relative, ast.unparse(node)) not in USER_REFERENCES:
                yield relative, module, node


def test_only_the_command_line_reads_the_environment() -> None:
    # The engine, the client and the planner are given what the operator set: read
    # anywhere else, a variable would be a second source of a fact the CLI decides.
    elsewhere = [
        f"{path}: {ast.unparse(node)}"
        for path, _, node in _own_reads()
        if not path.startswith("cli/")
    ]
    assert elsewhere == []


def test_every_variable_the_code_reads_is_declared() -> None:
    read: set[str] = set()
    for relative, module, node in _own_reads():
        name = _value(module.removesuffix(".__init__"), node)
        assert name is not None, f"{relative}: reads the variable {ast.unparse(node)}"
        read.add(name)
        assert name in environment.READ, f"{relative} reads {name}: declare it"
    # The scan sees the reads it must: it is not passing by finding nothing.
    assert {
        environment.API_KEY,
        environment.RECONCILER_KEY,
        environment.WEBHOOK_SECRET,
        environment.SECRET_ENV,
        environment.NO_COLOR,
    } <= read
