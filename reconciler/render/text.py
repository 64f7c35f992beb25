"""The plan for a terminal, read like Terraform's."""

from __future__ import annotations

from reconciler.plan.model import Action, Change, Kind, Plan
from reconciler.render.detail import Detail
from reconciler.render.fields import Difference, Field, field_diffs, format_value
from reconciler.render.notes import VERBOSE_HINT, by_kind, summary
from reconciler.render.wording import (
    ACTION_ORDER,
    action_phrase,
    conflicts_line,
    printable,
    summary_line,
)

_GREEN, _YELLOW, _CYAN, _RED, _BOLD = "32", "33", "36", "31", "1"
_SYMBOL_COLOUR = {"+": _GREEN, "~": _YELLOW, "!": _CYAN, "-": _RED, "-/+": _YELLOW}
_LEGEND = {
    Action.CREATE: "create",
    Action.UPDATE: "update in place",
    Action.AUTHORIZE: "authorize (send the declared credentials)",
    Action.UNLINK: "unlink / delete",
    Action.DELETE: "unlink / delete",
    Action.REPLACE: "replace (delete, then create)",
}
_DELETE_WARNING = "will be DELETED (irreversible: its connections and data go too)"
_DETAIL_INDENT = " " * 6


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *codes: str) -> str:
        if not self.color or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"

    def symbol(self, symbol: str) -> str:
        return self(symbol, *filter(None, [_SYMBOL_COLOUR.get(symbol)]))


def render_text(plan: Plan, *, color: bool = False, detail: Detail = Detail.NORMAL) -> str:
    """The plan as terminal text; ANSI colour only when `color` (never in files or CI logs
    unless asked). `detail`: QUIET shows the errors and the summary line, NORMAL also every
    change and the notes summarised by kind, VERBOSE every note. Ends with a newline."""
    paint = _Painter(color)
    lines: list[str] = []
    if plan.has_changes and detail is not Detail.QUIET:
        lines += _legend(plan, paint)
        for change in plan.changes:
            lines += _change_lines(change, paint)
    # One blank line before each group, not before each entry: a few thousand
    # merchants waiting for the sync flow must stay readable.
    if plan.conflicts or plan.problems:
        lines.append("")
    for conflict in plan.conflicts:
        lines.append(paint("Error:", _RED, _BOLD) + _addressed(conflict.address, conflict.message))
    for problem in plan.problems:
        where = f" {printable(problem.location)}:"
        lines.append(
            paint("Error:", _RED, _BOLD) + where + _addressed(problem.address, problem.message)
        )
    if plan.notes and detail is not Detail.QUIET:
        lines.append("")
        lines += _notes(plan, detail)
    if lines:
        lines.append("")
    lines.append(paint(summary_line(plan), _BOLD))
    if plan.blocked:
        lines.append(paint(conflicts_line(plan), _RED))
    return "\n".join(lines) + "\n"


def _notes(plan: Plan, detail: Detail) -> list[str]:
    if detail is Detail.VERBOSE:
        return ["Note:" + _addressed(n.address, n.message) for n in plan.notes]
    groups = by_kind(plan.notes)
    lines = ["Note: " + summary(g, _addressed_words) for g in groups]
    if any(len(g.notes) > 1 for g in groups):
        lines.append(VERBOSE_HINT)
    return lines


def _legend(plan: Plan, paint: _Painter) -> list[str]:
    present = {c.action for c in plan.changes}
    lines = ["codat-reconciler will perform the following actions:"]
    shown: set[str] = set()
    for action in (*ACTION_ORDER, Action.REPLACE):
        if action in present and _LEGEND[action] not in shown:
            shown.add(_LEGEND[action])
            lines.append(f"  {paint.symbol(action.symbol)} {_LEGEND[action]}")
    lines.append("")
    return lines


def _addressed(address: str, message: str) -> str:
    return " " + _addressed_words(address, message)


def _addressed_words(address: str, message: str) -> str:
    # A note about the plan as a whole has no address; an example of many, no message.
    return ": ".join(printable(part) for part in (address, message) if part)


def _change_lines(change: Change, paint: _Painter) -> list[str]:
    head = (
        f"  {paint.symbol(change.action.symbol)} {printable(change.address)}"
        f"  ({action_phrase(change)}: {printable(change.reason)})"
    )
    lines = [head]
    if change.action is Action.DELETE and change.kind is Kind.COMPANY:
        lines.append(_DETAIL_INDENT + paint(_DELETE_WARNING, _RED, _BOLD))
    for field in field_diffs(change):
        lines += _field_lines(field, _DETAIL_INDENT, paint, top=True)
    return lines


def _field_lines(field: Field, indent: str, paint: _Painter, *, top: bool) -> list[str]:
    # Top-level fields go without a symbol (the change line says what happens); nested keys,
    # such as single tags, carry their own +/~/-.
    mark = "" if top else paint.symbol(field.difference.value) + " "
    name = printable(field.name)
    if field.children is not None:
        heading = f" {printable(field.heading)}" if field.heading else ""
        lines = [f"{indent}{mark}{name}:{heading}"]
        for child in field.children:
            lines += _field_lines(child, indent + "  ", paint, top=False)
        return lines
    if field.difference is Difference.CHANGED:
        shown = f"{_shown(field.before)} -> {_shown(field.after)}"
    else:
        shown = _shown(field.value)
    return [f"{indent}{mark}{name}: {shown}"]


def _shown(value: object) -> str:
    return printable(format_value(value))
