"""The `validate` command, run as a user would: a subprocess of `python -m reconciler`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFEST = (
    'version: 1\nmerchants:\n  - name: "1"\n    connections:\n      - platformKey: dfxm\n'
    "        authorization:\n          token: {env: CR_CLI_TOKEN}\n"
    "          key: {file: signing.key}\n          pin: 'literal-pin-123'\n"
)


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CODAT_", "CR_"))}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_manifests_print_ok(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text(MANIFEST)
    (tmp_path / "m" / "b.yaml").write_text('version: 1\nmerchants: [{name: "2"}]\n')
    result = run(tmp_path, "m")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "OK: 2 merchants in 2 files\n",
        "",
    )


def test_invalid_manifests_exit_1_with_positioned_lines_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text('version: 1\nmerchants:\n  - name: "1"\n    tagz: {}\n')
    (tmp_path / "b.yaml").write_bytes(b"\x00\x01binary")
    result = run(tmp_path, "a.yaml", "b.yaml", "nope.yaml")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "a.yaml:4:5: unknown key 'tagz' (did you mean 'tags'?)",
        "b.yaml:1:1: this is not a text file (it contains NUL bytes): manifests must be UTF-8 YAML",
        "nope.yaml:1:1: no such file or directory",
        "3 errors in 3 files",
    ]
    assert "Traceback" not in result.stderr


def test_check_secrets_names_the_missing_variable_and_prints_no_value(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MANIFEST)
    (tmp_path / "signing.key").write_text("file-secret-value-456\n")
    plain = run(tmp_path, "a.yaml")
    assert plain.returncode == 0, plain.stderr
    checked = run(tmp_path, "a.yaml", "--check-secrets")
    assert checked.returncode == 1
    assert checked.stderr.splitlines() == [
        "a.yaml:7:18: environment variable CR_CLI_TOKEN is not set",
        "1 error in 1 file",
    ]


def test_secret_values_never_appear_in_any_output(tmp_path: Path) -> None:
    # Make every reference resolvable, and make the manifest invalid elsewhere, so
    # both the OK path and the error path run with the secrets in reach.
    (tmp_path / "signing.key").write_text("file-secret-value-456\n")
    secrets = {"CR_CLI_TOKEN": "env-secret-value-789"}
    (tmp_path / "a.yaml").write_text(MANIFEST)
    ok = run(tmp_path, "a.yaml", "--check-secrets", env=secrets)
    assert ok.returncode == 0 and ok.stdout == "OK: 1 merchant in 1 file\n"
    broken = MANIFEST.replace("'literal-pin-123'", "12345678901") + "    tagz: {}\n"
    (tmp_path / "a.yaml").write_text(broken)
    bad = run(tmp_path, "a.yaml", "--check-secrets", env=secrets)
    assert bad.returncode == 1
    output = ok.stdout + ok.stderr + bad.stdout + bad.stderr
    for value in ("env-secret-value-789", "file-secret-value-456", "literal-pin", "12345678901"):
        assert value not in output
    assert "a.yaml:9:16: an authorization value must be text" in bad.stderr


def test_help_shows_an_example(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    assert "codat-reconciler validate manifests/" in result.stdout
    assert "--check-secrets" in result.stdout
