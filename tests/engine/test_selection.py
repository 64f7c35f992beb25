"""--merchant and --exclude: names or shell-style patterns, each matching a declared merchant."""

from __future__ import annotations

import pytest

from reconciler.engine.selection import select_merchants
from reconciler.errors import ReconcilerError
from reconciler.manifests.model import DesiredState, Location, Merchant

NAMES = ("uk-1", "uk-2", "UK-3", "us-1", "[test] shop")
DESIRED = DesiredState(
    tuple(Merchant(name, Location("m.yaml", i + 3, 5)) for i, name in enumerate(NAMES))
)


@pytest.mark.parametrize(
    ("merchants", "exclude", "chosen"),
    [
        ((), (), ()),  # neither: every merchant
        (("uk-*",), (), ("uk-1", "uk-2")),  # letter case counts
        (("uk-*", "us-1"), ("uk-2",), ("uk-1", "us-1")),
        ((), ("u?-*",), ("UK-3", "[test] shop")),
        (("[test] shop",), (), ("[test] shop",)),  # a declared name is itself, brackets and all
        (("[tu]s-1",), (), ("us-1",)),
    ],
)
def test_names_and_patterns_choose_declared_merchants(
    merchants: tuple[str, ...], exclude: tuple[str, ...], chosen: tuple[str, ...]
) -> None:
    assert select_merchants(DESIRED, merchants, exclude) == chosen


def test_anything_matching_nothing_is_named_in_one_error() -> None:
    with pytest.raises(ReconcilerError) as raised:
        select_merchants(DESIRED, ("uk-*", "eu-*"), ("nobody",), ["manifests/"])
    message = str(raised.value)
    assert message.startswith('--merchant "eu-*", --exclude "nobody": not declared in manifests/')
    assert message.endswith("Nothing was done.")


def test_excluding_every_chosen_merchant_is_an_error() -> None:
    with pytest.raises(ReconcilerError, match="--exclude leaves no merchant of manifests/"):
        select_merchants(DESIRED, ("uk-1",), ("uk-*",), ["manifests/"])
