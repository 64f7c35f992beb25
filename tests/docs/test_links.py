"""Every relative link in the Markdown reaches its file and anchor; every path named exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.docs.generator import ROOT
from tests.docs.markdown import anchor, anchors, links, markdown_files

EXTERNAL = ("http://", "https://", "mailto:")


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for line, target in links(path):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{path.relative_to(root)}:{line}: {target}"
        if not resolved.exists():
            problems.append(f"{where}: no such file")
        elif root not in resolved.parents:
            problems.append(f"{where}: leaves the repository")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            problems.append(f"{where}: no heading with anchor #{fragment}")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(path: Path) -> None:
    assert broken_links(path) == []


def test_the_checker_catches_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Second part\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## A `code` heading\n\n"
        "[ok](#a-code-heading) [ok too](other.md#second-part)\n"
        "[gone](no-such-page.md) [no anchor](other.md#nowhere) [external](https://example.com)\n"
        "[outside](../elsewhere.md)\n"
        "```\n[in code](not-checked.md)\n```\n",
        encoding="utf-8",
    )
    (tmp_path.parent / "elsewhere.md").touch()
    problems = broken_links(page, root=tmp_path)
    assert [p.split(": ", 2)[1:] for p in problems] == [
        ["no-such-page.md", "no such file"],
        ["other.md#nowhere", "no heading with anchor #nowhere"],
        ["../elsewhere.md", "leaves the repository"],
    ]


def test_anchors_follow_github() -> None:
    assert anchor("Which Codat a command talks to") == "which-codat-a-command-talks-to"
    assert anchor("`watch` endpoints, metrics and logs") == "watch-endpoints-metrics-and-logs"
    assert anchor("codat-reconciler sandbox serve") == "codat-reconciler-sandbox-serve"


_PATH = re.compile(
    r"(?<![\w/.-])((?:tests|benchmarks|scripts|examples|reconciler|schemas)/[\w./-]*[\w/])"
    r"(?:::(\w+))?"
)


def named_paths(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in _PATH.finditer(text)]


def missing_paths(page: Path) -> list[str]:
    problems = []
    for path, test in named_paths(page.read_text(encoding="utf-8")):
        target = ROOT / path
        if not target.exists():
            problems.append(f"{page.relative_to(ROOT)}: {path} does not exist")
        elif test and not re.search(rf"^def {test}\(", target.read_text("utf-8"), re.M):
            problems.append(f"{page.relative_to(ROOT)}: {path} has no {test}")
    return problems


def our_pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("page", our_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_files_and_tests_the_docs_name_exist(page: Path) -> None:
    assert missing_paths(page) == []


def test_a_renamed_test_is_caught() -> None:
    assert named_paths("`tests/cli/test_help.py::test_version`, and scripts/gen_docs.py.") == [
        ("tests/cli/test_help.py", "test_version"),
        ("scripts/gen_docs.py", None),
    ]
    assert re.search(r"^def test_version\(", (ROOT / "tests/cli/test_help.py").read_text(), re.M)
    assert not re.search(r"^def test_no_such\(", (ROOT / "tests/cli/test_help.py").read_text())
