"""Issue points 2, 5 and 6: files and directories, secret references, safe loading."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from reconciler.manifests import loader
from reconciler.manifests.loader import load
from reconciler.manifests.model import SecretRef
from tests.manifests.conftest import Write, errors_of

OK = 'version: 1\nmerchants:\n  - name: "{}"\n'
AUTH = (
    'version: 1\nmerchants:\n  - name: "1"\n    connections:\n      - platformKey: dfxm\n'
    "        authorization:\n          token: {}\n"
)


def test_a_directory_means_every_yaml_below_it_sorted(write: Write) -> None:
    write("m/b.yml", OK.format("b"))
    write("m/a.yaml", OK.format("a"))
    write("m/sub/c.yaml", OK.format("c"))
    write("m/.github/workflow.yml", "not: a manifest\n")
    write("m/notes.txt", "ignored")
    state = load(["m/"])
    assert [m.name for m in state.merchants] == ["a", "b", "c"]
    assert [f for f, _ in state.files] == ["m/a.yaml", "m/b.yml", "m/sub/c.yaml"]
    digest = hashlib.sha256(Path("m/a.yaml").read_bytes()).hexdigest()
    assert state.files[0] == ("m/a.yaml", digest)


def test_a_file_given_twice_is_read_once_and_an_empty_directory_is_an_error(
    write: Write,
) -> None:
    write("m/a.yaml", OK.format("a"))
    assert len(load(["m", "m/a.yaml"]).merchants) == 1
    Path("empty").mkdir()
    assert errors_of("empty") == [
        "empty:1:1: no manifest files under empty (*.yaml or *.yml, any letter case)"
    ]


def test_secret_references_are_parsed_not_resolved(write: Write) -> None:
    write("repo/.git/HEAD", "")
    write("repo/m/a.yaml", AUTH.format("{env: NOT_SET_ANYWHERE}"))
    write("repo/m/b.yaml", AUTH.format("{file: ../keys/k.txt}").replace('"1"', '"2"'))
    state = load(["repo/m"])
    assert state.merchants[0].connections[0].authorization == {
        "token": SecretRef("env", "NOT_SET_ANYWHERE")
    }
    ref = state.merchants[1].connections[0].authorization["token"]  # type: ignore[index]
    assert isinstance(ref, SecretRef) and ref.name == "../keys/k.txt"
    # Inside the repository (the .git ancestor) although outside the directory given.
    assert ref.path == (Path("repo/keys/k.txt")).resolve()


def test_a_file_reference_escaping_the_repository_is_an_error(write: Write) -> None:
    write("repo/.git/HEAD", "")
    write("outside.key", "secret")
    write("repo/m/a.yaml", AUTH.format("{file: ../../outside.key}"))
    write("repo/m/b.yaml", AUTH.format("{file: /etc/hostname}").replace('"1"', '"2"'))
    root = Path("repo").resolve()
    assert errors_of("repo/m") == [
        f"repo/m/a.yaml:7:18: secret file '../../outside.key' is outside the repository ({root})",
        "repo/m/b.yaml:7:18: secret file '/etc/hostname' must be a path relative to the manifest",
    ]


def test_a_file_reference_escaping_through_a_symlink_is_an_error(write: Write) -> None:
    write("outside.key", "secret")
    write("m/a.yaml", AUTH.format("{file: link.key}"))
    os.symlink(Path("outside.key").resolve(), "m/link.key")
    # No .git anywhere up: the manifest's folder is the boundary.
    root = Path("m").resolve()
    assert errors_of("m") == [
        f"m/a.yaml:7:18: secret file 'link.key' is outside this manifest's folder ({root}; "
        "there is no .git above it)"
    ]


def test_check_secrets_reports_unresolvable_references_without_values(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CR_TEST_UNSET", raising=False)
    monkeypatch.setenv("CR_TEST_SET", "s3cr3t-value")
    write("m/a.yaml", AUTH.format("{env: CR_TEST_UNSET}"))
    write("m/b.yaml", AUTH.format("{file: missing.key}").replace('"1"', '"2"'))
    write("m/c.yaml", AUTH.format("{env: CR_TEST_SET}").replace('"1"', '"3"'))
    assert len(load(["m"]).merchants) == 3  # without the flag, nothing is resolved
    assert errors_of("m", check_secrets=True) == [
        "m/a.yaml:7:18: environment variable CR_TEST_UNSET is not set",
        "m/b.yaml:7:18: secret file missing.key does not exist",
    ]


def test_tags_that_construct_objects_are_refused(write: Write) -> None:
    write("a.yaml", "version: 1\nmerchants: !!python/object/apply:os.system ['echo hi']\n")
    write("b.yaml", 'version: 1\nmerchants:\n  - name: !foo "1"\n')
    write("c.yaml", "version: 1\nmerchants: !!set {a}\n")
    assert errors_of("a.yaml", "b.yaml", "c.yaml") == [
        "a.yaml:2:12: YAML tag '!!python/object/apply:os.system' is not allowed:"
        " manifests hold plain data only",
        "b.yaml:3:11: YAML tag '!foo' is not allowed: manifests hold plain data only",
        "c.yaml:2:12: YAML tag '!!set' is not allowed: manifests hold plain data only",
    ]


def test_an_empty_value_under_a_number_or_boolean_tag_is_an_error(write: Write) -> None:
    write("a.yaml", 'version: 1\nmerchants:\n  - name: a\n    description: !!int ""\n')
    write("b.yaml", "version: 1\nmerchants:\n  - name: b\n    description: !!bool\n")
    assert errors_of("a.yaml", "b.yaml") == [
        "a.yaml:4:18: not a valid !!int value",
        "b.yaml:4:18: not a valid !!bool value",
    ]


def test_an_alias_bomb_is_an_error_not_a_hang(write: Write) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    write("bomb.yaml", "\n".join(lines) + "\nmerchants: []\n")
    errors = errors_of("bomb.yaml")
    # a4 holds 10 aliases of a3 (1,111 nodes each): the expansion passes 100,000 there,
    # so loading stops at line 6 instead of expanding a8's 10^9 nodes.
    assert len(errors) == 1
    assert errors[0].startswith("bomb.yaml:6:")
    assert errors[0].endswith(
        "alias expansion exceeds 100,000 nodes (aliases of aliases grow too large)"
    )


def test_recursive_and_undefined_aliases(write: Write) -> None:
    write("a.yaml", "version: 1\nmerchants: &m [*m]\n")
    write("b.yaml", "version: 1\nmerchants: *nope\n")
    assert errors_of("a.yaml", "b.yaml") == [
        "a.yaml:2:16: alias '*m' refers to a node that contains it",
        "b.yaml:2:12: alias '*nope' has no anchor '&nope' before it",
    ]


def test_deep_nesting_is_an_error_not_a_crash(write: Write) -> None:
    write("deep.yaml", "version: 1\nmerchants: " + "[" * 200_000 + "]" * 200_000 + "\n")
    assert errors_of("deep.yaml") == ["deep.yaml:2:75: nesting deeper than 64 levels"]


def test_files_over_5_mib_are_refused_before_parsing(write: Write) -> None:
    write("big.yaml", "version: 1\n" + "#" * (5 * 1024 * 1024) + "\nmerchants: []\n")
    assert errors_of("big.yaml") == [
        "big.yaml:1:1: file is 5.0 MiB; a manifest may be at most 5 MiB: split it"
    ]


def test_non_utf8_and_binary_files(write: Write) -> None:
    write("latin1.yaml", 'version: 1\nmerchants:\n  - name: "Caf\xe9"\n'.encode("latin-1"))
    write("utf16.yaml", "version: 1\n".encode("utf-16"))
    assert errors_of("latin1.yaml", "utf16.yaml") == [
        "latin1.yaml:3:15: invalid UTF-8 at byte 36: save the file as UTF-8",
        "utf16.yaml:1:4: this is not a text file (it contains NUL bytes):"
        " manifests must be UTF-8 YAML",
    ]


def test_yaml_syntax_errors_empty_files_and_second_documents(write: Write) -> None:
    write("a.yaml", "version: 1\nmerchants:\n  - name: x\n   bad: indent\n")
    write("b.yaml", "# only a comment\n")
    write("c.yaml", "version: 1\nmerchants: []\n---\nversion: 1\n")
    write("d.yaml", "version: 1\nmerchants: \x07\n")
    write("e.yaml", "- just\n- a list\n")
    assert errors_of("a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml") == [
        "a.yaml:4:4: YAML syntax error: while parsing a block collection:"
        " did not find expected '-' indicator",
        "b.yaml:1:1: the file is empty: a manifest starts with 'version: 1'",
        "c.yaml:3:1: a second YAML document ('---') in one file: keep one document per file",
        "d.yaml:2:12: invalid YAML: control characters are not allowed",
        "e.yaml:1:1: the document must be a mapping (key: value), got a list",
    ]


def test_plain_dates_and_yes_no_scalars_stay_data(write: Write) -> None:
    write("m.yaml", 'version: 1\nmerchants:\n  - name: "1"\n    tags: {since: 2024-01-01}\n')
    assert load(["m.yaml"]).merchants[0].tags == {"since": "2024-01-01"}


def test_a_file_that_fails_to_read_midway_is_a_clean_error_that_hides_no_other(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("a.yaml", OK.format("a"))
    write("b.yaml", "version: 1\nmerchants: [{nam: x}]\n")

    def unreadable(*args: object) -> object:
        raise OSError(5, "Input/output error")  # say, a network share gone mid-run

    monkeypatch.setattr(loader, "parse", unreadable)
    assert errors_of("a.yaml", "b.yaml") == [
        "a.yaml:1:1: could not read this file (OSError)",
        "b.yaml:1:1: could not read this file (OSError)",
    ]


def test_a_bug_in_the_loader_is_not_disguised_as_a_manifest_error(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("a.yaml", OK.format("a"))

    def broken(*args: object) -> object:
        raise KeyError("bug")

    monkeypatch.setattr(loader, "parse", broken)
    with pytest.raises(KeyError, match="bug"):
        load(["a.yaml"])
