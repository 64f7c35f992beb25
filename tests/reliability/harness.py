"""What every reliability scenario shares: trial counts and seeds, distinctive
secrets, a generated fleet of merchants, and how the CLI is run against a
sandbox server.

Figures come from the environment so CI runs small and the soak run big:

    RELIABILITY_TRIALS    trials per scenario (CI default: each scenario's own)
    RELIABILITY_MERCHANTS merchants per fleet (CI default 10)
    RELIABILITY_SEED      base seed; a failing trial prints its own seed

Each trial's seed is printed in every assertion message about it: re-run one
trial with RELIABILITY_SEED and the trial number from the test id.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.cli import Run
from tests.fixtures.sandbox import SandboxHandle


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


MERCHANTS = env_int("RELIABILITY_MERCHANTS", 10)
BASE_SEED = env_int("RELIABILITY_SEED", 20260601)


def trials(ci_default: int) -> list[int]:
    """Trial numbers for one scenario: RELIABILITY_TRIALS, else its CI default."""
    return list(range(env_int("RELIABILITY_TRIALS", ci_default)))


def seed_for(scenario: str, trial: int) -> int:
    """A stable, distinct seed per (scenario, trial): trials differ, failures reproduce."""
    return BASE_SEED + zlib.crc32(scenario.encode()) % 100_000 * 1000 + trial


def record(scenario: str, seed: int, **facts: object) -> None:
    """With RELIABILITY_REPORT=FILE, append one JSON line per trial (for RELIABILITY.md)."""
    target = os.environ.get("RELIABILITY_REPORT")
    if target:
        line = json.dumps({"scenario": scenario, "seed": seed, **facts}, sort_keys=True)
        with open(target, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def records(run: Run) -> list[dict[str, Any]]:
    """Every stderr line of a run made with --log-format json: each one is a JSON object."""
    return [json.loads(x) for x in run.stderr.splitlines()]


def api_calls(run: Run) -> list[dict[str, Any]]:
    """The api_call records of a run made with --log-format json."""
    return [r for r in records(run) if r.get("event") == "api_call"]


def notices(run: Run, *events: str) -> list[str]:
    """The messages meant for the operator (errors, failures, hints) of a --log-format json run.

    Only records written for people carry a message: API calls, changes and
    progress do not. `events` narrows them down ("error", "failed", ...).
    """
    return [
        r["message"]
        for r in records(run)
        if "message" in r and (not events or r["event"] in events)
    ]


def mutations(run: Run) -> list[str]:
    return [f"{c['method']} {c['path']}" for c in api_calls(run) if c["method"] != "GET"]


# -- secrets -------------------------------------------------------------------


@dataclass(frozen=True)
class Secrets:
    """Distinctive secret values: any of them found in an output is a leak."""

    env_tokens: dict[str, str]  # env var -> token, referenced as {env: NAME}
    file_secret: str  # content of a {file: ...} secret
    literal: str  # a literal authorization value (literals are secrets too)
    reconciler_key: str  # CODAT_RECONCILER_KEY, the fingerprint key
    api_key: str = ""  # the sandbox server's key; see `with_api_key`

    @classmethod
    def fresh(cls) -> Secrets:
        def token(kind: str) -> str:
            return f"zq{kind}SECRET{secrets.token_hex(10)}"

        return cls(
            env_tokens={"REL_TOKEN_A": token("envA"), "REL_TOKEN_B": token("envB")},
            file_secret=token("file"),
            literal=token("literal"),
            reconciler_key=token("fpkey"),
        )

    def with_api_key(self, api_key: str) -> Secrets:
        return Secrets(
            self.env_tokens, self.file_secret, self.literal, self.reconciler_key, api_key
        )

    def values(self) -> list[str]:
        found = [*self.env_tokens.values(), self.file_secret, self.literal, self.reconciler_key]
        if self.api_key:
            found += [self.api_key, base64.b64encode(self.api_key.encode()).decode()]
        return found

    def env(self) -> dict[str, str]:
        env = {**self.env_tokens, "CODAT_RECONCILER_KEY": self.reconciler_key}
        if self.api_key:
            env["CODAT_API_KEY"] = self.api_key
        return env

    def assert_absent(self, text: str, where: str) -> None:
        for value in self.values():
            assert value not in text, f"a secret leaked into {where}"

    def scan_run(self, run: Run, where: str, *files: Path) -> None:
        """stdout, stderr (json log lines included) and any file the run wrote."""
        self.assert_absent(run.stdout, f"stdout of {where}")
        self.assert_absent(run.stderr, f"stderr of {where}")
        for path in files:
            if path.exists():
                self.assert_absent(path.read_bytes().decode("utf-8", "replace"), str(path))

    def scan_exception(self, exc: BaseException, where: str) -> None:
        """str() and repr() of the exception and of every one chained to it."""
        seen: BaseException | None = exc
        while seen is not None:
            self.assert_absent(str(seen), f"str() of {type(seen).__name__} in {where}")
            self.assert_absent(repr(seen), f"repr() of {type(seen).__name__} in {where}")
            for arg in seen.args:
                self.assert_absent(repr(arg), f"args of {type(seen).__name__} in {where}")
            seen = seen.__cause__ or seen.__context__


# -- the fleet -----------------------------------------------------------------

AUTH_STYLES = ("env", "file", "literal", "none")


@dataclass
class Fleet:
    """A generated set of manifests: who is declared, and with which connections.

    `declared[name][platform_key]` is True when that connection is authorized by
    the manifests (so must end Linked), False when it waits for the merchant.
    """

    root: Path
    secrets: Secrets
    prefix: str
    declared: dict[str, dict[str, bool]] = field(default_factory=dict)
    all_names: list[str] = field(default_factory=list)  # every merchant it can declare

    @property
    def names(self) -> list[str]:
        return sorted(self.declared)

    def write(self, names: Sequence[str] | None = None) -> Fleet:
        """(Re)write the manifests declaring `names` (all merchants by default)."""
        chosen = [n for n in self.all_names if names is None or n in names]
        self.declared = {n: self._connections(n) for n in chosen}
        for old in self.root.glob("*.yaml"):
            old.unlink()
        half = (len(chosen) + 1) // 2
        for part, group in (("a", chosen[:half]), ("b", chosen[half:])):
            body = "".join(self._merchant_yaml(n) for n in group)
            (self.root / f"merchants-{part}.yaml").write_text(
                "version: 1\ndefaults:\n  syncFlow: {commerceKey: lqai, accountingKey: gbol}\n"
                + ("merchants:\n" + body if body else "merchants: []\n"),
                encoding="utf-8",
            )
        return self

    def _index(self, name: str) -> int:
        return int(name[len(self.prefix) :])

    def _connections(self, name: str) -> dict[str, bool]:
        i = self._index(name)
        conns = {"dfxm": AUTH_STYLES[i % len(AUTH_STYLES)] != "none"}
        if i % 3 == 0:
            conns["fztf"] = False  # a second connection, left for the merchant to authorize
        return conns

    def _merchant_yaml(self, name: str) -> str:
        i = self._index(name)
        style = AUTH_STYLES[i % len(AUTH_STYLES)]
        auth = {
            "env": f"{{apiToken: {{env: {sorted(self.secrets.env_tokens)[i % 2]}}}, "
            f"storeId: store-{i}}}",
            "file": "{signingKey: {file: secrets/shop.key}}",
            "literal": f"{{apiToken: {self.secrets.literal}}}",
            "none": "",
        }[style]
        lines = [
            f'  - name: "{name}"',
            f"    description: Reliability merchant {i}",
            f"    tags: {{trial: r{i % 7}}}",
            "    connections:",
            "      - platformKey: dfxm",
        ]
        if auth:
            lines.append(f"        authorization: {auth}")
        if i % 3 == 0:
            lines.append("      - platformKey: fztf")
        return "\n".join(lines) + "\n"


def make_fleet(
    root: Path, count: int = MERCHANTS, *, prefix: str = "7", secrets_: Secrets | None = None
) -> Fleet:
    root.mkdir(parents=True, exist_ok=True)
    sec = secrets_ or Secrets.fresh()
    (root / "secrets").mkdir(exist_ok=True)
    (root / "secrets" / "shop.key").write_text(sec.file_secret, encoding="utf-8")
    fleet = Fleet(root, sec, prefix, all_names=[f"{prefix}{i:07d}" for i in range(count)])
    return fleet.write()


# -- running the CLI against a sandbox server ------------------------------------

# One HTTP attempt gives up after this long; the `timeout` fault holds far longer.
ATTEMPT_TIMEOUT = "1"


def server_args(sb: SandboxHandle) -> list[str]:
    return ["--base-url", sb.base_url, "--timeout", ATTEMPT_TIMEOUT]


def apply_args(fleet: Fleet, sb: SandboxHandle, *extra: str) -> list[str]:
    return [
        "apply",
        str(fleet.root),
        "--auto-approve",
        "--max-rate",
        "0",
        "--log-format",
        "json",
        *server_args(sb),
        *extra,
    ]


def spawn(args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """`python -m reconciler ARGS` in a child process (its own process group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> Run:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        raise
    return Run(proc.returncode, out, err)


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL this child (only it: by its own pid) and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
