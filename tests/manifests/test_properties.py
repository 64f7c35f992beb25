"""Property tests: a mutated manifest gives a model or clean errors, never an exception."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.manifests.errors import ManifestErrors
from reconciler.manifests.loader import Checked, check, load
from reconciler.manifests.model import DesiredState
from reconciler.manifests.references import env_refusal
from reconciler.manifests.schema import fast_check, validator
from reconciler.manifests.yamlnodes import parse

LINE = re.compile(r"^.+:\d+:\d+: .+$")
COUNT = re.compile(r"^\d+ errors? in \d+ files?$")

keys4 = st.text("abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=4)
names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9 \-&.]{0,15}\Z")
tag_maps = st.dictionaries(
    st.from_regex(r"\A[a-z][a-z-]{0,10}\Z"), st.text(max_size=20), max_size=3
)
auth_values = st.one_of(
    st.text(max_size=10),
    st.builds(
        lambda n: {"env": n},
        # The tool's own variables and CI credentials are refused (test_secret_boundary.py).
        st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,8}\Z").filter(lambda n: env_refusal(n) is None),
    ),
    st.builds(lambda p: {"file": p}, st.sampled_from(["secret.key", "sub/x.key"])),
)
connections = st.lists(
    st.fixed_dictionaries(
        {"platformKey": keys4},
        optional={
            "authorization": st.dictionaries(
                st.from_regex(r"\A[a-zA-Z]{1,8}\Z"), auth_values, min_size=1, max_size=2
            )
        },
    ),
    max_size=3,
    unique_by=lambda c: c["platformKey"],
)
merchant = st.fixed_dictionaries(
    {"name": names},
    optional={
        "description": st.text(max_size=20),
        "tags": tag_maps,
        "companyId": st.uuids().map(str),
        "syncFlow": st.fixed_dictionaries(
            {},
            optional={
                "commerceKey": keys4,
                "accountingKey": keys4,
                "redirectUrl": st.just("https://app.example.com/done"),
            },
        ),
        "connections": connections,
    },
)
manifests = st.fixed_dictionaries(
    {"version": st.just(1), "merchants": st.lists(merchant, max_size=3)},
    optional={
        "defaults": st.fixed_dictionaries(
            {}, optional={"tags": tag_maps, "connections": connections}
        )
    },
)
junk = st.sampled_from(
    [
        "",
        "\0",
        ":",
        "- ",
        "{",
        "]",
        "&a ",
        "*a",
        "!!python/object ",
        "\t",
        "\xff",
        "\n  ",
        "'",
        "<<: ",
        "? ",
    ]
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


def _mutate_structure(doc: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    path = data.draw(st.sampled_from(_paths(doc)[1:] or [()]))
    if not path:
        return doc
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = data.draw(st.sampled_from(["delete", "rename", "retype"]))
    if action == "delete":
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=12))] = parent.pop(last)
    else:
        parent[last] = data.draw(
            st.one_of(
                st.integers(),
                st.booleans(),
                st.none(),
                st.lists(st.integers(), max_size=2),
                st.floats(),
            )
        )
    return doc


def _mutate_text(text: bytes, data: st.DataObject) -> bytes:
    action = data.draw(st.sampled_from(["insert", "truncate", "duplicate_line", "bytes", "none"]))
    at = data.draw(st.integers(0, len(text)))
    if action == "insert":
        return text[:at] + data.draw(junk).encode("utf-8", "surrogatepass") + text[at:]
    if action == "truncate":
        return text[:at]
    if action == "duplicate_line":
        lines = text.splitlines(keepends=True) or [b""]
        i = data.draw(st.integers(0, len(lines) - 1))
        return b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if action == "bytes":
        return text[:at] + data.draw(st.binary(max_size=8)) + text[at:]
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(manifests, min_size=1, max_size=2), data=st.data())
def test_mutated_manifests_load_or_fail_cleanly(
    documents: list[dict[str, Any]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "secret.key").write_text("s")
        for index, document in enumerate(documents):
            if data.draw(st.booleans()):
                document = _mutate_structure(document, data)
            text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")
            (root / f"m{index}.yaml").write_bytes(_mutate_text(text, data))
        check_secrets = data.draw(st.booleans())
        try:
            result = load([root], check_secrets=check_secrets)
        except ManifestErrors as errors:
            lines = str(errors).splitlines()
            assert errors.errors
            assert all(LINE.match(line) for line in lines[:-1]), lines
            assert COUNT.match(lines[-1]), lines
            # validate's check, which builds no merchants, finds exactly the same problems
            with pytest.raises(ManifestErrors) as checked:
                check([root], check_secrets=check_secrets)
            assert str(checked.value) == str(errors)
        else:
            assert isinstance(result, DesiredState)
            assert check([root], check_secrets=check_secrets) == Checked(
                files=result.files, merchants=len(result.merchants)
            )


@settings(max_examples=200, deadline=None)
@given(document=manifests, data=st.data())
def test_the_fast_check_agrees_with_jsonschema(
    document: dict[str, Any], data: st.DataObject
) -> None:
    document = _mutate_structure(document, data)
    text = yaml.safe_dump(document, sort_keys=False)
    parsed = parse(text, "m.yaml")
    compiled = fast_check()
    assert compiled is not None
    assert compiled(parsed.value) == validator().is_valid(parsed.value)
