#!/usr/bin/env python3
"""`watch` answering deliveries while it runs full reconciles of many merchants.

    python benchmarks/bench_watch_full.py [--merchants N] [--seconds S]

The endpoint and the worker share one interpreter, and a full reconcile is the
worker's heaviest work: the manifests read again, the whole listing parsed, every
merchant planned. A sandbox (no latency, no rate limit) holds N converged
merchants; `watch --interval 15` reconciles them all every 15 s while a signed
delivery (`connection.connected`: nothing to do) is posted every 50 ms for S
seconds. Target: answers p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
from bench_watch import (
    API_KEY,
    AUTH,
    SECRET,
    TOKEN_ENV,
    WatchLog,
    converged_fleet,
    free_port,
    pct,
    signed_delivery,
    spawn,
    wait_http,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    options = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-full-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env.update(TOKEN_ENV)
    port, watch_port = free_port(), free_port()
    codat, watch_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{watch_port}"
    processes = [
        spawn(
            [
                "sandbox",
                "serve",
                "--state",
                str(tmp / "world.sqlite"),
                "--port",
                str(port),
                "--api-key",
                API_KEY,
            ],
            tmp / "sandbox.log",
            env,
        )
    ]
    try:
        wait_http(codat)
        tool = {**env, "CODAT_API_KEY": API_KEY}
        folder = converged_fleet(tmp, options.merchants, codat, tool)
        processes.append(
            spawn(
                [
                    "watch",
                    str(folder),
                    "--listen",
                    f"127.0.0.1:{watch_port}",
                    "--base-url",
                    codat,
                    "--max-rate",
                    "0",
                    "--interval",
                    "15",
                    "--log-format",
                    "json",
                ],
                tmp / "watch.log",
                {**tool, "CODAT_WEBHOOK_SECRET": SECRET},
            )
        )
        wait_http(watch_url, "/readyz")
        log = WatchLog(tmp / "watch.log")
        log.read()
        company = httpx.get(codat + "/companies", params={"pageSize": 1}, headers=AUTH).json()[
            "results"
        ][0]
        seconds: list[float] = []
        with httpx.Client(base_url=watch_url, timeout=30) as http:
            end = time.monotonic() + options.seconds
            while time.monotonic() < end:
                body, headers = signed_delivery(company, "connection.connected")
                start = time.perf_counter()
                http.post("/webhooks/codat", content=body, headers=headers).raise_for_status()
                seconds.append(time.perf_counter() - start)
                time.sleep(0.05)
        fulls = [
            r["duration_s"]
            for r in log.read()
            if r.get("event") == "reconcile" and r.get("scope") == "full"
        ]
        busy = sum(fulls) / options.seconds
        print(
            f"{options.merchants} merchants, {len(fulls)} full reconciles of "
            f"{min(fulls, default=0):.1f} to {max(fulls, default=0):.1f} s ({busy:.0%} of the "
            f"time): {len(seconds)} deliveries answered, p50 {pct(seconds, 0.5) * 1000:.1f} ms, "
            f"p99 {pct(seconds, 0.99) * 1000:.1f} ms, max {max(seconds) * 1000:.0f} ms "
            "(target p99 < 100 ms)"
        )
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(60)


if __name__ == "__main__":
    main()
