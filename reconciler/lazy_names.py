"""Names a package offers but imports from their modules only when first used.

`reconciler.codat` and `reconciler.engine` offer their main names in one place, yet a
command that needs one light module of theirs must not pay for the rest (`validate`
never loads the HTTP client). Each gives its module-level `__getattr__` (PEP 562) from
`importer`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def importer(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A `__getattr__` for `package`: `homes` maps each name to the module defining it;
    a name found once is put in `namespace` (the package's globals) and then read there."""

    def find(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return find
