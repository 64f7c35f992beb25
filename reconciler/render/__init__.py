"""Plan renderers: the same Plan as terminal text, versioned JSON, or a PR comment."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.model import Plan
from reconciler.render.detail import Detail
from reconciler.render.json_format import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

FORMATS: tuple[str, ...] = ("text", "json", "markdown")

__all__ = ["FORMATS", "Detail", "render", "render_json", "render_markdown", "render_text"]


def render(
    plan: Plan,
    fmt: str,
    *,
    color: bool = False,
    manifest_files: Sequence[tuple[str, str]] = (),
    detail: Detail = Detail.NORMAL,
) -> str:
    """`fmt` is one of FORMATS; `color` and `detail` apply to text only (JSON and markdown
    are read by programs and by GitHub, where escape codes would be noise; JSON keeps
    every note). `manifest_files`, (path, sha256) of the manifests read, are listed by
    JSON only."""
    if fmt == "text":
        return render_text(plan, color=color, detail=detail)
    if fmt == "json":
        return render_json(plan, manifest_files)
    if fmt == "markdown":
        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}: expected one of {', '.join(FORMATS)}")
