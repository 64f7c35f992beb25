"""Reading manifest files in several processes gives exactly the sequential result."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.manifests import loader, parallel
from reconciler.manifests.discovery import Source
from reconciler.manifests.errors import ManifestErrors
from tests.fixtures.cli import CliFn

PINNED = "0498e921-9b53-4396-a412-4f2f5983b0a2"


def fleet(root: Path, files: int, per_file: int, *, pin: bool = True) -> None:
    """Merchants with every kind of value the loader models, spread over `files` files."""
    (root / "keys").mkdir(parents=True)
    (root / "keys" / "shared.key").write_text("key\n")
    for f in range(files):
        lines = [
            "version: 1",
            "defaults:",
            f"  tags: {{batch: 'b{f}'}}",
            "  syncFlow: {commerceKey: lqai}",
            "  connections:",
            "    - platformKey: lqai",
            "merchants:",
        ]
        for i in range(per_file):
            n = f * per_file + i
            lines += [
                f'  - name: "{n:08d}"',
                f"    description: Merchant {n}",
                "    syncFlow: {accountingKey: gbol}",
                *([f"    companyId: {PINNED}"] if pin and n == 3 else []),
                "    connections:",
                "      - platformKey: dfxm",
                "        authorization:",
                "          apiToken: {env: FLEET_TOKEN}",
                f"          storeId: store-{n}",
                "          signingKey: {file: keys/shared.key}",
            ]
        (root / f"m{f:02d}.yaml").write_text("\n".join(lines) + "\n")


def load_with(processes: int, root: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    """What `load` gives with this many processes; `check` (validate's) must agree."""
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "processes_available", lambda: processes)
    try:
        state = loader.load([root])
    except ManifestErrors as err:
        with pytest.raises(ManifestErrors) as checked:
            loader.check([root])
        assert str(checked.value) == str(err)
        return [str(e) for e in err.errors], err.files
    assert loader.check([root]) == loader.Checked(state.files, len(state.merchants))
    return state


def test_a_fleet_read_in_three_processes_equals_the_sequential_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet(tmp_path, files=7, per_file=15)
    sequential = load_with(1, tmp_path, monkeypatch)
    assert load_with(3, tmp_path, monkeypatch) == sequential
    assert len(getattr(sequential, "merchants", ())) == 105


def test_errors_come_back_in_file_order_with_their_positions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet(tmp_path, files=6, per_file=4)
    (tmp_path / "m01.yaml").write_text("version: 1\nmerchants:\n  - name: [1\n")
    (tmp_path / "m04.yaml").write_text('version: 1\nmerchants:\n  - name: "00000000"\n')
    (tmp_path / "m05.yaml").write_text("version: 1\nmerchants:\n  - nmae: x\n")
    sequential = load_with(1, tmp_path, monkeypatch)
    assert isinstance(sequential, tuple) and len(sequential[0]) >= 3
    assert load_with(2, tmp_path, monkeypatch) == sequential


def test_a_child_that_dies_costs_time_not_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = []
    for i in range(6):
        path = tmp_path / f"f{i}.yaml"
        path.write_text("x" * (i + 1))
        paths.append(path)
    sources = [Source(p.name, p) for p in paths]
    parent = os.getpid()

    def work(source: Source) -> str:
        if os.getpid() != parent and source.display == "f4.yaml":
            os._exit(3)  # a child killed mid-share
        return source.path.read_text()

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    reading = parallel.start(work, sources, encode=str, decode=str, processes=3)
    assert reading.in_parallel
    assert reading.results() == ["x" * (i + 1) for i in range(6)]


@pytest.mark.parametrize(
    ("sizes", "count"),
    [([1] * 10, 3), ([100, 1, 1, 1], 2), ([1, 1, 1, 100], 2), ([5, 5], 4), ([0, 0, 0], 2)],
)
def test_shares_are_contiguous_cover_every_file_once_and_none_is_empty(
    sizes: list[int], count: int
) -> None:
    shares = parallel._shares(sizes, count)
    assert [i for share in shares for i in share] == list(range(len(sizes)))
    assert all(len(share) > 0 for share in shares)
    assert len(shares) <= count


def test_plan_reads_codat_while_other_processes_parse_and_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliFn
) -> None:
    root = tmp_path / "manifests"
    fleet(root, files=5, per_file=6, pin=False)
    env = {"CODAT_SANDBOX": str(tmp_path / "codat.sqlite"), "FLEET_TOKEN": "t0ken-value"}
    applied = cli("apply", str(root), "--auto-approve", env=env)
    assert applied.code == 0, applied
    monkeypatch.setattr(parallel, "processes_available", lambda: 2)
    sequential = cli("plan", str(root), "--format", "json", env=env)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    overlapped = cli("plan", str(root), "--format", "json", env=env)
    assert overlapped.code == sequential.code == 0, overlapped
    assert overlapped.stdout == sequential.stdout


def test_a_manifest_problem_found_while_codat_is_read_is_still_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliFn
) -> None:
    root = tmp_path / "manifests"
    fleet(root, files=4, per_file=3, pin=False)
    (root / "m03.yaml").write_text("version: 1\nmerchants:\n  - name: ok\n    nmae: typo\n")
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "processes_available", lambda: 2)
    env = {"CODAT_SANDBOX": str(tmp_path / "codat.sqlite"), "FLEET_TOKEN": "t0ken-value"}
    for args in (["plan"], ["apply", "--auto-approve"]):
        run = cli(*args, str(root), env=env)
        assert run.code == 1, run
        assert "m03.yaml:4:5" in run.stderr and "Traceback" not in run.output, run
        assert "t0ken-value" not in run.output
    # Nothing was made: the read went on beside the parse, and no change followed it.
    (root / "m03.yaml").unlink()
    after = cli("plan", str(root), "--format", "json", env=env)
    creates = [c for c in json.loads(after.stdout)["changes"] if c["action"] == "create"]
    assert len([c for c in creates if ".connection" not in c["address"]]) == 9
