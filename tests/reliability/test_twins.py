"""Issue 20 points 5 and 6, played on a real sandbox server with real processes:

1. a company listing that lags its writes by seconds (reads by id do not), with a
   keyed 500 after the creation committed: no twin, no false "Codat no longer has it";
2. an apply SIGKILLed right after its creation while another apply of the same
   manifests runs: the twin it leaves is shown by `plan` and deleted by `apply`;
3. two applies adding the same connection to an existing company at once: `plan`
   shows the extra one, `apply` unlinks it;
4. companies made by hand whose names only read like declared ones: named by `plan`,
   nothing created beside them until the manifest pins, adopts or creates.

Every scenario ends with the reliability invariants (tests/reliability/invariants.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from reconciler import engine
from reconciler.live.model import parse_timestamp
from reconciler.sandbox.messages import SandboxResponse
from tests.fixtures.cli import CliFn, Run
from tests.fixtures.sandbox import SandboxHandle
from tests.reliability.conftest import Call, World
from tests.reliability.harness import api_calls, finish, kill, notices, record, spawn
from tests.reliability.invariants import assert_converged
from tests.reliability.test_concurrent_applies import hold_first_reads, run_together

# Longer than any hold below: a held request must not time out on the client's side.
PATIENT = ["--timeout", "60"]


def lag_listing(w: World, seconds: float) -> None:
    """`GET /companies` (the listing and its name query) leaves out companies created
    less than `seconds` ago by the sandbox's clock; `GET /companies/{id}` is immediate."""

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        answer = forward()
        if (call.method, call.path) != ("GET", "/companies") or answer.status != 200:
            return answer
        page = json.loads(answer.body)
        now = w.sb.app.clock.now()
        shown = []
        for company in page["results"]:
            born = parse_timestamp(company.get("created"))
            if born is None or now - born.timestamp() >= seconds:
                shown.append(company)
        page["totalResults"] -= len(page["results"]) - len(shown)
        page["results"] = shown
        return SandboxResponse(200, answer.headers, json.dumps(page).encode())

    w.intercept(around)


def company_posts(run: Run) -> list[dict[str, object]]:
    return [c for c in api_calls(run) if (c["method"], c["path"]) == ("POST", "/companies")]


def test_a_lagging_listing_and_a_500_after_the_create_make_no_twin(
    world: Callable[..., World],
) -> None:
    w = world(
        "listing lags 2.5 s, 500-after on the first create",
        merchants=3,
        faults=["500-after:POST:/companies:first:1"],
    )
    lag_listing(w, 2.5)
    run = w.apply()
    assert run.code == 0, f"{w.context}\n{run}"
    # The ambiguous create was found once the listing showed it: never sent again.
    assert len(company_posts(run)) == 3, f"{w.context}\n{run}"
    assert [c["status"] for c in company_posts(run)].count(500) == 1, w.context
    assert "no longer has it" not in run.output, run
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("20-lagging-listing", 0, lag_s=2.5, outcome="no twin, one run")


def _wait_for_exit(children: list[subprocess.Popen[str]], context: str) -> int:
    """The index of the first child to exit (bounded: a hang guard)."""
    deadline = time.monotonic() + 60
    while True:
        for i, child in enumerate(children):
            if child.poll() is not None:
                return i
        assert time.monotonic() < deadline, f"{context}: neither apply finished"
        time.sleep(0.02)


def test_an_apply_killed_after_its_create_while_racing_leaves_a_twin_plan_resolves(
    world: Callable[..., World], tmp_path: Path
) -> None:
    """Both applies read an empty Codat. The first company creation to arrive is held
    until the other apply has finished (its end-of-run read saw no twin); then it
    commits and its apply is SIGKILLed before the answer reaches it: a twin with
    nothing on it, which no run's end-of-run read will ever resolve."""
    w = world("apply killed after its create, racing another", merchants=1)
    hold_first_reads(w)
    release, committed = threading.Event(), threading.Event()
    children: list[subprocess.Popen[str]] = []
    first_post = threading.Lock()

    def around(call: Call, forward: Callable[[], SandboxResponse]) -> SandboxResponse:
        if (call.method, call.path) != ("POST", "/companies") or not first_post.acquire(False):
            return forward()
        release.wait(60)
        answer = forward()
        for child in children:  # the one still running sent it
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
        committed.set()
        return answer

    w.intercept(around)
    command = [*w.apply_command(), *PATIENT]
    try:
        children.extend(spawn(command, w.env()) for _ in range(2))
        survivor = children[_wait_for_exit(children, w.context)]
        release.set()
        assert committed.wait(60), f"{w.context}: the held creation never committed"
        runs = [finish(child) for child in children]
    finally:
        for child in children:
            kill(child)
    done, killed = runs[children.index(survivor)], runs[1 - children.index(survivor)]
    assert done.code == 0, f"{w.context}\n{done}"
    assert killed.code == -signal.SIGKILL, f"{w.context}\n{killed}"
    for run in runs:
        w.secrets.scan_run(run, w.context)
    twins = [c for c in w.snapshot() if c["name"] == w.fleet.names[0]]
    assert len(twins) == 2, f"{w.context}: no twin was left: {twins}"
    empty = next(c["id"] for c in twins if not c["dataConnections"])

    shown = w.cli("plan", str(w.fleet.root), "--format", "json", *_server(w.sb), env=w.env())
    assert shown.code == 0, shown
    changes = json.loads(shown.stdout)["changes"]
    assert [(c["action"], c["cause"], c["company_id"]) for c in changes] == [
        ("delete", "twin", empty)
    ], shown
    assert "never used" in changes[0]["reason"]
    settled = w.apply()
    assert settled.code == 0, f"{w.context}\n{settled}"
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("20-killed-racer", 0, outcome="twin deleted by the next apply")


def _server(sb: SandboxHandle) -> list[str]:
    return ["--base-url", sb.base_url, "--timeout", "5"]


def test_two_applies_adding_one_connection_at_once_leave_one(
    world: Callable[..., World],
) -> None:
    """CI's apply and `watch` both add a connection the merchant lost: both create and
    authorize it. `plan` shows the extra one, `apply` unlinks it."""
    w = world("two applies add one connection", merchants=1)
    assert w.apply().code == 0
    name = w.fleet.names[0]
    [company] = [c for c in w.snapshot() if c["name"] == name]
    [dfxm] = [x for x in company["dataConnections"] if x["integrationKey"] == "dfxm"]
    with engine.connect(engine.Target.embedded_sandbox(w.sb.state_path), max_rate=0) as codat:
        codat.update_connection(company["id"], dfxm["id"], {"status": "Unlinked"})
    hold_first_reads(w)
    runs = run_together(w, w.apply_command(), w.apply_command())
    assert [r.code for r in runs] == [0, 0], runs
    for run in runs:
        assert notices(run, "error", "failed") == [], run
    [company] = [c for c in w.snapshot() if c["name"] == name]
    linked = [
        x["id"]
        for x in company["dataConnections"]
        if x["integrationKey"] == "dfxm" and x["status"] == "Linked"
    ]
    assert len(linked) == 2, f"{w.context}: the race did not happen: {company}"

    shown = w.cli("plan", str(w.fleet.root), "--format", "json", *_server(w.sb), env=w.env())
    changes = json.loads(shown.stdout)["changes"]
    assert [(c["action"], c["cause"]) for c in changes] == [("unlink", "extra_connection")]
    assert changes[0]["connection_id"] in linked
    assert w.apply().code == 0
    assert_converged(w.fleet, w.sb.state_path, w.cli, context=w.context)
    record("20-connection-race", 0, outcome="extra connection unlinked")


LOOKALIKES = {
    "Acme Coffee": "Acme Coffee ",
    "Blue Bottle": "Blue  Bottle",
    "Crown Bakery": "Crown\tBakery",
}


def _manifest(root: Path, words: dict[str, str]) -> None:
    lines = ["version: 1", "merchants:"]
    for name in LOOKALIKES:
        lines.append(f'  - name: "{name}"')
        if name in words:
            lines.append(f"    {words[name]}")
    (root / "merchants.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_lookalikes_made_by_hand_are_named_and_nothing_is_created_beside_them(
    sandbox_server: Callable[..., SandboxHandle], cli: CliFn, tmp_path: Path
) -> None:
    sb = sandbox_server()
    env = {"CODAT_API_KEY": sb.api_key, "CODAT_RECONCILER_KEY": "k" * 32}
    with engine.connect(engine.Target.embedded_sandbox(sb.state_path), max_rate=0) as codat:
        made = {
            declared: codat.create_company({"name": live}, idempotency_key=f"hand-{i}")["id"]
            for i, (declared, live) in enumerate(LOOKALIKES.items())
        }
    root = tmp_path / "manifests"
    root.mkdir()
    _manifest(root, {})
    args = [str(root), *_server(sb)]

    shown = cli("plan", *args, "--format", "json", env=env)
    assert shown.code == 1, shown
    conflicts = json.loads(shown.stdout)["conflicts"]
    assert sorted((c["merchant"], c["kind"]) for c in conflicts) == [
        (n, "lookalike") for n in sorted(LOOKALIKES)
    ]
    for conflict in conflicts:
        assert made[conflict["merchant"]] in conflict["message"], conflict
    refused = cli("apply", *args, "--auto-approve", "--log-format", "json", env=env)
    assert refused.code == 1 and company_posts(refused) == [], refused
    assert "Traceback" not in refused.output

    _manifest(
        root,
        {
            "Acme Coffee": "onLookalike: adopt",
            "Blue Bottle": "onLookalike: create",
            "Crown Bakery": f"companyId: {made['Crown Bakery']}",
        },
    )
    applied = cli("apply", *args, "--auto-approve", "--log-format", "json", env=env)
    assert applied.code == 0, applied
    assert len(company_posts(applied)) == 1, applied  # only Blue Bottle's
    with engine.connect(engine.Target.embedded_sandbox(sb.state_path), max_rate=0) as codat:
        names = {c["id"]: c["name"] for c in codat.list_companies(1, 100).results}
    assert names[made["Acme Coffee"]] == "Acme Coffee"  # adopted, renamed
    assert names[made["Crown Bakery"]] == "Crown Bakery"  # pinned, renamed
    assert names[made["Blue Bottle"]] == "Blue  Bottle"  # left alone; a new one beside it
    assert sorted(names.values()).count("Blue Bottle") == 1
    again = cli("plan", *args, "--detailed-exitcode", env=env)
    assert again.code == 0, again
    assert '"Blue  Bottle"' in again.stdout and "possible duplicate" in again.stdout
    record("20-lookalikes", 0, outcome="named, then adopted / created / pinned")
