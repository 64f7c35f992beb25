"""Which files a PATH names, through the real CLI: read every manifest, name every file read,
refuse by name what cannot be read, never hang, never a traceback."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import CliFn, Run

MANIFEST = 'version: 1\nmerchants:\n  - name: "{}"\n'


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """tree(relative path, merchant name): a manifest under tmp_path, the current directory."""
    monkeypatch.chdir(tmp_path)

    def write(rel: str, merchant: str) -> Path:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MANIFEST.format(merchant), encoding="utf-8")
        return path

    return write


def plan_env(sandbox_path: Path) -> dict[str, str | None]:
    return {"CODAT_SANDBOX": str(sandbox_path), "CODAT_API_KEY": None}


def refused(run: Run) -> list[str]:
    """The error lines of a run that must have failed cleanly."""
    assert run.code == 1, run
    assert "Traceback" not in run.output, run
    lines = run.stderr.splitlines()
    assert lines[-1].endswith(("file", "files")), run
    return lines[:-1]


def test_any_case_suffix_symlinked_folders_and_folders_named_like_files_are_read(
    tree: Callable[[str, str], Path], cli: CliFn, sandbox_path: Path
) -> None:
    tree("m/a.YAML", "a")
    tree("m/sub/b.Yml", "b")
    tree("common/c.yaml", "c")
    tree("m/dir.yaml/d.yml", "d")
    tree("m/.git/hooks.yaml", "hidden")
    tree("m/.config/e.yaml", "hidden too")
    Path("m/notes.txt").write_text("not a manifest")
    os.symlink("../common", "m/link")
    os.symlink("../../common", "m/sub/same-again")  # one real folder, read once
    files = ["m/a.YAML", "m/dir.yaml/d.yml", "m/link/c.yaml", "m/sub/b.Yml"]

    text = cli("validate", "m", "--verbose")
    assert (text.code, text.stdout, text.stderr) == (
        0,
        "\n".join(files) + "\nOK: 4 merchants in 4 files\n",
        "",
    ), text
    as_json = json.loads(cli("validate", "m", "--format", "json").stdout)
    assert as_json["valid"] is True and as_json["merchants"] == 4 and as_json["errors"] == []
    assert [f["path"] for f in as_json["manifest_files"]] == files

    plan = cli("plan", "m", "--format", "json", env=plan_env(sandbox_path))
    assert plan.code == 0, plan
    document = json.loads(plan.stdout)
    assert [f["path"] for f in document["manifest_files"]] == files
    assert document["manifest_files"] == as_json["manifest_files"]
    created = {c["merchant"] for c in document["changes"] if c["kind"] == "company"}
    assert created == {"a", "b", "c", "d"}

    # What was applied from all four files is all still declared: nothing to prune.
    assert cli("apply", "m", "--auto-approve", env=plan_env(sandbox_path)).code == 0
    again = cli("plan", "m", "--prune", "--detailed-exitcode", env=plan_env(sandbox_path))
    assert again.code == 0 and "No changes." in again.stdout, again


def test_a_symlink_loop_is_an_error_naming_the_link(
    tree: Callable[[str, str], Path], cli: CliFn, sandbox_path: Path
) -> None:
    tree("m/a.yaml", "a")
    tree("m/x/b.yaml", "b")
    tree("m/x/deep/c.yaml", "c")
    tree("m/y/d.yaml", "d")
    os.symlink("..", "m/x/up")
    os.symlink("..", "m/x/deep/back")
    os.symlink("self", "m/self")  # a link to itself cannot even be resolved
    # Links between sibling folders: each folder is already read where it is.
    os.symlink("../y", "m/x/to-y")
    os.symlink("../x", "m/y/to-x")
    expected = [
        "m/self:1:1: symbolic link loop: this link cannot be resolved",
        "m/x/deep/back:1:1: symbolic link loop: this folder is 'm/x' again;"
        " remove the link (each folder is read once)",
        "m/x/up:1:1: symbolic link loop: this folder is 'm' again;"
        " remove the link (each folder is read once)",
    ]
    assert refused(cli("validate", "m")) == expected
    assert refused(cli("plan", "m", env=plan_env(sandbox_path))) == expected
    Path("m/self").unlink()
    Path("m/x/up").unlink()
    Path("m/x/deep/back").unlink()
    run = cli("validate", "m", "--verbose")
    assert run.code == 0, run
    assert run.stdout.splitlines() == [
        "m/a.yaml",
        "m/x/b.yaml",
        "m/x/deep/c.yaml",
        "m/y/d.yaml",
        "OK: 4 merchants in 4 files",
    ]


def test_what_cannot_be_read_is_refused_by_name_and_a_fifo_does_not_hang(
    tree: Callable[[str, str], Path], cli_subprocess: CliFn, tmp_path: Path
) -> None:
    tree("m/a.yaml", "a")
    os.mkfifo("m/pipe.yaml")
    os.symlink("/dev/null", "m/device.yml")
    os.symlink("missing.yaml", "m/dangling.yaml")
    os.symlink("missing-folder", "m/gone")  # may have been a folder of manifests
    os.symlink("missing", "m/.hidden")  # hidden: skipped like a hidden folder
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind("m/socket.yaml")
        # Run as a child process with a timeout: reading the FIFO would block forever.
        run = cli_subprocess(
            "validate", str(tmp_path / "m"), str(tmp_path / "m/pipe.yaml"), timeout=60
        )
    m = tmp_path / "m"
    assert refused(run) == [
        f"{m}/dangling.yaml:1:1: broken symbolic link: its target 'missing.yaml' does not exist",
        f"{m}/device.yml:1:1: a character device, not a manifest file",
        f"{m}/gone:1:1: broken symbolic link: its target 'missing-folder' does not exist",
        f"{m}/pipe.yaml:1:1: a named pipe (FIFO), not a manifest file",
        f"{m}/socket.yaml:1:1: a socket, not a manifest file",
    ]


def test_a_missing_path_is_a_clear_error_for_validate_and_plan(
    tree: Callable[[str, str], Path], cli: CliFn, sandbox_path: Path
) -> None:
    tree("m/a.yaml", "a")
    Path("empty").mkdir()
    expected = [
        "empty:1:1: no manifest files under empty (*.yaml or *.yml, any letter case)",
        "nope:1:1: no such file or directory",
    ]
    assert refused(cli("validate", "m", "nope", "empty")) == expected
    assert refused(cli("plan", "m", "nope", "empty", env=plan_env(sandbox_path))) == expected


def test_validate_json_lists_errors_and_the_files_read(
    tree: Callable[[str, str], Path], cli: CliFn
) -> None:
    tree("m/a.yaml", "a")
    Path("m/b.yaml").write_text('version: 1\nmerchants:\n  - name: "b"\n    tagz: {}\n')
    run = cli("validate", "m", "nope.yaml", "--format", "json")
    assert refused(run) == [
        "m/b.yaml:4:5: unknown key 'tagz' (did you mean 'tags'?)",
        "nope.yaml:1:1: no such file or directory",
    ]
    document = json.loads(run.stdout)
    assert document["valid"] is False and document["merchants"] is None
    assert [f["path"] for f in document["manifest_files"]] == ["m/a.yaml", "m/b.yaml"]
    assert document["errors"][0] == {
        "file": "m/b.yaml",
        "line": 4,
        "column": 5,
        "message": "unknown key 'tagz' (did you mean 'tags'?)",
    }


def _as_nobody(tmp_path: Path, warm_up: Callable[[], object], run: Callable[[], Run]) -> Run:
    """`run()` without the power to read other users' files.

    File permissions only bind a process that is not root, and tests often run as
    root: then `run` goes in a forked child that drops to the user nobody (in
    tmp_path, made reachable for it), and reports back through a pipe.
    """
    if os.geteuid() != 0:
        return run()
    tmp_path.chmod(0o755)
    warm_up()  # nobody may not read the interpreter's own modules: import them now
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = run()
            os.write(write_end, json.dumps([result.code, result.stdout, result.stderr]).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and answer, "the unprivileged run failed"
    code, stdout, stderr = json.loads(answer)
    return Run(code, stdout, stderr)


def test_files_and_folders_without_read_permission_are_refused_by_name(
    tree: Callable[[str, str], Path], cli: CliFn, tmp_path: Path
) -> None:
    tree("m/a.yaml", "a")
    tree("m/locked.yaml", "b").chmod(0)
    tree("m/private/c.yaml", "c")
    Path("m/private").chmod(0)
    Path("m").chmod(0o755)
    run = _as_nobody(tmp_path, lambda: cli("validate", "--help"), lambda: cli("validate", "m"))
    assert refused(run) == [
        "m/locked.yaml:1:1: cannot read this file: permission denied",
        "m/private:1:1: cannot list this folder: permission denied",
    ]


def test_help_states_the_discovery_rules_and_the_file_listing(cli: CliFn) -> None:
    validate = " ".join(cli("validate", "--help").stdout.split())
    for words in (
        "any letter case",
        "symlinked folders are followed, each real folder once",
        "'.' (.git) are skipped",
        "never skipped",
        "--verbose",
        "--format [text|json]",
        "manifest_files [{path, sha256}]",
    ):
        assert words in validate
    plan = " ".join(cli("plan", "--help").stdout.split())
    for words in (
        "any letter case",
        "symlinked folders followed once",
        "`manifest_files` lists every manifest file read",
    ):
        assert words in plan
