"""`plan` and `validate` of 100,000 converged merchants, each as a ratio to its floor.

    python benchmarks/bench_plan_100k.py [--merchants N] [--files N] [--runs N]

The fleet: N merchants (default 100,000) in 1,000 manifest files, each with one
Linked `dfxm` connection whose credentials the tool applied, so the plan has no
changes. A real `codat-reconciler sandbox serve --latency-ms 50` subprocess
serves them; the real CLI runs in a subprocess (start-up included).

The floors, measured on the same files and the same server in the same run:
- YAML events: libyaml's event stream over every file (`yaml.parse` with the C
  loader), the least any reader of these files must do;
- pages: the company listing read one page of 5,000 after another, bodies
  decoded, the least any client of this API must wait for.
The plan floor is their sum (what a tool that parsed, then read, would need).

Reported: `plan` wall time over the plan floor (target: at most 2x) and its peak
memory (ru_maxrss of the process, target: at most 1 GB); `validate` over the
YAML-event floor (target: at most 1.5x). With --runs N each figure is the best
of N runs, taken alternately.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from bench_plan_apply import CLI, FP_KEY, TOKEN, seed_applied, serve, write_manifests

import reconciler

PAGE = 5000


def yaml_floor(root: Path) -> float:
    """Seconds for libyaml to produce every event of every manifest file."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        raise SystemExit("this floor needs PyYAML built with libyaml (yaml.CSafeLoader)")
    files = sorted(root.glob("*.yaml"))
    started = time.perf_counter()
    for path in files:
        with path.open("rb") as stream:
            for _ in yaml.parse(stream, Loader=loader):
                pass
    return time.perf_counter() - started


def pages_floor(url: str, key: str) -> tuple[float, int]:
    """Seconds to read the whole listing one page after another, and companies read."""
    auth = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
    started = time.perf_counter()
    read = 0
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        page = 1
        while True:
            body = http.get("/companies", params={"page": page, "pageSize": PAGE}).json()
            read += len(body["results"])
            if len(body["results"]) < PAGE or read >= body["totalResults"]:
                break
            page += 1
    return time.perf_counter() - started, read


def timed_cli(url: str, key: str, *args: str) -> tuple[float, float, int]:
    """Wall seconds, peak MB and exit code of one CLI run in a child process."""
    env = {
        **os.environ,
        "CODAT_BASE_URL": url,
        "CODAT_API_KEY": key,
        "CODAT_RECONCILER_KEY": FP_KEY,
        "BENCH_TOKEN": TOKEN,
    }
    env.pop("CODAT_SANDBOX", None)
    # The child's peak memory alone: ru_maxrss of RUSAGE_CHILDREN is the largest of all
    # children so far, so each run is measured through a wrapper that reports its own.
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.buffer.write(p.stderr[-2000:] if p.returncode not in (0, 2) else b'')\n"
        "print(json.dumps({'seconds': w, 'peak_mb': r / 1024, 'code': p.returncode}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, *CLI, *args],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"{' '.join(args)}: wrapper failed\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["code"] not in (0, 2):
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{' '.join(args)} failed with exit {out['code']}")
    return out["seconds"], out["peak_mb"], out["code"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    # Installed, the package's modules are compiled (pip does it): so are they here, or
    # each run would compile them again where PYTHONDONTWRITEBYTECODE is set.
    compileall.compile_dir(Path(reconciler.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "manifests"
        started = time.perf_counter()
        names = write_manifests(root, args.merchants, args.files)
        state = tmp / "fleet.sqlite"
        seed_applied(state, names)
        print(
            f"{args.merchants:,} merchants in {args.files:,} files, sandbox seeded in "
            f"{time.perf_counter() - started:.0f} s"
        )
        proc, url, key = serve(state, "--latency-ms", "50")
        try:
            best: dict[str, float] = {}
            peak = 0.0
            for _ in range(args.runs):
                runs = {
                    "yaml": yaml_floor(root),
                    "pages": pages_floor(url, key)[0],
                }
                runs["plan"], plan_mb, code = timed_cli(
                    url, key, "plan", str(root), "--detailed-exitcode", "--quiet"
                )
                if code != 0:
                    raise SystemExit(f"plan found changes (exit {code}): fleet not converged")
                runs["validate"], _, _ = timed_cli(url, key, "validate", str(root))
                for name, seconds in runs.items():
                    best[name] = min(best.get(name, seconds), seconds)
                peak = max(peak, plan_mb)
        finally:
            proc.terminate()
            proc.wait()
    floor = best["yaml"] + best["pages"]
    print(
        f"floor: YAML events {best['yaml']:.2f} s + {args.merchants // PAGE} pages "
        f"{best['pages']:.2f} s = {floor:.2f} s"
    )
    print(
        f"plan:     {best['plan']:.2f} s = {best['plan'] / floor:.2f}x the floor "
        f"(target <= 2x), peak {peak:.0f} MB (target <= 1024)"
    )
    print(
        f"validate: {best['validate']:.2f} s = {best['validate'] / best['yaml']:.2f}x "
        "the YAML-event floor (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
