"""The `watch` extra's libraries, imported only when `watch` runs.

The base install (plan, apply in CI) needs neither; without them `watch`
says how to get them instead of failing with an ImportError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from reconciler.errors import ReconcilerError

INSTALL = "pip install 'codat-reconciler[watch]'"


def require(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ReconcilerError(
            f"watch needs the {module.split('.')[0]} library, part of the watch extra: {INSTALL}"
        ) from None
