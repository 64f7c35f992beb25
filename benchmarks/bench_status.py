"""`status` of 2,000 merchants against `sandbox serve` at 50 ms latency.

    python benchmarks/bench_status.py [--default-rate]

The sandbox is seeded with 2,000 managed companies as apply leaves them (one
Linked dfxm connection each); then, in-process and without latency, half the
merchants finish the sync flow and sync (one in ten of those syncs fails with
PushError), so every read kind is exercised: configured and not, a latest sync
and a 404 before any.
Then a real `codat-reconciler sandbox serve --latency-ms 50` subprocess serves
it and the real CLI runs `status --parallelism 10 --max-rate 0` (start-up
included).

Target: at most 25 s, in exactly 4,001 reads (one listing of 2,000 companies,
then configuration and latest sync per merchant). At 50 ms a read and 10 at a
time, the 4,000 per-merchant reads alone need at least 20 s.

`--default-rate` runs the same status under the default cap (1,000 requests in
any 60 s) instead: request n + 1,000 starts at least 60 s after request n, so
4,001 reads need at least 4 x 60 = 240 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from bench_plan_apply import run_cli, seed_applied, serve, write_manifests

from reconciler.sandbox.transport import SandboxTransport

MERCHANTS = 2_000


def seed(state: Path, names: list[str]) -> None:
    ids = seed_applied(state, names)
    # The merchant's side, played through the sandbox's own hooks (in-process, no latency).
    with httpx.Client(base_url="http://sandbox", transport=SandboxTransport(state)) as codat:
        for i, company in enumerate(ids[: len(ids) // 2]):
            hook = f"/_sandbox/companies/{company}"
            flow = codat.post(hook + "/sync-flow/complete", json={"accountingKey": "gbol"})
            flow.raise_for_status()
            status = "PushError" if i % 10 == 0 else "Completed"
            codat.post(hook + "/syncs", json={"status": status}).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--default-rate",
        action="store_true",
        help="use the default --max-rate (takes over 4 minutes)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "manifests"
        names = write_manifests(root, MERCHANTS, 20)
        state = Path(tmp) / "status.sqlite"
        started = time.perf_counter()
        seed(state, names)
        print(
            f"seeded {MERCHANTS} companies and 1,000 sync flows in "
            f"{time.perf_counter() - started:.1f} s"
        )
        proc, url, key = serve(state, "--latency-ms", "50")
        rate = [] if args.default_rate else ["--max-rate", "0"]
        try:
            load_before = os.getloadavg()[0]
            elapsed, code, calls = run_cli(
                url, key, "status", str(root), "--parallelism", "10", *rate
            )
            load_after = os.getloadavg()[0]
        finally:
            proc.terminate()
            proc.wait()
    kinds = Counter(
        "listing"
        if c["path"] == "/companies"
        else "configuration"
        if str(c["path"]).startswith("/config/")
        else "latest sync"
        for c in calls
    )
    label = "default --max-rate (1,000 per 60 s)" if args.default_rate else "--max-rate 0"
    print(f"status, {MERCHANTS} merchants, 50 ms latency, --parallelism 10, {label}")
    print(
        f"  {elapsed:.1f} s, {len(calls)} reads ({dict(kinds)}), exit {code}; "
        f"1-min load average {load_before:.1f} before, {load_after:.1f} after "
        f"({os.cpu_count()} cores)"
    )
    floor = (len(calls) - 1) // 1000 * 60.0 if args.default_rate else 4000 * 0.050 / 10
    target = "" if args.default_rate else ", target <= 25 s"
    print(f"  lower bound for these reads: {floor:.0f} s{target}")


if __name__ == "__main__":
    main()
