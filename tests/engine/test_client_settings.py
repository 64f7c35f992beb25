"""Sync settings are written from a list read immediately before: the Python API."""

from __future__ import annotations

import textwrap
from pathlib import Path

from reconciler import engine

MANIFEST = """\
version: 1
client:
  syncSettings:
    - dataType: commerce-orders
      fetchOnFirstLink: true
    - dataType: commerce-payments
      syncSchedule: 6
merchants: []
"""


def _setting(client: engine.CodatClient, data_type: str) -> dict[str, object]:
    return next(s for s in client.sync_settings()["settings"] if s["dataType"] == data_type)


def test_a_change_made_since_the_plan_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "client.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    desired = engine.load_manifests([tmp_path / "client.yaml"])
    target = engine.Target.embedded_sandbox(str(tmp_path / "world.sqlite"))
    with engine.connect(target) as client:
        planned = engine.plan(client, desired)
        assert [c.address for c in planned.plan.changes] == [
            'syncSettings["commerce-orders"]',
            'syncSettings["commerce-payments"]',
        ]
        # Since the plan: someone sets a declared field of one data type, and an undeclared
        # field of the other.
        settings = client.sync_settings()["settings"]
        for setting in settings:
            if setting["dataType"] == "commerce-orders":
                setting["fetchOnFirstLink"] = True
                setting["syncSchedule"] = 48
            if setting["dataType"] == "commerce-payments":
                setting["syncSchedule"] = 12
                setting["fetchOnFirstLink"] = True
        client.set_sync_settings(settings)

        result = engine.apply(client, planned)
        # commerce-orders already holds what the plan wanted: written, their 48 kept.
        # commerce-payments moved from what the plan saw: reported, their 12 kept.
        assert [c.address for c in result.done] == ['syncSettings["commerce-orders"]']
        (failure,) = result.failed
        assert failure.change.address == 'syncSettings["commerce-payments"]'
        assert "changed in Codat since the plan was made" in failure.message
        assert _setting(client, "commerce-orders")["syncSchedule"] == 48
        assert _setting(client, "commerce-payments")["syncSchedule"] == 12
        assert _setting(client, "commerce-payments")["fetchOnFirstLink"] is True

        again = engine.plan(client, desired)
        assert [c.address for c in again.plan.changes] == ['syncSettings["commerce-payments"]']
        assert engine.apply(client, again).ok
        assert _setting(client, "commerce-payments")["syncSchedule"] == 6
        assert _setting(client, "commerce-payments")["fetchOnFirstLink"] is True
        assert not engine.plan(client, desired).plan.has_changes
