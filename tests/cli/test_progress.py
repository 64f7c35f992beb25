"""Progress and logs: the Reporter on plain data, then on real runs."""

from __future__ import annotations

import base64
import io
import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reconciler.cli import progress
from reconciler.cli.progress import Reporter
from reconciler.codat.observe import ApiCall
from reconciler.plan.model import Action, Change, Kind
from reconciler.sandbox.store import SandboxStore
from tests.cli.conftest import BASIC, TOKENS, assert_no_secret
from tests.fixtures.cli import CliFn
from tests.fixtures.sandbox import SandboxHandle


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drive(reporter: Reporter, clock: FakeClock, total: int = 100) -> None:
    reporter.start("Reading", total)
    for done in range(1, total + 1):
        clock.now += 0.1
        reporter.update(done, total)
    reporter.finish()


def test_terminal_shows_one_bar_redrawn_in_place() -> None:
    out, clock = io.StringIO(), FakeClock()
    drive(Reporter(stream=out, terminal=True, clock=clock), clock)
    text = out.getvalue()
    assert text.count("\r") > 10 and "\rReading [" in text
    assert "100/100  0:10 elapsed" in text and text.endswith("\n") and text.count("\n") == 1


def test_ci_gets_plain_periodic_lines_never_a_bar() -> None:
    out, clock = io.StringIO(), FakeClock()
    drive(Reporter(stream=out, terminal=False, clock=clock), clock)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "[" not in out.getvalue()
    assert lines[-1] == "Reading: 100/100  0:10 elapsed"
    assert 2 <= len(lines) <= 10 / progress.LINE_INTERVAL + 3  # every LINE_INTERVAL seconds


def test_progress_shows_elapsed_time_what_is_left_and_failures() -> None:
    out, clock = io.StringIO(), FakeClock()
    reporter = Reporter(stream=out, terminal=True, clock=clock)
    reporter.start("Applying changes", 4)
    change = Change('merchant["a"]', Action.CREATE, Kind.COMPANY, "new", "a")
    for error in (None, "boom", None):
        clock.now += 30
        reporter.change_applied(change, error)
    text = out.getvalue()
    # Three done in 90 s: one left, at 30 s each.
    assert "3/4  1:30 elapsed, about 0:30 left, 1 failed" in text
    lines = io.StringIO()
    ci = Reporter(stream=lines, terminal=False, clock=clock)
    ci.start("Applying changes", 2)
    clock.now += 3700
    ci.change_applied(change, "boom")
    assert "1/2  1:01:40 elapsed, about 1:01:40 left, 1 failed" in lines.getvalue()


def test_quiet_and_short_work_show_nothing() -> None:
    out, clock = io.StringIO(), FakeClock()
    drive(Reporter(stream=out, terminal=True, quiet=True, clock=clock), clock)
    assert out.getvalue() == ""
    quick = Reporter(stream=out, terminal=True, clock=clock)
    quick.start("Reading", 3)
    quick.update(3)
    quick.finish()
    assert out.getvalue() == ""


def test_json_logs_one_line_per_call_and_change() -> None:
    out = io.StringIO()
    moment = datetime(2026, 12, 6, 1, 2, 3, 456_000, tzinfo=timezone(timedelta(hours=2)))
    reporter = Reporter(stream=out, log_format="json", wall_clock=lambda: moment)
    reporter.api_call(ApiCall("POST", "/companies", 200, 12.345, 2, "corr-1"))
    change = Change('merchant["a"]', Action.CREATE, Kind.COMPANY, "new", "a")
    reporter.change_applied(change, "boom (correlationId: corr-2)")
    reporter.change_applied(replace(change, company_id="c-1"), None)
    call, failed, done = (json.loads(x) for x in out.getvalue().splitlines())
    # The time in UTC whatever the zone the clock reads in; time and level come first.
    assert list(call)[:2] == ["time", "level"]
    assert call == {
        "time": "2026-12-05T23:02:03.456Z",
        "level": "info",
        "event": "api_call",
        "method": "POST",
        "path": "/companies",
        "status": 200,
        "duration_ms": 12.3,
        "attempt": 2,
        "correlationId": "corr-1",
    }
    assert failed == {
        "time": "2026-12-05T23:02:03.456Z",
        "level": "error",
        "event": "change",
        "address": 'merchant["a"]',
        "action": "create",
        "result": "failed",
        "error": "boom (correlationId: corr-2)",
    }
    assert done["level"] == "info" and done["result"] == "ok" and done["id"] == "c-1"


def test_a_completed_change_is_a_line_of_its_own_over_the_bar_which_is_drawn_again() -> None:
    out, clock = io.StringIO(), FakeClock()
    reporter = Reporter(stream=out, terminal=True, clock=clock)
    reporter.start("Applying changes", 3)
    created = Change('merchant["a"]', Action.CREATE, Kind.COMPANY, "new", "a", company_id="c-1")
    authorized = Change(
        'merchant["a"].connection["dfxm"]', Action.AUTHORIZE, Kind.CONNECTION, "new", "a"
    )
    clock.now += 2  # past QUIET_START: the bar shows
    reporter.change_applied(created, None)
    clock.now += 0.01  # well within the redraw interval: drawn again all the same
    reporter.change_applied(authorized, "PUT ... failed (correlationId: x)")
    bar = "\rApplying changes [{}] {}/3  0:02 elapsed, about {} left{}"
    failure = '\rError: merchant["a"].connection["dfxm"]: PUT ... failed (correlationId: x)'
    # No bar before the first change completed: its line stands alone. The failure is
    # written over the bar (padded to cover it), and the bar is drawn again below it.
    assert out.getvalue() == (
        'merchant["a"]: company created [id=c-1]\n'
        + bar.format("#" * 10 + "-" * 20, 1, "0:04", "").ljust(progress.LINE_WIDTH)
        + failure.ljust(progress.LINE_WIDTH)
        + "\n"
        + bar.format("#" * 20 + "-" * 10, 2, "0:01", ", 1 failed").ljust(progress.LINE_WIDTH)
    )
    quiet = io.StringIO()
    hushed = Reporter(stream=quiet, terminal=False, quiet=True, clock=clock)
    hushed.change_applied(created, None)
    hushed.change_applied(authorized, "boom")
    assert quiet.getvalue() == 'Error: merchant["a"].connection["dfxm"]: boom\n'


FINGERPRINT_KEY = "progress-test-fingerprint-key"


@pytest.fixture
def slow_server(sandbox_server: Callable[..., SandboxHandle], tmp_path: Path) -> SandboxHandle:
    state = tmp_path / "slow.sqlite"
    store = SandboxStore(state)
    store.seed({"name": f"existing {i}"} for i in range(300))
    store.close()
    # 3 pages of 100 at 700 ms each: the read takes ~1.4 s, past QUIET_START.
    return sandbox_server(state_path=state, latency_ms=700, max_page_size=100)


def _env(server: SandboxHandle) -> dict[str, str | None]:
    """Talk to the server over HTTP, with a fingerprint key of our own as anywhere but --sandbox."""
    return {
        "CODAT_BASE_URL": server.base_url,
        "CODAT_API_KEY": server.api_key,
        "CODAT_RECONCILER_KEY": FINGERPRINT_KEY,
        **TOKENS,
    }


def test_real_apply_logs_json_lines_without_any_secret(
    cli: CliFn, write_manifest: Callable[..., Path], sandbox_server: Callable[..., SandboxHandle]
) -> None:
    server = sandbox_server()
    run = cli(
        "apply",
        str(write_manifest(BASIC)),
        "--auto-approve",
        "--log-format",
        "json",
        env=_env(server),
    )
    assert run.code == 0, run
    records = [json.loads(line) for line in run.stderr.splitlines()]
    calls = [r for r in records if r["event"] == "api_call"]
    changes = [r for r in records if r["event"] == "change"]
    # Two reads to plan (companies; integrations, since connections are made), 8 changes,
    # one read at the end confirming what was created.
    assert len(calls) == 2 + 8 + 1 and len(changes) == 8
    assert [c["method"] for c in calls].count("GET") == 3
    for call in calls:
        assert set(call) >= {"method", "path", "status", "duration_ms", "attempt", "correlationId"}
    key = server.api_key
    assert_no_secret(run, key, base64.b64encode(key.encode()).decode(), FINGERPRINT_KEY)


def test_real_plan_shows_plain_progress_lines_without_a_terminal(
    cli: CliFn, write_manifest: Callable[..., Path], slow_server: SandboxHandle
) -> None:
    env = _env(slow_server)
    run = cli("plan", str(write_manifest(BASIC)), env=env)
    assert run.code == 0, run
    assert "Reading Codat companies: 300/300" in run.stderr
    assert "\r" not in run.stderr
    quiet = cli("plan", str(write_manifest(BASIC)), "--quiet", env=env)
    assert quiet.stderr == ""
    # Applying 8 changes at 700 ms a call takes a few seconds: progress lines too.
    applied = cli("apply", str(write_manifest(BASIC)), "--auto-approve", env=env)
    assert applied.code == 0, applied
    assert "Applying changes: 8/8" in applied.stderr and "\r" not in applied.stderr


def _run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[str, str]:
    """Run the CLI with stdout and stderr on pseudo-terminals; return what each showed."""
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=subprocess.DEVNULL,
        stdout=out_slave,
        stderr=err_slave,
        env={**os.environ, **env},
    )
    os.close(out_slave)
    os.close(err_slave)
    chunks: dict[int, bytes] = {out_master: b"", err_master: b""}
    open_fds = set(chunks)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], 60)
        if not ready:
            break
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                chunks[fd] += data
            else:
                open_fds.discard(fd)
    proc.wait(timeout=60)
    os.close(out_master)
    os.close(err_master)
    return chunks[out_master].decode(), chunks[err_master].decode()


def test_real_plan_on_a_terminal_shows_a_bar_and_colour_unless_no_color(
    write_manifest: Callable[..., Path], slow_server: SandboxHandle
) -> None:
    root = str(write_manifest(BASIC))
    env = {k: v or "" for k, v in _env(slow_server).items()}
    out, err = _run_on_terminal(["plan", root], env)
    assert "\rReading Codat companies [" in err and "300/300" in err
    assert "\x1b[" in out  # colour on a terminal
    out_plain, _ = _run_on_terminal(["plan", root], {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in out_plain and "Plan: 6 to create" in out_plain
