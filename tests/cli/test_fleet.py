"""A fleet of 3,000 merchants in 30 files: the output stays a few dozen lines.

3,000 merchants were applied already and each waits for its merchant to authorize
its dfxm connection through the sync flow (a note each); two more, `uk-0001` and
`uk-0002`, are new. The real CLI runs on the embedded sandbox, seeded in one
transaction; each test works on its own copy of the seeded state.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.live.model import AUTH_TAG, OWNERSHIP_TAG
from reconciler.sandbox.store import SandboxStore
from tests.fixtures.cli import CliFn

WAITING = 3_000
FILES = 30
NEW = ("uk-0001", "uk-0002")
TOKEN = "uk-fleet-token-value-0001"
NOTE = (
    "Note: 3,000 connections wait for their merchant to authorize them through the sync "
    'flow, e.g. merchant["30000000"].connection["dfxm"]'
)


@dataclass(frozen=True)
class Fleet:
    manifests: Path
    seeded: Path  # the sandbox state as seeded; tests copy it

    def env(self, tmp_path: Path) -> dict[str, str]:
        state = tmp_path / "fleet.sqlite"
        shutil.copyfile(self.seeded, state)
        return {"CODAT_SANDBOX": str(state), "UK_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("fleet")
    manifests = root / "manifests"
    manifests.mkdir()
    names = [str(30_000_000 + i) for i in range(WAITING)]
    per_file = WAITING // FILES
    for f in range(FILES):
        lines = ["version: 1", "merchants:"]
        for name in names[f * per_file : (f + 1) * per_file]:
            lines += [
                f'  - name: "{name}"',
                f"    description: Merchant {name}",
                "    connections:",
                "      - platformKey: dfxm",
            ]
        (manifests / f"m{f:03d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    uk = ["version: 1", "merchants:"]
    for name in NEW:
        uk += [
            f"  - name: {name}",
            "    connections:",
            "      - platformKey: dfxm",
            "        authorization: {apiToken: {env: UK_TOKEN}}",
        ]
    (manifests / "uk.yaml").write_text("\n".join(uk) + "\n", encoding="utf-8")
    seeded = root / "seeded.sqlite"
    store = SandboxStore(seeded)
    store.seed(
        {
            "name": name,
            "description": f"Merchant {name}",
            # As apply leaves them: owned, the connection it created recorded as its.
            "tags": {OWNERSHIP_TAG[0]: OWNERSHIP_TAG[1], AUTH_TAG: "dfxm"},
            "connections": [{"platformKey": "dfxm", "status": "PendingAuth"}],
        }
        for name in names
    )
    store.close()
    return Fleet(manifests, seeded)


def test_a_fleet_plan_is_a_few_lines_and_every_note_stays_in_json_and_verbose(
    cli: CliFn, fleet: Fleet, tmp_path: Path
) -> None:
    env, root = fleet.env(tmp_path), str(fleet.manifests)
    unchanged = cli("plan", root, "--exclude", "uk-*", "--detailed-exitcode", env=env)
    assert unchanged.code == 0, unchanged
    assert unchanged.stdout.splitlines() == [
        "",
        NOTE,
        "(--verbose lists every note)",
        "",
        "No changes. Codat matches the manifests.",
    ]

    planned = cli("plan", root, "--detailed-exitcode", env=env)
    assert planned.code == 2, planned
    lines = planned.stdout.splitlines()
    assert len(lines) <= 40, planned.stdout
    assert NOTE in lines
    assert lines[-1] == "Plan: 4 to create, 0 to update, 2 to authorize, 0 to unlink, 0 to delete."

    quiet = cli("plan", root, "--quiet", env=env)
    assert quiet.stdout.splitlines() == [lines[-1]] and quiet.stderr == ""

    verbose = cli("plan", root, "--verbose", env=env)
    notes = [line for line in verbose.stdout.splitlines() if line.startswith("Note:")]
    assert len(notes) == WAITING
    assert notes[0] == (
        'Note: merchant["30000000"].connection["dfxm"]: waiting for the '
        "merchant to authorize dfxm through the sync flow (no authorization "
        "declared)"
    )

    document = json.loads(cli("plan", root, "--format", "json", env=env).stdout)
    assert len(document["notes"]) == WAITING
    assert {n["kind"] for n in document["notes"]} == {"waiting_for_merchant"}
    assert len(document["manifest_files"]) == FILES + 1


def test_a_fleet_apply_says_each_change_and_a_no_change_apply_stays_short(
    cli: CliFn, fleet: Fleet, tmp_path: Path
) -> None:
    env, root = fleet.env(tmp_path), str(fleet.manifests)
    applied = cli("apply", root, "--auto-approve", env=env)
    assert applied.code == 0, applied
    done = [line for line in applied.stderr.splitlines() if line.startswith("merchant[")]
    for name in NEW:
        company = f'merchant["{name}"]'
        assert any(
            re.fullmatch(re.escape(company) + r": company created \[id=[0-9a-f-]{36}\]", line)
            for line in done
        ), done
        assert any(
            re.fullmatch(
                re.escape(company) + r'\.connection\["dfxm"\]: connection '
                r"created \[id=[0-9a-f-]{36}\]",
                line,
            )
            for line in done
        ), done
        assert f'{company}.connection["dfxm"]: authorized' in done
    assert len(done) == 6
    assert "Apply complete: 6 done, 0 failed, 0 skipped." in applied.stdout
    assert len(applied.stdout.splitlines()) <= 45

    again = cli("apply", root, "--auto-approve", env=env)
    assert again.code == 0, again
    assert again.stdout.splitlines() == [
        "",
        NOTE,
        "(--verbose lists every note)",
        "",
        "No changes. Codat matches the manifests.",
    ]
    assert not any(line.startswith("merchant[") for line in again.stderr.splitlines())
    assert TOKEN not in applied.output + again.output


def test_a_fleet_status_summarises_what_merchants_wait_for(
    cli: CliFn, fleet: Fleet, tmp_path: Path
) -> None:
    env, root = fleet.env(tmp_path), str(fleet.manifests)
    run = cli("status", root, "--max-rate", "0", env=env)
    assert run.code == 0, run
    lines = run.stdout.splitlines()
    # A row per merchant, then a few lines per kind of reason.
    assert len(lines) <= WAITING + len(NEW) + 15, "\n".join(lines[WAITING:])
    assert lines[-1] == "3,002 merchants: 3,000 waiting, 2 missing."
    summary = "\n".join(lines[lines.index("Waiting for:") :])
    assert "- 3,000 merchants have a connection they must authorize, e.g. 30000000:" in summary
    assert "- 3,000 merchants have not completed the sync flow, e.g. 30000000:" in summary
    assert "- 2 merchants have no company in Codat yet (run apply), e.g. uk-0001:" in summary
    document = json.loads(
        cli("status", root, "--max-rate", "0", "--format", "json", env=env).stdout
    )
    assert document["summary"] == {
        "total": 3_002,
        "ready": 0,
        "waiting": 3_000,
        "missing": 2,
        "conflict": 0,
        "error": 0,
    }


def test_a_name_or_pattern_matching_no_merchant_does_nothing(
    cli: CliFn, fleet: Fleet, tmp_path: Path
) -> None:
    env, root = fleet.env(tmp_path), str(fleet.manifests)
    for args in (
        ["--merchant", "eu-*"],
        ["--exclude", "uk-0003"],
        ["--merchant", "uk-*", "--exclude", "nobody"],
    ):
        for command in ("plan", "apply", "status"):
            approve = ["--auto-approve"] if command == "apply" else []
            run = cli(command, root, *args, *approve, env=env)
            assert run.code == 1, run
            assert "not declared in" in run.stderr and "Codat:" not in run.stderr, run
    everything = cli("plan", root, "--exclude", "3*", "--exclude", "uk-*", env=env)
    assert everything.code == 1 and "--exclude leaves no merchant" in everything.stderr
