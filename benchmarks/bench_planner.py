"""Planner CPU and memory for 50,000 merchants (target: at most 2 s and 300 MB).

    python benchmarks/bench_planner.py [--merchants 50000]

Pure planning only: desired state and live state are built in memory (half the
merchants exist and are converged, a quarter need an update of the
description, half of those a tag change too, and a quarter are new),
then `make_plan` runs. Time is the wall time of one call; memory is the peak
allocated during a second call, traced by tracemalloc.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from reconciler.credentials import Fingerprint
from reconciler.live.model import AUTH_TAG, OWNERSHIP_TAG, LiveCompany, LiveConnection, LiveState
from reconciler.manifests.model import (
    DesiredConnection,
    DesiredState,
    Location,
    Merchant,
    SecretRef,
)
from reconciler.plan.planner import make_plan


def inputs(n: int) -> tuple[DesiredState, LiveState, dict[tuple[str, str], Fingerprint]]:
    merchants, companies, creds = [], [], {}
    for i in range(n):
        name = f"{10_000_000 + i}"
        auth = {"apiToken": SecretRef("env", f"TOKEN_{i}")}
        merchants.append(
            Merchant(
                name=name,
                location=Location("bench.yaml", i * 8 + 1, 5),
                description=f"Merchant {i}",
                tags={"region": "uk", "tier": str(i % 3)},
                connections=(DesiredConnection("dfxm", auth, Location("bench.yaml", i, 9)),),
            )
        )
        creds[(name, "dfxm")] = Fingerprint(f"fp{i}")
        if i % 4 == 3:
            continue  # new merchant
        tags = {
            "region": "uk" if i % 8 != 2 else "us",
            "tier": str(i % 3),
            OWNERSHIP_TAG[0]: OWNERSHIP_TAG[1],
            AUTH_TAG: f"dfxm:fp{i}",
        }
        description = f"Merchant {i}" if i % 4 != 2 else "stale description"
        companies.append(
            LiveCompany(
                id=f"00000000-0000-4000-8000-{i:012d}",
                name=name,
                description=description,
                tags=tags,
                connections=(LiveConnection(f"c-{i}", "dfxm", "Linked", "2026-01-01T00:00:00Z"),),
            )
        )
    return DesiredState(tuple(merchants)), LiveState(tuple(companies)), creds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=50_000)
    args = parser.parse_args()
    desired, live, creds = inputs(args.merchants)

    # Timed without tracing (tracemalloc slows allocation several-fold), then
    # run again under tracemalloc for the peak.
    started = time.perf_counter()
    plan = make_plan(desired, live, creds)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    make_plan(desired, live, creds)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"planner: {args.merchants:,} merchants -> {len(plan.changes):,} changes")
    print(f"  time: {elapsed:.2f} s (target <= 2 s)")
    print(f"  peak memory while planning: {peak / 2**20:.0f} MB (target <= 300 MB)")


if __name__ == "__main__":
    main()
