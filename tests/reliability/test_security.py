"""Scenarios 8 and 9: refusals that must happen before any request, and secrets
that must appear nowhere: stdout, stderr (json logs included), plan files, or
the text of exceptions raised in-process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.codat.client import CodatClient
from reconciler.codat.errors import CodatError
from reconciler.sandbox.faults import parse_fault
from tests.reliability.conftest import World
from tests.reliability.harness import server_args
from tests.reliability.invariants import canonical


def assert_untouched(w: World, before: str, what: str) -> None:
    assert [c for c in w.sb.app.calls if c[0] != "GET"] == [], f"{what}: Codat was changed"
    assert canonical(w.snapshot()) == before, f"{what}: the live state changed"


def test_api_key_as_a_flag_is_refused_before_any_call(world: Callable[..., World]) -> None:
    w = world("api key flag", merchants=3)
    w.bystander()
    before = canonical(w.snapshot())
    args = w.apply_command()
    run = w.cli(*args, "--api-key", w.sb.api_key, env={**w.env(), "CODAT_API_KEY": None})
    assert run.code == 1 and "never accepted as a flag" in run.stderr, run
    w.secrets.scan_run(run, "apply --api-key")
    assert list(w.sb.app.calls) == []
    assert_untouched(w, before, "apply --api-key")


def test_plain_http_to_a_remote_host_is_refused_before_any_call(
    world: Callable[..., World],
) -> None:
    w = world("plain http", merchants=3)
    before = canonical(w.snapshot())
    for host in ("http://codat.example.com", "http://10.0.0.8:8080", "http://127.0.0.1.nip.io"):
        run = w.cli("apply", str(w.fleet.root), "--auto-approve", "--base-url", host, env=w.env())
        assert run.code == 1 and "plain http is only allowed to localhost" in run.stderr, run
        assert "Traceback" not in run.output
        w.secrets.scan_run(run, f"apply --base-url {host}")
    assert_untouched(w, before, "plain http")


@pytest.mark.parametrize("edit", ["body", "address", "digest", "add-change", "truncate"])
def test_hand_edited_saved_plan_is_refused_without_a_mutation(
    world: Callable[..., World], tmp_path: Path, edit: str
) -> None:
    w = world(f"edited plan ({edit})", merchants=4)
    w.bystander()
    plan_file = tmp_path / "plan.json"
    made = w.cli(
        "plan", str(w.fleet.root), "--out", str(plan_file), *server_args(w.sb), env=w.env()
    )
    assert made.code == 0, made
    w.secrets.scan_run(made, "plan --out", plan_file)
    text = plan_file.read_text()
    body = json.loads(text)
    if edit == "body":
        body["changes"][0]["body"]["description"] = "edited by hand"
    elif edit == "address":
        body["changes"][0]["address"] = 'merchant["99999999"]'
    elif edit == "digest":
        # Claim the plan was made from another live state (to dodge the stale check).
        body["live_digest"] = "0" * 64
    elif edit == "add-change":
        body["changes"].append(dict(body["changes"][0]))
    edited = text[: len(text) // 2] if edit == "truncate" else json.dumps(body)
    plan_file.write_text(edited)
    before = canonical(w.snapshot())
    run = w.cli("apply", "--plan", str(plan_file), *server_args(w.sb), env=w.env())
    assert run.code == 1, f"{edit}\n{run}"
    assert "Traceback" not in run.output
    assert str(plan_file) in run.stderr, f"{edit}: the refusal does not name the plan\n{run}"
    w.secrets.scan_run(run, f"apply --plan ({edit})")
    assert_untouched(w, before, f"edited plan ({edit})")


def test_secrets_appear_in_no_output_log_plan_or_exception(
    world: Callable[..., World], tmp_path: Path
) -> None:
    """A full cycle with every kind of secret, json logs on, plus a rotation and
    failures; then exceptions raised in-process by the client under faults."""
    w = world(
        "secret scan",
        merchants=8,
        faults=["500:PUT:/companies/*/connections/*/authorization:first:2"],
    )
    plan_file = tmp_path / "plan.json"
    runs = [
        w.cli(
            "plan",
            str(w.fleet.root),
            "--out",
            str(plan_file),
            "--format",
            "json",
            "--log-format",
            "json",
            *server_args(w.sb),
            env=w.env(),
        ),
        w.cli("plan", str(w.fleet.root), "--format", "markdown", *server_args(w.sb), env=w.env()),
        w.cli(
            "apply",
            "--plan",
            str(plan_file),
            "--log-format",
            "json",
            *server_args(w.sb),
            env=w.env(),
        ),
    ]
    rotated = {**w.env(), "REL_TOKEN_A": w.secrets.env_tokens["REL_TOKEN_A"] + "-rotated"}
    runs.append(w.cli(*w.apply_command(), env=rotated))
    runs.append(
        w.cli("export", "--out", str(tmp_path / "exported"), *server_args(w.sb), env=w.env())
    )
    for run in runs:
        w.secrets.scan_run(run, "secret scan cycle", plan_file)
        w.secrets.assert_absent(run.output, "rotated token")
    assert all(r.code == 0 for r in runs), "\n".join(map(str, runs))
    for path in (tmp_path / "exported").rglob("*"):
        if path.is_file():
            w.secrets.assert_absent(path.read_text("utf-8", "replace"), str(path))
    # In-process: exceptions raised by the client carry no key, whatever went wrong.
    w.sb.app.faults.specs.clear()
    for kind in ("500", "503", "lost"):
        w.sb.app.faults.specs[:] = [parse_fault(f"{kind}:*:/**:1.0")]
        with CodatClient(
            w.sb.base_url, api_key=w.sb.api_key, max_rate=0, max_attempts=2, sleep=lambda _: None
        ) as client:
            with pytest.raises(CodatError) as raised:
                client.authorize_connection("c1", "x1", {"apiToken": w.secrets.literal})
            w.secrets.scan_exception(raised.value, f"client under {kind}")
    w.sb.app.faults.specs.clear()
    wrong = CodatClient(w.sb.base_url, api_key=w.secrets.literal, max_rate=0)
    with wrong, pytest.raises(CodatError) as unauthorized:
        wrong.list_companies(1)
    w.secrets.scan_exception(unauthorized.value, "client with a wrong key")
    w.secrets.assert_absent(repr(wrong), "repr of a client")
