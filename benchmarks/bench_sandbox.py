"""How many requests per second `codat-reconciler sandbox serve` sustains on loopback.

    python benchmarks/bench_sandbox.py [--seconds 10] [--workers 8]

Starts the server as a subprocess (no latency, no faults), then drives it from
parallel worker processes, each with its own keep-alive httpx.Client, with a
realistic mix: POST /companies, GET /companies/{id}, POST a connection, PUT its
authorization, GET /companies?pageSize=100. Prints requests/second and the
p50/p99 latency of single requests.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import re
import statistics
import subprocess
import sys
import time


def _worker(base_url: str, key: str, seconds: float, worker: int) -> list[float]:
    import httpx

    auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> httpx.Response:
        started = time.perf_counter()
        response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    with httpx.Client(base_url=base_url, headers=auth, timeout=30) as client:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            company = timed(client, "POST", "/companies", json={"name": f"Bench {worker} {n}"})
            company_id = company.json()["id"]
            timed(client, "GET", f"/companies/{company_id}")
            connection = timed(
                client, "POST", f"/companies/{company_id}/connections", json={"platformKey": "dfxm"}
            )
            path = f"/companies/{company_id}/connections/{connection.json()['id']}/authorization"
            timed(client, "PUT", path, json={"apiToken": "t", "storeId": "s"})
            timed(client, "GET", "/companies", params={"pageSize": 100, "page": 1 + n % 3})
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        listening = re.search(r"http://\S+", server.stdout.readline())
        key = re.search(r"API key: (\S+)", server.stdout.readline())
        if not listening or not key:
            raise SystemExit("the sandbox did not print its address and key")
        base_url = listening.group(0)
        with multiprocessing.Pool(args.workers) as pool:
            started = time.monotonic()
            results = pool.starmap(
                _worker,
                [(base_url, key.group(1), args.seconds, w) for w in range(args.workers)],
            )
            elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)

    latencies = sorted(latency for worker in results for latency in worker)
    count = len(latencies)
    p99 = latencies[min(count - 1, int(count * 0.99))]
    print(f"workers: {args.workers} processes, keep-alive, {elapsed:.1f} s")
    print(f"requests: {count}")
    print(f"requests/second: {count / elapsed:.0f}")
    print(f"latency p50: {statistics.median(latencies) * 1000:.1f} ms")
    print(f"latency p99: {p99 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
