"""The plan as a pull-request comment: summary first, removals impossible to miss,
details folded, and cut to fit GitHub's comment size."""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from itertools import accumulate

from reconciler.plan.model import Action, Change, Kind, Plan
from reconciler.render.fields import Difference, Field, field_diffs, format_value
from reconciler.render.wording import (
    action_phrase,
    conflicts_line,
    plural,
    printable,
    removals,
    summary_line,
)

# CI finds its one comment by this line and edits it instead of adding another.
MARKER = "<!-- codat-reconciler plan -->"
# Below this even the summary, the removal headings and the cut note may not fit.
MIN_LIMIT = 2_000
FULL_PLAN_HINT = "run `codat-reconciler show` on the saved plan for the full plan"

# Characters with a meaning in GitHub markdown wherever they stand in a line ($ opens
# math); the line-start ones (#, -, +, 1.) never start a line here, so they stay readable.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~&$])")
_BACKTICK_RUN = re.compile("`+")


def render_markdown(plan: Plan, *, limit: int = 60_000) -> str:
    """At most `limit` characters, ending with a newline. When the plan does not fit, the
    details go first, then the notes, then table rows from the end; the summary, the
    removal warning and the conflicts stay (only when they alone would not fit is the
    longest of them capped, with its own "and N more" line; the counts always show), and
    a note says how much was left out."""
    if limit < MIN_LIMIT:
        raise ValueError(f"a markdown plan needs a limit of at least {MIN_LIMIT:,} characters")
    head = _head(plan)
    always_shown = [_deletes(plan), _unlinks(plan), _conflicts(plan)]
    parts = [*always_shown, _table(plan), _notes(plan), _details(plan)]
    counts = [len(p.items) for p in parts]
    note = ""
    if len(head) + sum(p.size(n) for p, n in zip(parts, counts, strict=True)) > limit:
        # Room for the longest note (everything cut); the always-shown sections share what is
        # left, and the table, notes and details fill the rest in that order.
        budget = limit - len(head) - len(_cut_note(parts, [0] * len(parts)))
        shares = _shares(always_shown, budget)
        for i, part in enumerate(parts):
            counts[i] = part.fitting(shares[i] if i < len(always_shown) else budget)
            budget -= part.size(counts[i])
        note = _cut_note(parts, counts)
    texts = [p.text(n) for p, n in zip(parts, counts, strict=True)]
    body = "".join(texts[: len(always_shown)]) + note + "".join(texts[len(always_shown) :])
    return (head + body).rstrip("\n") + "\n"


@dataclass
class _Part:
    """A section made of items, each a whole line or block ending in a newline."""

    header: str
    items: Sequence[str]
    # What the cut note calls the items left out ("table rows"). Empty for a section that
    # is never dropped, and that ends instead with its `more` line when capped.
    left_out: str = ""
    more: str = ""
    _ends: list[int] = dataclass_field(init=False)

    def __post_init__(self) -> None:
        self._ends = [0, *accumulate(len(i) for i in self.items)]

    @property
    def mandatory(self) -> bool:
        return not self.left_out

    def size(self, kept: int) -> int:
        if not self.items or (kept == 0 and not self.mandatory):
            return 0
        capped = self.mandatory and kept < len(self.items)
        return len(self.header) + self._ends[kept] + (len(self._more(kept)) if capped else 0)

    def _more(self, kept: int) -> str:
        return self.more.format(_n(len(self.items) - kept))

    def text(self, kept: int) -> str:
        if not self.size(kept):
            return ""
        text = self.header + "".join(self.items[:kept])
        if kept < len(self.items) and self.mandatory:
            text += self._more(kept)
        return text

    def fitting(self, budget: int) -> int:
        """How many items, from the first, fit in `budget` characters."""
        if self.size(len(self.items)) <= budget:
            return len(self.items)
        room = budget - len(self.header) - (len(self._more(0)) if self.mandatory else 0)
        return max(0, bisect_right(self._ends, room) - 1)


def _shares(parts: Sequence[_Part], budget: int) -> list[int]:
    """Split `budget` so that smaller sections stay whole and only the largest is capped:
    a long delete list must not push out the one conflict that blocks a merchant."""
    shares = [0] * len(parts)
    smallest_first = sorted(range(len(parts)), key=lambda i: parts[i].size(len(parts[i].items)))
    for waiting, i in enumerate(smallest_first):
        fair = budget // (len(parts) - waiting)
        shares[i] = min(parts[i].size(len(parts[i].items)), fair)
        budget -= shares[i]
    return shares


def _n(n: int) -> str:
    return f"{n:,}"


def _head(plan: Plan) -> str:
    return f"{MARKER}\n### codat-reconciler plan\n\n**{summary_line(plan, _n)}**\n"


def _deletes(plan: Plan) -> _Part:
    doomed = _company_deletes(plan)
    return _Part(
        header=(
            "\n> [!CAUTION]\n"
            f"> **This plan DELETES {plural(len(doomed), 'company', 'companies', _n)}**"
            f" (irreversible: {'its' if len(doomed) == 1 else 'their'} connections and data"
            " go too):\n"
        ),
        items=[_removal_item(c, c.company_id and f"company {_code(c.company_id)}") for c in doomed],
        more="> - …and {} more\n",
    )


def _company_deletes(plan: Plan) -> list[Change]:
    # A webhook consumer deleted is in the table: the warning is for companies' data.
    return [c for c in removals(plan, Action.DELETE) if c.kind is Kind.COMPANY]


def _unlinks(plan: Plan) -> _Part:
    unlinked = removals(plan, Action.UNLINK)
    # One blockquote with the deletes when there are any: a blank line would end it.
    opening = ">\n" if _company_deletes(plan) else "\n> [!WARNING]\n"
    return _Part(
        header=(
            f"{opening}> **This plan UNLINKS "
            f"{plural(len(unlinked), 'connection', 'connections', _n)}**"
            " (the merchant must authorize again to undo it):\n"
        ),
        items=[_removal_item(c, None) for c in unlinked],
        more="> - …and {} more\n",
    )


def _removal_item(change: Change, what: str | None) -> str:
    which = f" ({what})" if what else ""
    return _list_item(change.address, change.reason, which=which, bullet="> - ")


def _list_item(address: str, message: str, *, which: str = "", bullet: str = "- ") -> str:
    if not address:  # a note about the plan as a whole
        return f"{bullet}{_text(message)}\n"
    return f"{bullet}{_code(address)}{which}: {_text(message)}\n"


def _conflicts(plan: Plan) -> _Part:
    return _Part(
        header=f"\n#### {_blocked_title(plan)}\n\n{_text(conflicts_line(plan, _n))}\n\n",
        items=[_list_item(c.address, c.message) for c in plan.conflicts]
        + [_list_item(p.address, f"{p.location}: {p.message}") for p in plan.problems],
        more="- …and {} more\n",
    )


def _blocked_title(plan: Plan) -> str:
    if plan.problems:
        return "Conflicts and problems" if plan.conflicts else "Problems"
    return "Conflicts"


def _table(plan: Plan) -> _Part:
    return _Part(
        header="\n#### Changes\n\n| | address | action | reason |\n| --- | --- | --- | --- |\n",
        items=[
            f"| `{c.action.symbol}` | {_code(c.address, in_table=True)} | {action_phrase(c)} "
            f"| {_text(c.reason)} |\n"
            for c in plan.changes
        ],
        left_out="table rows",
    )


def _notes(plan: Plan) -> _Part:
    return _Part(
        header="\n#### Notes\n\n",
        items=[_list_item(n.address, n.message) for n in plan.notes],
        left_out="notes",
    )


def _details(plan: Plan) -> _Part:
    blocks = []
    for change in plan.changes:
        fields = field_diffs(change)
        if fields:
            blocks.append(_detail(change, fields))
    return _Part(header="\n#### Details\n\n", items=blocks, left_out="details of changes")


def _detail(change: Change, fields: Sequence[Field]) -> str:
    diff = "\n".join(_diff_lines(fields, depth=0))
    fence = _fence(diff, shortest=3)
    summary = (
        f"<code>{change.action.symbol}</code> <code>{html.escape(printable(change.address))}</code>"
        f" {action_phrase(change)}"
    )
    return (
        f"<details><summary>{summary}</summary>\n\n{fence}diff\n{diff}\n{fence}\n\n</details>\n\n"
    )


def _diff_lines(fields: Sequence[Field], depth: int) -> list[str]:
    pad = "  " * depth
    lines: list[str] = []
    for field in fields:
        name = printable(field.name)
        # A map that changes in part keeps a neutral heading; its keys carry the +/-.
        mark = " " if field.difference is Difference.CHANGED else field.difference.value
        if field.children is not None:
            heading = f" {printable(field.heading)}" if field.heading else ""
            lines.append(f"{mark} {pad}{name}:{heading}")
            lines += _diff_lines(field.children, depth + 1)
        elif field.difference is Difference.CHANGED:
            lines.append(f"- {pad}{name}: {printable(format_value(field.before))}")
            lines.append(f"+ {pad}{name}: {printable(format_value(field.after))}")
        else:
            lines.append(f"{mark} {pad}{name}: {printable(format_value(field.value))}")
    return lines


def _cut_note(parts: Sequence[_Part], kept: Sequence[int]) -> str:
    """What was left out, by kind; sized for the worst case when `kept` is all zeros."""
    left_out = [
        f"{_n(len(p.items) - n)} {p.left_out}"
        for p, n in zip(parts, kept, strict=True)
        if not p.mandatory and n < len(p.items)
    ]
    if not left_out:
        return ""
    listed = (
        left_out[0] if len(left_out) == 1 else ", ".join(left_out[:-1]) + " and " + left_out[-1]
    )
    return (
        f"\n> [!NOTE]\n> To fit a pull-request comment, {listed} were left out; {FULL_PLAN_HINT}.\n"
    )


def _code(text: str, *, in_table: bool = False) -> str:
    """An inline code span that survives any content: mentions, issue links and emphasis
    do not apply inside code, and a longer fence absorbs backticks."""
    text = printable(text)
    fence = _fence(text, shortest=1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    if in_table:
        # GFM splits table cells on "|" even inside code spans; "\|" is its escape there.
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(text: str, *, shortest: int) -> str:
    """Backticks enough that no run inside `text` closes the code early."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    return "`" * max(shortest, longest + 1)


def _text(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text))
