"""A Codat that accepts connections and never answers: nothing is silent, nothing hangs.

A real listener (a socket server in this test) takes every connection and never
writes a byte. The real CLI, with a short `--timeout`, must say each retry on
stderr as it happens (the first one within the first attempt's timeout, not after
the whole run), give up naming the URL, and stop at once on SIGTERM while waiting.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.lines import Lines, kill_if_running, rest_of
from tests.reliability.harness import spawn

ATTEMPT_TIMEOUT = 0.3
# Scheduling on a loaded 2-core machine; far below the whole run's length.
SLACK = 3.0
API_KEY = "hung-codat-test-key-0123456789"


class SilentListener:
    """Accepts on 127.0.0.1 and holds every connection open without answering."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.accepted: list[float] = []  # monotonic times
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed: the test is over
                return
            self.accepted.append(time.monotonic())
            self._held.append(connection)

    def close(self) -> None:
        # close() alone leaves accept() blocked on Linux; shutdown() wakes it.
        self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        for connection in self._held:
            connection.close()
        self._thread.join(5)


@pytest.fixture
def listener() -> Iterator[SilentListener]:
    silent = SilentListener()
    yield silent
    silent.close()


def plan_against(listener: SilentListener, tmp_path: Path, *extra: str) -> list[str]:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "m.yaml").write_text('version: 1\nmerchants:\n  - name: "12345678"\n')
    return [
        "plan",
        str(manifests),
        "--base-url",
        f"http://127.0.0.1:{listener.port}",
        "--timeout",
        str(ATTEMPT_TIMEOUT),
        *extra,
    ]


ENV = {"CODAT_API_KEY": API_KEY, "CODAT_SANDBOX": "", "CODAT_BASE_URL": ""}


def is_retry_line(line: str) -> bool:
    return line.startswith("retrying GET http://127.0.0.1:") or '"event":"retry"' in line


# --quiet too: it hides context, never the one sign that the run is not hung.
@pytest.mark.parametrize(
    ("log_format", "quiet"), [("text", False), ("json", False), ("text", True)]
)
def test_every_retry_is_said_as_it_happens_and_giving_up_names_the_url(
    listener: SilentListener, tmp_path: Path, log_format: str, quiet: bool
) -> None:
    flags = ["--log-format", log_format, *(["--quiet"] if quiet else [])]
    child = spawn(plan_against(listener, tmp_path, *flags), ENV)
    try:
        stderr = Lines(child.stderr)  # type: ignore[arg-type]
        _, first_seen = stderr.wait_for(is_retry_line, timeout=60)
        out = rest_of(child, timeout=60)
    finally:
        kill_if_running(child)
    log = stderr.text()
    assert child.returncode == 1, log
    # The first attempt's timeout, not the whole run: said while the run goes on.
    assert first_seen - listener.accepted[0] < ATTEMPT_TIMEOUT + SLACK, log
    assert len(listener.accepted) == 6  # one connection per attempt: none reused
    url = f"http://127.0.0.1:{listener.port}/companies?page=1&pageSize=5000"
    gave_up = f"GET {url} failed after 6 attempts: timed out waiting for a response"
    if log_format == "text":
        retries = [line for line in log.splitlines() if line.startswith("retrying")]
        assert len(retries) == 5, log
        for n, line in enumerate(retries, start=2):
            # A backoff of a second or more says how long (jittered: not always).
            said = rf"retrying GET {re.escape(url)} \(attempt {n} of 6\) after a timeout"
            assert re.fullmatch(said + r"(, in \d+ s)?", line), log
        assert log.splitlines()[-1] == f"Error: {gave_up}", log
    else:
        records = [json.loads(line) for line in log.splitlines()]
        retried = [r for r in records if r["event"] == "retry"]
        assert [(r["attempt"], r["attempts"], r["url"], r["cause"]) for r in retried] == [
            (n, 6, url, "a timeout") for n in range(2, 7)
        ], log
        assert records[-1]["event"] == "error" and records[-1]["message"] == gave_up, log
        assert all(r["level"] == "warning" for r in retried), log
    assert API_KEY not in log + out


def test_sigterm_while_waiting_to_retry_ends_plan_at_once(
    listener: SilentListener, tmp_path: Path
) -> None:
    child = spawn(plan_against(listener, tmp_path), ENV)
    try:
        stderr = Lines(child.stderr)  # type: ignore[arg-type]
        stderr.wait_for(is_retry_line, timeout=60)
        child.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        child.wait(timeout=60)
        took = time.monotonic() - signalled
    finally:
        kill_if_running(child)
    log = stderr.text()
    assert child.returncode == 143, log
    # Ended within the attempt in flight at most, never after the remaining retries.
    assert took < ATTEMPT_TIMEOUT + SLACK, log
    assert "Terminated (SIGTERM)" in log and "Traceback" not in log, log
