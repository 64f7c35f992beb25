from __future__ import annotations

import pytest

from reconciler.render import FORMATS, render, render_json, render_markdown, render_text
from tests.render import plans

MARKERS = (
    "(sensitive: env ACME_DFXM_TOKEN)",
    "(sensitive: file secrets/acme.key)",
    "(sensitive: literal)",
)


def test_dispatch() -> None:
    plan = plans.every_action()
    assert render(plan, "text") == render_text(plan)
    assert render(plan, "text", color=True) == render_text(plan, color=True)
    assert render(plan, "json") == render_json(plan)
    assert render(plan, "markdown") == render_markdown(plan)


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_colour_only_for_text(fmt: str) -> None:
    assert "\x1b" not in render(plans.every_action(), fmt, color=True)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="text, json, markdown"):
        render(plans.every_action(), "yaml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_markers_shown_request_bodies_never(fmt: str) -> None:
    out = render(plans.every_action(), fmt)
    for marker in MARKERS:
        assert marker in out
    assert plans.BODY_SECRET not in out
    assert "body" not in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_ends_with_one_newline(fmt: str) -> None:
    out = render(plans.every_action(), fmt)
    assert out.endswith("\n") and not out.endswith("\n\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(fmt: str) -> None:
    assert render(plans.every_action(), fmt) == render(plans.every_action(), fmt)
