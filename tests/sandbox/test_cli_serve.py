"""`codat-reconciler sandbox serve` as users run it: a process, two lines, a signal."""

from __future__ import annotations

import base64
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SERVE = [sys.executable, "-m", "reconciler", "sandbox", "serve"]


def _start(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    first, second = process.stdout.readline(), process.stdout.readline()
    listening = re.fullmatch(r"Sandbox listening on (http://127\.0\.0\.1:\d+)\n", first)
    key = re.fullmatch(r"API key: (\S+)\n", second)
    assert listening and key, (first, second)
    return process, listening.group(1), key.group(1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_two_lines_serves_and_stops_on_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    state = tmp_path / "world.sqlite"
    process, base_url, key = _start("--state", str(state), "--api-key", "k-123")
    try:
        assert key == "k-123"
        auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
        created = httpx.post(base_url + "/companies", json={"name": "Acme"}, headers=auth)
        assert created.status_code == 200
        # An idle keep-alive connection must not keep the server from stopping.
        idle = httpx.Client(base_url=base_url, headers=auth)
        assert idle.get("/companies").json()["totalResults"] == 1
        process.send_signal(signum)
        # A hang guard only: the idle connection must not hold the server (idle
        # keep-alive connections time out after 300 s).
        assert process.wait(60) == 0
        idle.close()
    finally:
        process.kill()
        process.wait()
    assert state.exists()


def test_default_key_is_random_and_required(tmp_path: Path) -> None:
    process, base_url, key = _start()
    try:
        assert len(key) >= 16
        assert httpx.get(base_url + "/companies").status_code == 401
    finally:
        process.terminate()
        assert process.wait(10) == 0


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--fault", "explode:GET:/x:1"], "--fault"),
        (["--port", "70000"], "--port"),
        (["--rate-limit", "0"], "--rate-limit"),
        (["--integration", "TOOLONG"], "--integration"),
    ],
)
def test_bad_flags_exit_1_naming_the_flag(args: list[str], flag: str) -> None:
    result = subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert flag in result.stderr and "Traceback" not in result.stderr
