"""The README stays short, speaks to users, and gives the test command CI runs."""

from __future__ import annotations

import re
import shlex

from tests.docs.generator import ROOT
from tests.docs.markdown import markdown_files

README = ROOT / "README.md"
LIMIT = 15_000
# Project history does not belong in user docs: no development log ("session 2", "the
# session-1 code"), no "previously"/"the old code".
HISTORY = re.compile(r"\bsession\b|\bsession-\d|\bthe old code\b|\bpreviously\b", re.I)


def test_the_readme_reads_in_minutes() -> None:
    size = len(README.read_text(encoding="utf-8"))
    assert size <= LIMIT, (
        f"README.md is {size} characters: move detail into docs/ (at most {LIMIT})"
    )


def test_user_docs_carry_no_project_history() -> None:
    pages = [README, *(p for p in markdown_files() if "docs" in p.relative_to(ROOT).parts[:1])]
    found = [
        f"{page.relative_to(ROOT)}:{number}: {line.strip()}"
        for page in pages
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if HISTORY.search(line)
    ]
    assert found == []


def test_the_quickstart_gives_the_command_ci_runs() -> None:
    ci = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci[-1].startswith("exec ")
    ci_command = shlex.split(ci[-1])[1:]
    quickstart = (
        README.read_text(encoding="utf-8").split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    )
    commands = [
        shlex.split(line.split("#", 1)[0])
        for line in quickstart.splitlines()
        if line.startswith("python3 dev.py")
    ]
    assert ci_command in commands, f"the Quickstart must give `{' '.join(ci_command)}`"
    assert ["python3", "dev.py", "demo"] in commands
