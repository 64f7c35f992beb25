"""examples/watch/: its command lines are ones `watch` accepts, its probes and port agree
with them, and the Codat consumer subscribes to the events watch acts on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli.watch import watch
from reconciler.manifests.loader import load
from reconciler.watch.endpoint import WEBHOOK_PATH
from reconciler.watch.events import MERCHANT_EVENTS, RATE_LIMIT_REACHED, RATE_LIMIT_RESET

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "watch"


def accepted(args: list[str], mounts: dict[str, Path]) -> dict[str, Any]:
    """`watch`'s parameters from `args`, parsed as click would; the container's paths
    stand in for local folders, since PATH must exist."""
    local = []
    for arg in args:
        for mount, folder in mounts.items():
            if arg.startswith(mount):
                target = folder / arg[len(mount) :].lstrip("/")
                target.mkdir(parents=True, exist_ok=True)
                arg = str(target)
        local.append(arg)
    with watch.make_context("watch", local) as ctx:
        return dict(ctx.params)


def deployment() -> dict[str, Any]:
    docs = list(yaml.safe_load_all((EXAMPLES / "kubernetes.yaml").read_text()))
    (found,) = [d for d in docs if d["kind"] == "Deployment"]
    return dict(found)


def instruction(dockerfile: str, name: str) -> list[str]:
    """The exec form (a JSON list) of a Dockerfile instruction."""
    found = re.search(rf"^{name} (\[.*\])$", dockerfile, re.M)
    assert found is not None, f"no {name} in exec form"
    words: list[str] = json.loads(found.group(1))
    return words


def test_the_dockerfile_command_line_is_accepted(tmp_path: Path) -> None:
    text = (EXAMPLES.parents[1] / "Dockerfile").read_text()  # the image examples/watch runs
    entry, cmd = instruction(text, "ENTRYPOINT"), instruction(text, "CMD")
    assert entry == ["codat-reconciler"]
    params = accepted(cmd[1:], {"/manifests": tmp_path / "manifests"})
    assert cmd[0] == "watch" and params["listen"] == ("0.0.0.0", 8080)
    assert "EXPOSE 8080" in text and "-py3-none-any.whl[watch]" in text


def test_the_kubernetes_command_line_is_accepted_and_agrees_with_its_probes(
    tmp_path: Path,
) -> None:
    spec = deployment()["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "watch"]
    assert container["command"] == ["codat-reconciler"] and container["args"][0] == "watch"
    (mount,) = container["volumeMounts"]
    params = accepted(container["args"][1:], {mount["mountPath"]: tmp_path / "git"})
    assert params["log_format"] == "json"

    (port,) = container["ports"]
    assert port["containerPort"] == params["listen"][1]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert container["envFrom"] == [{"secretRef": {"name": "codat-reconciler"}}]
    syncs = [c for c in (*pod["initContainers"], *pod["containers"]) if "git-sync" in c["image"]]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--root=" + mount["mountPath"] in sync["args"]
        assert container["args"][1].startswith(mount["mountPath"] + "/current/")


def test_a_command_line_watch_would_refuse_is_caught(tmp_path: Path) -> None:
    with pytest.raises(click.UsageError):
        accepted(["/manifests", "--listen", "8080"], {"/manifests": tmp_path})


def test_the_webhook_consumer_subscribes_to_what_watch_acts_on() -> None:
    desired = load([EXAMPLES / "client.yaml"])
    assert desired.client is not None and desired.merchants == ()
    (consumer,) = desired.client.webhooks
    assert consumer.url.startswith("https://") and consumer.url.endswith(WEBHOOK_PATH)
    assert set(consumer.event_types) == MERCHANT_EVENTS | {RATE_LIMIT_REACHED, RATE_LIMIT_RESET}
    assert consumer.company_tags == ("managed-by:codat-reconciler",)
    assert not consumer.disabled and not consumer.absent
