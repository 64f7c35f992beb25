"""A GitHub runner for action.yml, played as GitHub documents it, on this machine.

Each `run:` step of the composite action is written to a file and run with
`bash --noprofile --norc -eo pipefail FILE`, in order, with the step's `env:` and
`working-directory:`, RUNNER_TEMP, GITHUB_ACTION_PATH, and a fresh GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY per step. The `${{ }}` expressions are resolved from the inputs, the
earlier steps' outputs and the event; one this runner does not know fails the test rather
than being guessed. A step runs only after the earlier ones succeeded, unless its `if:`
asks for `!cancelled()`. GitHub's REST API for the pull-request comment is `FakeGitHub`, a
loopback HTTP server answering as the issue-comment endpoints do.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.release.conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
GITHUB_TOKEN = "ghs_action-test-token-0000000000000"
REPOSITORY = "example/codat-manifests"
PR = 7
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Comment:
    id: int
    body: str
    author: str


@dataclass
class FakeGitHub:
    """The issue-comment endpoints of GitHub's REST API, for one repository's one PR."""

    comments: list[Comment] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, auth
    writable: bool = True
    url: str = ""

    def post(self, body: str, author: str = "github-actions[bot]") -> Comment:
        comment = Comment(1000 + len(self.comments), body, author)
        self.comments.append(comment)
        return comment


@contextmanager
def serving(github: FakeGitHub) -> Iterator[FakeGitHub]:
    """`github` answering on a loopback port (its `url`) until the block ends."""
    base = f"/repos/{REPOSITORY}/issues"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest's output clean
            pass

        def answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def shown(self, c: Comment) -> dict[str, Any]:
            return {
                "id": c.id,
                "body": c.body,
                "user": {"login": c.author},
                "html_url": f"https://github.com/{REPOSITORY}/pull/{PR}#issuecomment-{c.id}",
            }

        def record(self) -> tuple[str, dict[str, list[str]]]:
            url = urlsplit(self.path)
            github.requests.append((self.command, url.path, self.headers["Authorization"]))
            return url.path, parse_qs(url.query)

        def body(self) -> str:
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            return str(data["body"])

        def do_GET(self) -> None:
            path, query = self.record()
            if path != f"{base}/{PR}/comments":
                return self.answer(404, {"message": "Not Found"})
            size, page = int(query["per_page"][0]), int(query["page"][0])
            shown = github.comments[(page - 1) * size : page * size]
            self.answer(200, [self.shown(c) for c in shown])

        def do_POST(self) -> None:
            path, _ = self.record()
            if path != f"{base}/{PR}/comments":
                return self.answer(404, {"message": "Not Found"})
            if not github.writable:
                return self.answer(403, {"message": "Resource not accessible by integration"})
            self.answer(201, self.shown(github.post(self.body())))

        def do_PATCH(self) -> None:
            path, _ = self.record()
            found = [c for c in github.comments if path == f"{base}/comments/{c.id}"]
            if not found:
                return self.answer(404, {"message": "Not Found"})
            if not github.writable or found[0].author != "github-actions[bot]":
                return self.answer(403, {"message": "Resource not accessible by integration"})
            found[0].body = self.body()
            self.answer(200, self.shown(found[0]))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    github.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield github
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class ActionRun:
    outputs: dict[str, str]
    summary: str
    log: str
    failed: bool
    ran: list[str]


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's two forms: `name=value` and `name<<DELIMITER` ... `DELIMITER`."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            outputs[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


class Runner:
    """One job's runner: a workspace, RUNNER_TEMP, the action's checkout and the event."""

    def __init__(
        self,
        workspace: Path,
        temp: Path,
        action_path: Path,
        job_env: dict[str, str],
        github: FakeGitHub | None = None,
    ) -> None:
        self.workspace, self.temp, self.action_path = workspace, temp, action_path
        self.job_env, self.github = job_env, github

    def run(
        self, event_name: str = "push", env: dict[str, str] | None = None, **given: str
    ) -> ActionRun:
        """Use the action once, `given` as its `with:`, `env` as the using step's `env:`."""
        unknown = set(given) - set(ACTION["inputs"])
        assert not unknown, f"action.yml has no input {unknown}"
        context: dict[str, Any] = {
            "github": {
                "token": GITHUB_TOKEN,
                "event_name": event_name,
                "event": {"pull_request": {"number": PR}} if event_name == "pull_request" else {},
            },
            "steps": {},
        }
        context["inputs"] = {
            name: given.get(name, self.resolve(str(spec.get("default", "")), context))
            for name, spec in ACTION["inputs"].items()
        }
        missing = [n for n, s in ACTION["inputs"].items() if s.get("required") and n not in given]
        assert not missing, f"required inputs not given: {missing}"
        log, summary, failed, ran = [], [], False, []
        # Where the runner keeps this run's per-step files: fresh for every run.
        files = Path(tempfile.mkdtemp(prefix="_runner_file_commands-", dir=self.temp))
        for index, step in enumerate(ACTION["runs"]["steps"]):
            if not self.should_run(step.get("if"), context, failed):
                continue
            ran.append(step["id"] if "id" in step else step["name"])
            output, step_summary = files / f"output-{index}", files / f"summary-{index}"
            output.touch()
            step_summary.touch()
            env = {
                **self.job_env,
                **(env or {}),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(step_summary),
                "RUNNER_TEMP": str(self.temp),
                "GITHUB_ACTION_PATH": str(self.action_path),
                "GITHUB_EVENT_NAME": event_name,
                "GITHUB_REPOSITORY": REPOSITORY,
                "GITHUB_API_URL": self.github.url if self.github else "http://127.0.0.1:9",
                **{k: self.resolve(str(v), context) for k, v in step.get("env", {}).items()},
            }
            assert step["shell"] == "bash"
            script = files / f"step-{index}.sh"
            script.write_text(step["run"])
            cwd = self.workspace / self.resolve(step.get("working-directory", "."), context)
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            log.append(done.stdout + done.stderr)
            summary.append(step_summary.read_text())
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": read_outputs(output)}
            failed = failed or done.returncode != 0
        outputs = {
            name: self.resolve(spec["value"], context) for name, spec in ACTION["outputs"].items()
        }
        return ActionRun(outputs, "".join(summary), "".join(log), failed, ran)

    def resolve(self, text: str, context: dict[str, Any]) -> str:
        return EXPRESSION.sub(lambda m: self.lookup(m.group(1), context), text)

    @staticmethod
    def lookup(name: str, context: dict[str, Any]) -> str:
        root, *path = name.split(".")
        if root == "steps":  # a step that did not run, or an output not set, reads as empty
            step, kind, output = path
            assert kind == "outputs", f"unknown expression ${{{{ {name} }}}}"
            return str(context["steps"].get(step, {}).get("outputs", {}).get(output, ""))
        assert root in ("inputs", "github"), f"unknown expression ${{{{ {name} }}}}"
        value: Any = context[root]
        for part in path:
            assert isinstance(value, dict) and part in value, f"unknown: ${{{{ {name} }}}}"
            value = value[part]
        return str(value)

    def should_run(self, condition: str | None, context: dict[str, Any], failed: bool) -> bool:
        """`if:` as GitHub reads it, for the forms action.yml uses: `!cancelled()`, and
        comparisons with a quoted literal joined by `&&`. Without a status function in it,
        a step runs only while everything before it succeeded."""
        if condition is None:
            return not failed
        inner = EXPRESSION.fullmatch(condition.strip())
        terms = [t.strip() for t in (inner.group(1) if inner else condition).split("&&")]
        if "!cancelled()" in terms:
            terms.remove("!cancelled()")
        elif failed:
            return False
        for term in terms:
            compared = re.fullmatch(r"([\w.-]+) (==|!=) '([^']*)'", term)
            assert compared, f"an if: this test does not know how to evaluate: {term}"
            left, op, right = compared.groups()
            if (self.lookup(left, context) == right) != (op == "=="):
                return False
        return True
