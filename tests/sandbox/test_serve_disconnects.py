"""`sandbox serve` takes clients hanging up mid-request in its stride: no traceback."""

from __future__ import annotations

import base64
import re
import socket
import struct
import subprocess
import sys
import time

import httpx

# SO_LINGER with a zero timeout: close() sends a reset, as a killed client does.
RESET = struct.pack("ii", 1, 0)


def hang_up(port: int, request: bytes, *, wait_for_answer_start: float = 0.0) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        time.sleep(wait_for_answer_start)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)


def test_clients_hanging_up_mid_request_leave_no_traceback() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "sandbox",
            "serve",
            "--api-key",
            "k-123",
            "--latency-ms",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        listening = re.fullmatch(
            r"Sandbox listening on http://127\.0\.0\.1:(\d+)\n", process.stdout.readline()
        )
        assert listening and process.stdout.readline() == "API key: k-123\n"
        port = int(listening.group(1))
        # Half a body, then a reset: the server's read of the body fails.
        hang_up(port, b"POST /companies HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        # A whole request, then a reset while the answer is delayed: its write fails.
        for _ in range(3):
            hang_up(port, b"GET /companies HTTP/1.1\r\nHost: x\r\n\r\n")
        # Reset just as the answer is being written.
        hang_up(port, b"GET /companies HTTP/1.1\r\nHost: x\r\n\r\n", wait_for_answer_start=0.3)
        auth = {"Authorization": "Basic " + base64.b64encode(b"k-123").decode()}
        answer = httpx.get(f"http://127.0.0.1:{port}/companies", headers=auth, timeout=10)
        assert answer.status_code == 200  # still serving
        time.sleep(0.5)  # the delayed answers to the hung-up clients are written by now
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr and "Exception" not in stderr, stderr
