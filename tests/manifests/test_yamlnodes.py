"""The quick fold gives exactly the full fold's Document, or leaves the file to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.manifests.yamlnodes import _Folder, _quick_fold, parse

ROOT = Path(__file__).resolve().parents[2]

# Scalars YAML 1.1 reads as something other than their text, and texts that only look so.
tricky = st.sampled_from(
    [
        "yes", "No", "on", "~", "null", "", "1", "-1", "+1", "0x1F", "0o17", "017", "1_000",
        "1.5", ".5", "-.inf", ".NaN", "1e3", "2024-01-01", "2024-01-01 10:00:00", "<<", "=",
        "true", "TRUE", "y", "n", "3:25:45", "Merchant 1", "dfxm", "a: b", "- x", "#", "'q'",
        "é", "line\nbreak", " padded ", "!tag", "&anchor", "*alias", "{}", "[]",
    ]
)  # fmt: skip
scalars = st.one_of(
    tricky,
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
keys = st.one_of(tricky, st.text(min_size=1, max_size=6), st.integers(0, 9))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, min_size=1, max_size=4)
    ),
    max_leaves=20,
)
documents = st.one_of(
    st.dictionaries(keys, values, min_size=1, max_size=4), st.lists(values, min_size=1)
)

# What a hand-edited file may add that the quick fold must leave to the full one.
edits = st.sampled_from(
    [
        "",
        "extra: &a [1, 2]\nagain: *a\n",
        "anchored: &a [1, {b: &c 2}]\n",
        "tagged: !!str 5\n",
        "custom: !thing x\n",
        "key: 1\nkey: 2\n",
        "<<: {a: 1}\n",
        "? [complex, key]\n: v\n",
        "---\nsecond: doc\n",
        "bad: [unclosed\n",
        "\ttabbed: 1\n",
        "'quoted<<': 1\n",
        "!!map {a: 1}\n",
    ]
)


def typed(value: Any) -> str:
    """A value written so that 1, 1.0, True and '1' differ (== does not tell them apart)."""
    return repr(value)


def assert_same_as_full_fold(text: str) -> bool:
    """True when the quick fold took the file; either way the result is the full fold's."""
    quick = _quick_fold(text)
    full = _Folder(text, "f.yaml").run()
    if quick is None:
        return False
    assert full.errors == [] and full.usable
    assert typed(quick[0]) == typed(full.value)
    assert quick[1] == full.pos
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=documents,
    flow=st.sampled_from([None, False, True]),
    style=st.sampled_from([None, '"', "'", "|"]),
    edit=edits,
    cut=st.integers(0, 400),
    at_end=st.booleans(),
)
def test_the_quick_fold_agrees_with_the_full_one(
    document: Any, flow: bool | None, style: str | None, edit: str, cut: int, at_end: bool
) -> None:
    text = yaml.safe_dump(
        document, default_flow_style=flow, default_style=style, allow_unicode=True
    )
    if isinstance(document, dict) and edit:
        text = text + edit if at_end else edit + text
    assert_same_as_full_fold(text)
    assert_same_as_full_fold(text[:cut])  # mostly broken YAML: left to the full fold


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!int 3\n",
        "a: !local x\n",
        "a: 1\na: 2\n",
        "<<: {b: 1}\n",
        "? [k]\n: v\n",
        "a: 1\n---\nb: 2\n",
        "a: [1\n",
        "just a scalar\n",
        "",
        "# only a comment\n",
        "a: <<\n",
        "a: " + "[" * 70 + "]" * 70 + "\n",
    ],
)
def test_files_the_quick_fold_leaves_to_the_full_one(text: str) -> None:
    assert _quick_fold(text) is None
    assert parse(text, "f.yaml") == _Folder(text, "f.yaml").run()


def is_manifest(text: str) -> bool:
    documents = list(yaml.safe_load_all(text))
    return len(documents) == 1 and isinstance(documents[0], dict) and "version" in documents[0]


def test_every_example_manifest_takes_the_quick_fold() -> None:
    files = sorted((ROOT / "examples").rglob("*.yaml")) + sorted(
        (ROOT / "manifests").rglob("*.yaml")
    )
    manifests = [f for f in files if is_manifest(f.read_text())]
    assert len(manifests) >= 3
    for path in manifests:
        assert assert_same_as_full_fold(path.read_text()), path


def test_an_anchor_no_alias_names_changes_nothing_and_takes_the_quick_fold() -> None:
    assert assert_same_as_full_fold("a: &x [1, {b: &y 2}]\nc: &z 3\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\r\nb: [x, y]\r\n",
        "---\na: 1\n...\n",
        "# a comment\na: 1 # and another\n",
        'a: "x\u2028y"\nb: 2\n',
        'a: "tab\there"\n',
        "a:\n  - b\n  -\n  - {}\n",
        "a: |\n  text\n  more\nb: >\n  folded\n",
        "é: ü\n",
        "a: \x85\n",
    ],
)
def test_line_breaks_markers_comments_and_block_scalars_read_the_same(text: str) -> None:
    assert assert_same_as_full_fold(text)
