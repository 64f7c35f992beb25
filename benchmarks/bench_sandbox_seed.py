"""Seeding the sandbox store with 10,000 companies (target: at most 10 s).

    python benchmarks/bench_sandbox_seed.py [--companies 10000]

`SandboxStore.seed` builds a large starting world for tests and benchmarks:
each company has the ownership tag and one partner connection. Prints the wall
time of the seed call and of reading the whole world back in 5,000-company
pages through the in-process transport.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.sandbox.store import SandboxStore
from reconciler.sandbox.transport import SandboxTransport


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SandboxStore(Path(tmp) / "seed.sqlite")
        items = (
            {
                "name": f"{i:08d}",
                "tags": {"managed-by": "codat-reconciler"},
                "connections": [{"platformKey": "dfxm"}],
            }
            for i in range(args.companies)
        )
        started = time.perf_counter()
        ids = store.seed(items)
        seeded = time.perf_counter() - started
        transport = SandboxTransport(store)
        with httpx.Client(base_url="https://api.codat.io", transport=transport) as api:
            started = time.perf_counter()
            pages = -(-len(ids) // 5000)
            read = sum(
                len(api.get("/companies", params={"page": n, "pageSize": 5000}).json()["results"])
                for n in range(1, pages + 1)
            )
            reading = time.perf_counter() - started
        store.close()
    assert read == len(ids) == args.companies
    print(f"seed {args.companies:,} companies with one connection each")
    print(f"  seed: {seeded:.2f} s (target: at most 10 s)")
    print(f"  read back in {pages} pages: {reading:.2f} s")


if __name__ == "__main__":
    main()
