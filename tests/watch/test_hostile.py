"""watch's endpoint under hostile traffic, played on real sockets: bursts, clients trickling
bytes or holding every place, floods of headers, lengths that are no number.

The limits themselves are shortened here (a 1 s deadline, 4 places) where waiting for the
defaults would take the suite's time; the real `watch` process plays the rest."""

from __future__ import annotations

import json
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.watch.endpoint import WebhookEndpoint
from reconciler.watch.events import Event
from reconciler.watch.limits import Limits
from reconciler.watch.metrics import WatchMetrics
from reconciler.watch.signature import DeliveryVerifier
from tests.fixtures.sandbox import SandboxHandle
from tests.watch.conftest import FINGERPRINT_KEY, HANG_GUARD, TOKENS
from tests.watch.test_cli import free_port, ready, start_watch, until
from tests.watch.test_endpoint import SECRET, event_body, signed

Address = tuple[str, int]
PROBE = b"GET /healthz HTTP/1.1\r\nHost: watch\r\nConnection: close\r\n\r\n"


def exchange(address: Address, request: bytes) -> tuple[bytes, float]:
    """Send a request on a new connection; the whole answer (up to the server's close)
    and how long it took from connecting."""
    started = time.monotonic()
    with socket.create_connection(address, timeout=HANG_GUARD) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def answer_on(sock: socket.socket) -> bytes:
    """What the server sends on this connection until it closes it."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def closed(sock: socket.socket, within: float) -> bool:
    """Whether the server ended the connection within `within` seconds, sending nothing."""
    if not _readable(sock, within):
        return False
    try:
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


def _readable(sock: socket.socket, within: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(within))


class ReadySink:
    """The Reconciler's place, taken by one that is ready and queues what it gets."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.ready.set()
        self.events: list[Event] = []

    def submit(self, event: Event) -> str:
        self.events.append(event)
        return "queued"


@dataclass
class Endpoint:
    server: WebhookEndpoint
    refusals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def address(self) -> Address:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def refused(self, reason: str) -> float:
        text = self.server.metrics.exposition()[0].decode()
        name = f'codat_reconciler_http_refused_total{{reason="{reason}"}} '
        values = [float(line[len(name) :]) for line in text.splitlines() if line.startswith(name)]
        return values[0] if values else 0.0


@contextmanager
def serving(limits: Limits) -> Iterator[Endpoint]:
    """watch's endpoint in this process, on a real socket, with these limits."""
    server = WebhookEndpoint(("127.0.0.1", 0), DeliveryVerifier(SECRET), WatchMetrics(), limits)
    endpoint = Endpoint(server)
    server.refusals = endpoint.refusals.append
    server.sink = ReadySink()
    server.serve_in_background()
    try:
        yield endpoint
    finally:
        server.stop()


def trickle(sock: socket.socket, data: bytes, every: float) -> float:
    """Send `data` a byte every `every` seconds until the server answers or closes;
    when it did, from the first byte."""
    started = time.monotonic()
    for byte in data:
        try:
            sock.send(bytes([byte]))
        except OSError:
            break
        if _readable(sock, every):
            break
    else:
        raise AssertionError("the server waited for the whole trickle")
    return time.monotonic() - started


def test_a_client_trickling_its_request_is_dropped_at_the_deadline_probes_answered_meanwhile() -> (
    None
):
    """Each byte comes well within any per-read timeout: only a deadline for the whole
    request drops the client. Head or body, it gets 408 and a log record; a client that
    never started a request is closed without a word."""
    with serving(Limits(request_deadline=1.0)) as endpoint:
        head = b"GET /healthz HTTP/1.1\r\nHost: watch\r\nUser-Agent: " + b"s" * 200
        probes: list[tuple[bytes, float]] = []
        with (
            socket.create_connection(endpoint.address, timeout=HANG_GUARD) as slow_head,
            socket.create_connection(endpoint.address, timeout=HANG_GUARD) as silent,
        ):
            prober = threading.Thread(
                target=lambda: probes.append(exchange(endpoint.address, PROBE))
            )
            prober.start()
            took = trickle(slow_head, head, every=0.05)
            prober.join(HANG_GUARD)
            assert 0.8 <= took < 2.5  # the deadline began as the server waited
            assert answer_on(slow_head).startswith(b"HTTP/1.1 408 ")
            assert closed(silent, HANG_GUARD)  # no answer to a request never begun

        with socket.create_connection(endpoint.address, timeout=HANG_GUARD) as slow_body:
            slow_body.sendall(
                b"POST /webhooks/codat HTTP/1.1\r\nHost: watch\r\nContent-Length: 300\r\n\r\n"
            )
            took = trickle(slow_body, b"{" * 300, every=0.05)
            assert 0.8 <= took < 2.5
            assert answer_on(slow_body).startswith(b"HTTP/1.1 408 ")

        ((answer, probe_took),) = probes
        # Asked as the trickling began, answered before the trickler was dropped.
        assert answer.startswith(b"HTTP/1.1 200 ") and probe_took < 1.0
        assert [(r["status"], r.get("request", "")) for r in endpoint.refusals] == [
            (408, ""),
            (408, "POST /webhooks/codat HTTP/1.1"),
        ]
        assert all(r["client"] == "127.0.0.1" for r in endpoint.refusals)
        assert endpoint.refused("timeout") == 2


def test_when_slow_clients_hold_every_place_a_probe_and_a_delivery_take_theirs() -> None:
    """The connection reading its request the longest gives its place; one that just came
    keeps it."""
    with serving(Limits(max_connections=4, evict_after=0.3)) as endpoint:
        holders: list[socket.socket] = []

        # A part of a request line, a request line, a part of a header, and nothing more:
        # dropped, none is answered or logged as a bad request.
        beginnings = [b"POST /webhooks/co", b"GET /healthz HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHo"]

        def hold() -> None:
            holder = socket.create_connection(endpoint.address, timeout=HANG_GUARD)
            holders.append(holder)
            holder.sendall(beginnings[(len(holders) - 1) % len(beginnings)])

        try:
            for _ in range(4):
                hold()
            until(lambda: endpoint.server.admission.served == 4, "every place taken")
            time.sleep(0.3)  # the holders become clients slower than any should be
            answer, took = exchange(endpoint.address, PROBE)
            assert answer.startswith(b"HTTP/1.1 200 ") and took < 1.0
            until(lambda: endpoint.server.admission.served == 3, "the probe gone")
            hold()
            until(lambda: endpoint.server.admission.served == 4, "every place taken again")

            body = event_body("connection.disconnected", "c-1", "20000001")
            headers = b"".join(f"{k}: {v}\r\n".encode() for k, v in signed(body).items())
            delivery, took = exchange(
                endpoint.address,
                b"POST /webhooks/codat HTTP/1.1\r\n"
                + headers
                + b"Connection: close\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body,
            )
            assert delivery.startswith(b"HTTP/1.1 200 ") and b'"queued"' in delivery
            assert took < 1.0
            dropped = [closed(h, within=0.2) for h in holders]
            assert dropped == [True, True, False, False, False]  # well before their deadline
            assert endpoint.refused("evicted") == 2 and endpoint.refused("busy") == 0
            assert endpoint.refusals == [
                {"status": 503, "reason": "all 4 connections taken", "refused": 0, "evicted": 1}
            ]
        finally:
            for holder in holders:
                holder.close()


def test_a_burst_over_every_place_is_refused_at_once_with_503() -> None:
    """Places taken by clients that just came (a real burst) are not taken from them:
    the newcomer gets a 503 at once, which a probe sees too."""
    with serving(Limits(max_connections=4, evict_after=HANG_GUARD)) as endpoint:
        holders = [socket.create_connection(endpoint.address, timeout=HANG_GUARD) for _ in range(4)]
        try:
            until(lambda: endpoint.server.admission.served == 4, "every place taken")
            for _ in range(3):
                answer, took = exchange(endpoint.address, PROBE)
                assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in answer
                assert took < 1.0
            assert not any(closed(h, within=0) for h in holders)
            for holder in holders:
                holder.sendall(PROBE)
                assert holder.recv(65536).startswith(b"HTTP/1.1 200 ")
        finally:
            for holder in holders:
                holder.close()
        assert endpoint.refused("busy") == 3
        (said,) = endpoint.refusals  # a flood is said once a minute, with its count
        assert said["status"] == 503 and said["refused"] == 1
        until(lambda: endpoint.server.admission.served == 0, "places given back")
        assert exchange(endpoint.address, PROBE)[0].startswith(b"HTTP/1.1 200 ")


class BrokenSink(ReadySink):
    def submit(self, event: Event) -> str:
        raise RuntimeError("the queue is broken")


def test_an_unexpected_failure_answering_is_a_log_record_not_a_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The standard library's server prints a traceback on stderr, where JSON logs go."""
    with serving(Limits()) as endpoint:
        endpoint.server.sink = BrokenSink()
        body = event_body("connection.disconnected", "c-1", "20000001")
        headers = b"".join(f"{k}: {v}\r\n".encode() for k, v in signed(body).items())
        answer, _ = exchange(
            endpoint.address,
            b"POST /webhooks/codat HTTP/1.1\r\n"
            + headers
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body,
        )
        assert answer == b""  # closed: the delivery is not acknowledged, Codat retries
        until(lambda: endpoint.refused("error") == 1, "the failure counted")
        assert exchange(endpoint.address, PROBE)[0].startswith(b"HTTP/1.1 200 ")
    assert endpoint.refusals == [
        {"status": 500, "reason": "unexpected RuntimeError", "client": "127.0.0.1"}
    ]
    out, err = capfd.readouterr()
    assert out == err == ""


@dataclass
class Process:
    process: subprocess.Popen[str]
    address: Address
    secrets: tuple[str, ...] = field(repr=False)

    def stop(self) -> list[dict[str, Any]]:
        """SIGTERM; its log records, each line of stderr parsed as JSON."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=HANG_GUARD)
        assert self.process.returncode == 0, err
        assert "Traceback" not in out + err
        assert not [secret for secret in self.secrets if secret in out + err]
        return [json.loads(line) for line in err.splitlines()]

    def peak_rss(self) -> int:
        """The most memory the process has held so far, in bytes (VmHWM)."""
        return self._status("VmHWM") * 1024

    def threads(self) -> int:
        return self._status("Threads")

    def _status(self, name: str) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        (line,) = [row for row in status.splitlines() if row.startswith(f"{name}:")]
        return int(line.split()[1])


@pytest.fixture
def process(sandbox_server: Callable[..., SandboxHandle], tmp_path: Path) -> Iterator[Process]:
    """The real `watch` process, with the default limits, ready."""
    port = free_port()
    sandbox = sandbox_server()
    watch = start_watch(sandbox, tmp_path / "m", port)
    try:
        until(lambda: ready(f"http://127.0.0.1:{port}"), "ready")
        yield Process(
            watch, ("127.0.0.1", port), (SECRET, sandbox.api_key, FINGERPRINT_KEY, *TOKENS.values())
        )
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.communicate()


def test_200_clients_connecting_at_once_are_each_answered_within_a_second(
    process: Process,
) -> None:
    """A burst of deliveries and probes: with a short listen backlog, connections beyond
    it lose their SYN and wait a second for its retry (the kubelet's probe timeout)."""
    selector = selectors.DefaultSelector()
    started: dict[socket.socket, float] = {}
    answers: dict[socket.socket, bytes] = {}
    took: list[float] = []
    for _ in range(200):
        sock = socket.socket()
        sock.setblocking(False)
        started[sock] = time.monotonic()
        sock.connect_ex(process.address)
        selector.register(sock, selectors.EVENT_WRITE)
    # Beyond a second each has failed already: waiting longer would only say by how much.
    give_up = min(started.values()) + 2.0
    while len(took) < 200 and time.monotonic() < give_up:
        for key, events in selector.select(give_up - time.monotonic()):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if events & selectors.EVENT_WRITE:
                sock.send(PROBE)
                selector.modify(sock, selectors.EVENT_READ)
                answers[sock] = b""
            elif chunk := sock.recv(65536):
                answers[sock] += chunk
            else:
                took.append(time.monotonic() - started[sock])
                selector.unregister(sock)
                sock.close()
    selector.close()
    slow = 200 - sum(t < 1.0 for t in took)
    assert slow == 0, f"{slow} of 200 not answered within 1 s"
    assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers.values())
    for sock in started:
        sock.close()
    process.stop()


def test_300_clients_holding_connections_hold_at_most_256_threads_and_probes_get_in(
    process: Process,
) -> None:
    """Clients that open a connection, begin a request and wait: each held a thread for
    as long as it liked. Now there are 256 places, and a probe takes the slowest's."""
    idle = process.threads()
    holders = [socket.create_connection(process.address, timeout=HANG_GUARD) for _ in range(300)]
    try:
        for holder in holders:
            holder.sendall(b"GET /healthz HTTP/1.1\r\n")
        until(
            lambda: sum(_readable(h, 0) for h in holders) >= 300 - 256,
            "the connections beyond 256 refused or dropped",
        )
        began = time.monotonic()
        assert process.threads() - idle <= 256
        still = [h for h in holders if not _readable(h, 0)]
        assert len(still) == 256

        time.sleep(max(0.0, began + 1.0 - time.monotonic()))  # all of them slow by now
        answer, took = exchange(process.address, PROBE)
        assert answer.startswith(b"HTTP/1.1 200 ") and took < 1.0
        until(lambda: any(_readable(h, 0) for h in still), "a holder dropped for the probe")
        assert sum(_readable(h, 0) for h in still) == 1  # long before the 10 s deadline
        assert process.threads() - idle <= 256
    finally:
        for holder in holders:
            holder.close()
    records = process.stop()
    (busy,) = [r for r in records if r["event"] == "refused"]  # the flood in one line
    assert busy["status"] == 503 and busy["refused"] + busy["evicted"] == 1


def test_a_flood_of_headers_is_answered_431_and_memory_stays_bounded(process: Process) -> None:
    """50 clients each sending headers of 65,000 bytes, up to a hundred: the standard
    library's own limits (a line, a hundred headers) would let each buffer 6.5 MB."""
    line = b"X-Flood: " + b"f" * 64_989 + b"\r\n"
    before = process.peak_rss()
    answers: list[bytes] = []

    def flood() -> None:
        with socket.create_connection(process.address, timeout=HANG_GUARD) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: watch\r\n")
            for _ in range(100):
                if _readable(sock, 0):
                    break
                try:
                    sock.sendall(line)
                except OSError:
                    break
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            answers.append(answer)

    clients = [threading.Thread(target=flood) for _ in range(50)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(HANG_GUARD)
    grown = process.peak_rss() - before
    assert grown < 48 * 2**20, f"peak memory grew by {grown / 2**20:.0f} MiB"
    assert len(answers) == 50
    assert all(a.startswith(b"HTTP/1.1 431 ") for a in answers)
    assert exchange(process.address, PROBE)[0].startswith(b"HTTP/1.1 200 ")
    records = process.stop()
    refused = [r for r in records if r["event"] == "refused"]
    assert len(refused) == 50 and all(r["status"] == 431 for r in refused)


def test_a_length_that_is_not_ascii_digits_gets_400_and_a_log_record_never_a_traceback(
    process: Process,
) -> None:
    """'²' and '٣' are digits to str.isdigit() and int() refuses '²': each a 400 and a JSON
    log record, like any bad delivery; a number too long to convert is just too large."""
    lengths = [b"\xb2", "²".encode(), "٣".encode(), b"lots", b"-1", b"1 2", b"0x10"]
    for length in lengths:
        answer, _ = exchange(
            process.address,
            b"POST /webhooks/codat HTTP/1.1\r\nHost: watch"
            b"\r\nContent-Length: " + length + b"\r\n\r\n{}",
        )
        assert answer.startswith(b"HTTP/1.1 400 "), (length, answer)
    twice, _ = exchange(
        process.address,
        b"POST /webhooks/codat HTTP/1.1\r\nHost: watch\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    )
    assert twice.startswith(b"HTTP/1.1 400 ")
    huge, _ = exchange(
        process.address,
        b"POST /webhooks/codat HTTP/1.1\r\nHost: watch\r\n"
        b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}",
    )
    assert huge.startswith(b"HTTP/1.1 413 ")
    assert exchange(process.address, PROBE)[0].startswith(b"HTTP/1.1 200 ")

    records = process.stop()  # every line of stderr is JSON, none a traceback
    rejected = [r for r in records if r["event"] == "delivery" and r["status"] in (400, 413)]
    assert [r["status"] for r in rejected] == [400] * (len(lengths) + 1) + [413]
    assert all(
        r["outcome"] == "rejected: Content-Length is not a number of bytes" for r in rejected[:-1]
    )
