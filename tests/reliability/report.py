"""Summarise a RELIABILITY_REPORT file: `python -m tests.reliability.report FILE`.

One row per scenario: trials, merchants, seed range, outcomes, and the figures
each scenario records (runs to converge, 429s waited out, kill points, ...).
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from typing import Any


def summarise(rows: list[dict[str, Any]]) -> str:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by[row["scenario"]].append(row)
    out = [
        "| scenario | trials | merchants | seeds | outcomes | figures |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, group in sorted(by.items()):
        seeds = sorted(r["seed"] for r in group)
        outcomes = ", ".join(f"{k}: {n}" for k, n in Counter(r["outcome"] for r in group).items())
        merchants = sorted({r.get("merchants", 1) for r in group})
        figures = []
        for key in (
            "runs",
            "incomplete_runs",
            "refused",
            "requests",
            "seconds",
            "mutations_before_kill",
            "stale_refusals",
        ):
            values = [r[key] for r in group if key in r]
            if values:
                figures.append(f"{key} {min(values)}–{max(values)}")
        out.append(
            f"| {name} | {len(group)} | {'/'.join(map(str, merchants))} | "
            f"{seeds[0]}–{seeds[-1]} | {outcomes} | {'; '.join(figures)} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        print(summarise([json.loads(line) for line in source if line.strip()]))
