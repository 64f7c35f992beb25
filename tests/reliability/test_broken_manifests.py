"""Scenario 7: a corpus of broken manifests, each refused with a clear located error.

Committed cases live in broken/, one per file, the first line stating what is
expected: `# expect: LINE:COLUMN: message substring`. Cases that are better made
at run time (over 5 MiB, an alias bomb of millions of nodes, non-UTF-8, binary,
UTF-16, nesting too deep) are generated below. Every case goes through
`validate`, `plan` and `apply` (against a sandbox server): exit 1, the message at
FILE:LINE:COLUMN, no traceback, and not one request reaches Codat.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle
from tests.reliability.harness import server_args
from tests.reliability.invariants import canonical, snapshot

BROKEN = Path(__file__).parent / "broken"
_EXPECT = re.compile(r"# expect: (\d+):(\d+): (.+)")


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    line: int
    column: int
    message: str


def committed() -> list[Case]:
    cases = []
    for path in sorted(BROKEN.glob("*.yaml")):
        content = path.read_bytes()
        found = _EXPECT.match(content.decode().splitlines()[0])
        assert found, f"{path.name}: the first line must be '# expect: LINE:COLUMN: message'"
        cases.append(Case(path.stem, content, int(found[1]), int(found[2]), found[3]))
    return cases


def _bomb(levels: int) -> bytes:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return ("\n".join(rows) + "\nversion: 1\nmerchants: []\n").encode()


def _huge() -> bytes:
    row = '  - name: "{0}"\n    description: ' + "x" * 100 + "\n"
    return b"version: 1\nmerchants:\n" + "".join(row.format(i) for i in range(45_000)).encode()


GENERATED = [
    Case("huge-over-5-MiB", _huge(), 1, 1, "a manifest may be at most 5 MiB"),
    # 10^9 nodes if expanded; refused at the alias where the count crosses 100,000.
    Case("alias-bomb-billion", _bomb(9), 5, 45, "alias expansion exceeds 100,000 nodes"),
    Case("latin-1", b'version: 1\nmerchants:\n  - name: "caf\xe9"\n', 3, 15, "invalid UTF-8"),
    Case("binary-elf", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), 1, 8, "not a text file"),
    Case("utf-16", "version: 1\nmerchants: []\n".encode("utf-16"), 1, 4, "not a text file"),
    Case(
        "nesting-too-deep",
        b"version: 1\nmerchants: " + b"[" * 5000 + b"]" * 5000,
        2,
        75,
        "nesting deeper than 64 levels",
    ),
]

CASES = committed() + GENERATED


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_broken_manifest_is_refused_at_its_position_without_touching_codat(
    case: Case, cli: CliFn, sandbox_server: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    manifest = tmp_path / "manifests" / f"{case.name}.yaml"
    manifest.parent.mkdir()
    manifest.write_bytes(case.content)
    sb = sandbox_server()
    before = canonical(snapshot(sb.state_path))
    env = {"CODAT_API_KEY": sb.api_key}
    located = f"{manifest}:{case.line}:{case.column}: "
    for args in (
        ["validate", str(manifest)],
        ["plan", str(manifest), *server_args(sb)],
        ["apply", str(manifest), "--auto-approve", *server_args(sb)],
    ):
        run = cli(*args, env=env)
        assert run.code == 1, f"{case.name}: {args[0]}\n{run}"
        assert "Traceback" not in run.output, f"{case.name}: {args[0]}\n{run}"
        errors = [x for x in run.stderr.splitlines() if x.startswith(located)]
        assert any(case.message in x for x in errors), (
            f"{case.name}: {args[0]} did not say {located}{case.message}\n{run}"
        )
        assert sb.api_key not in run.output
    assert list(sb.app.calls) == [], f"{case.name}: Codat was called: {list(sb.app.calls)}"
    assert canonical(snapshot(sb.state_path)) == before
