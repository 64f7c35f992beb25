#!/usr/bin/env python3
"""Load and validate 10,000 merchants across 100 manifest files.

    python benchmarks/bench_manifests.py [--merchants N] [--files N]

Writes the files to a temporary directory, then loads them in a fresh child
process (so the parent's imports and file generation do not count) and reports
the wall time of `load()` and the child's peak memory (ru_maxrss, the whole
process including the interpreter). Target: at most 3 s and 200 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from reconciler.manifests.loader import load
    start = time.perf_counter()
    state = load([sys.argv[1]])
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"merchants": len(state.merchants), "files": len(state.files),
                      "seconds": seconds, "peak_mb": peak_kib / 1024}))
    """
)


def manifest(file_index: int, count: int) -> str:
    lines = [
        "# yaml-language-server: $schema=../schemas/manifest.schema.json",
        "version: 1",
        "defaults:",
        f"  tags: {{region: eu, batch: '{file_index}'}}",
        "  syncFlow:",
        "    commerceKey: lqai",
        "    redirectUrl: https://app.example.com/codat/done",
        "  connections:",
        "    - platformKey: lqai",
        "merchants:",
    ]
    for i in range(count):
        n = file_index * count + i
        lines += [
            f'  - name: "{10_000_000 + n}"',
            f"    description: Merchant {n} Ltd",
            f"    tags: {{tier: t{n % 3}, owner: team-{n % 7}}}",
            "    syncFlow: {accountingKey: gbol}",
            "    connections:",
            "      - platformKey: dfxm",
            "        authorization:",
            f"          apiToken: {{env: TOKEN_{n}}}",
            f"          storeId: store-{n}",
            "          signingKey: {file: secrets/signing.key}",
            "      - platformKey: gbol",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100)
    args = parser.parse_args()
    per_file = args.merchants // args.files
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "manifests"
        (directory / "secrets").mkdir(parents=True)
        (directory / "secrets" / "signing.key").write_text("bench\n")
        total_bytes = 0
        for f in range(args.files):
            text = manifest(f, per_file)
            total_bytes += len(text)
            (directory / f"m{f:03d}.yaml").write_text(text)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(directory)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result = json.loads(out)
    print(
        f"manifests: {result['merchants']:,} merchants in {result['files']} files "
        f"({total_bytes / 1048576:.1f} MiB of YAML)"
    )
    print(f"load + validate: {result['seconds']:.2f} s (target 3 s)")
    print(f"peak memory: {result['peak_mb']:.0f} MB max RSS of the process (target 200 MB)")
    ok = result["seconds"] <= 3 and result["peak_mb"] <= 200
    print("within target" if ok else "OVER TARGET")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
