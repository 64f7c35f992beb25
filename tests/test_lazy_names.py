"""Packages that offer names imported on first use (reconciler/lazy_names.py)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["reconciler.codat", "reconciler.engine"])
def test_every_name_a_lazy_package_offers_is_there(package: str) -> None:
    # Names are imported on first use, so a misspelt home would only fail when used.
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert getattr(value, "__name__", name) == name, (package, name)
