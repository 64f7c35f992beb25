from __future__ import annotations

import re

import pytest

from reconciler.plan.model import Action, Change, Kind, Plan
from reconciler.render.markdown import MARKER, MIN_LIMIT, render_markdown
from tests.render import plans

LEFT_OUT = re.compile(
    r"To fit a pull-request comment, (?P<what>.*) were left out; "
    r"run `codat-reconciler show` on the saved plan for the full plan\."
)


def left_out(out: str) -> dict[str, int]:
    """{"table rows": 3900, "details of changes": 4210, ...} from the cut note."""
    found = LEFT_OUT.search(out)
    assert found, "the cut note is missing"
    pieces = re.split(r", | and (?=[\d,]+ )", found["what"])
    return {p.split(" ", 1)[1]: int(p.split(" ", 1)[0].replace(",", "")) for p in pieces}


def table_rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("| `")]


def unescaped_pipes(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_marker_then_summary_first() -> None:
    lines = render_markdown(plans.every_action()).splitlines()
    assert lines[0] == MARKER
    assert lines[3] == (
        "**Plan: 2 to create, 1 to update, 2 to authorize, 1 to unlink, 1 to delete.**"
    )


def test_sections_in_order() -> None:
    out = render_markdown(plans.every_action())
    order = ["**Plan:", "> [!CAUTION]", "#### Conflicts", "#### Changes", "#### Notes",
             "#### Details"]  # fmt: skip
    positions = [out.index(heading) for heading in order]
    assert positions == sorted(positions)


def test_table_has_a_row_per_change() -> None:
    out = render_markdown(plans.every_action())
    assert "| | address | action | reason |" in out
    rows = table_rows(out)
    assert len(rows) == 7
    assert rows[0] == '| `+` | `merchant["12345678"]` | create company | not found in Codat |'
    assert rows[-1] == (
        '| `-` | `merchant["44444444"]` | delete company | not declared in any manifest (prune) |'
    )


def test_details_are_folded_with_a_diff() -> None:
    out = render_markdown(Plan(changes=(plans.update_company("22222222"),)))
    assert out.count("<details>") == 1 == out.count("</details>")
    folded = out[out.index("<details>") : out.index("</details>")]
    assert "<summary><code>~</code> <code>merchant[&quot;22222222&quot;]</code>" in folded
    assert '```diff\n- description: "old"\n+ description: "new"\n  tags:\n' in folded
    assert '+   team: "ops"' in folded and '-   legacy: "y"' in folded


def test_removal_warning_lists_every_delete_and_unlink() -> None:
    plan = Plan(changes=(plans.delete("a"), plans.unlink("b"), plans.delete("c")))
    out = render_markdown(plan)
    assert "> [!CAUTION]\n> **This plan DELETES 2 companies**" in out
    assert '> - `merchant["a"]` (company `co-a`): not declared in any manifest (prune)' in out
    assert '> - `merchant["c"]` (company `co-c`)' in out
    assert "> **This plan UNLINKS 1 connection**" in out
    assert '> - `merchant["b"].connection["dfxm"]`: not declared (prune)' in out


def test_unlinks_alone_warn_without_caution() -> None:
    out = render_markdown(Plan(changes=(plans.unlink("b"),)))
    assert "> [!WARNING]\n> **This plan UNLINKS 1 connection**" in out
    assert "CAUTION" not in out and "DELETES" not in out


def test_no_warning_without_removals() -> None:
    out = render_markdown(Plan(changes=(plans.create_company("a"),)))
    assert "> [!" not in out


def test_no_changes() -> None:
    out = render_markdown(Plan(changes=()))
    assert (
        out
        == f"{MARKER}\n### codat-reconciler plan\n\n**No changes. Codat matches the manifests.**\n"
    )


def test_names_with_punctuation_stay_literal() -> None:
    name = "Tom & Jerry's Café, Inc.? Yes! @home - v1.2"
    out = render_markdown(Plan(changes=(plans.create_company(name),)))
    assert f'| `+` | `merchant["{name}"]` | create company |' in out
    assert (
        "<code>merchant[&quot;Tom &amp; Jerry&#x27;s Café, Inc.? Yes! @home - v1.2&quot;]</code>"
        in out
    )


def test_pipes_and_backticks_cannot_break_the_table() -> None:
    change = Change(
        address='merchant["a|b`c"]',
        action=Action.UPDATE,
        kind=Kind.COMPANY,
        reason="tags | differ ``see`` <b>here</b> *now* [x](y) $x$",
        merchant="a|b`c",
        before={"description": "a | b"},
        after={"description": "```"},
    )
    out = render_markdown(Plan(changes=(change,)))
    (row,) = table_rows(out)
    assert unescaped_pipes(row) == 5
    assert '``merchant["a\\|b`c"]``' in row
    assert r"tags \| differ \`\`see\`\` \<b\>here\</b\> \*now\* \[x\](y) \$x\$" in row
    # A value with a triple backtick gets a longer fence, so the diff block stays closed.
    assert '````diff\n- description: "a | b"\n+ description: "```"\n````' in out


def test_control_characters_do_not_reach_the_comment() -> None:
    out = render_markdown(Plan(changes=(plans.create_company("x\ny\x1b\u202e"),)))
    assert "\x1b" not in out and "\u202e" not in out
    assert 'merchant["x\\u000ay\\u001b\\u202e"]' in out


def test_conflicts_come_before_changes() -> None:
    out = render_markdown(plans.every_action())
    assert (
        "2 merchants left unchanged by conflicts and problems; resolve them and plan again.\n\n"
        '- `merchant["55555555"]`: 2 companies named "55555555" (ids: a, b)'
    ) in out
    assert (
        '- `merchant["66666666"].connection["zzzz"]`: manifests/merchants.yaml:12:9: platform'
    ) in out
    assert out.index("#### Conflicts and problems") < out.index("#### Changes")


def test_a_note_on_the_whole_plan_is_listed_without_an_address() -> None:
    notes = render_markdown(plans.every_action()).split("#### Notes\n\n", 1)[1]
    assert notes.splitlines()[1] == (
        "- 3 managed companies are not declared in any manifest; --prune would delete them:"
        ' "gone-1", "gone-2", "gone-3"'
    )


def test_no_cut_note_when_it_fits() -> None:
    assert "left out" not in render_markdown(plans.every_action())


def test_a_large_plan_is_cut_to_the_limit_keeping_every_delete() -> None:
    plan = plans.many(20_000, deletes=25)
    out = render_markdown(plan)
    assert len(out) <= 60_000
    assert (
        "**Plan: 20,000 to create, 0 to update, 0 to authorize, 0 to unlink, 25 to delete.**" in out
    )
    for change in plan.changes[-25:]:
        assert f"> - `{change.address}` (company `{change.company_id}`)" in out
    missing = left_out(out)
    assert missing["details of changes"] == 20_025 - out.count("<details>")
    assert missing["table rows"] == 20_025 - len(table_rows(out))
    assert len(table_rows(out)) > 100, "rows fill the room the details left"


def test_details_go_before_table_rows() -> None:
    plan = plans.many(300)
    out = render_markdown(plan, limit=30_000)
    assert len(out) <= 30_000
    assert len(table_rows(out)) == 300
    assert left_out(out) == {"details of changes": 300 - out.count("<details>")}


def test_notes_are_cut_before_table_rows() -> None:
    plan = Plan(
        changes=plans.many(100).changes,
        notes=tuple(plans.waiting(f"{i:08d}") for i in range(2_000)),
    )
    out = render_markdown(plan, limit=20_000)
    assert len(table_rows(out)) == 100
    missing = left_out(out)
    assert missing["details of changes"] == 100
    assert missing["notes"] == 2_000 - out.count("waiting for the merchant")


def test_a_delete_list_too_long_for_the_limit_is_capped_but_counted() -> None:
    plan = plans.many(0, deletes=5_000)
    out = render_markdown(plan)
    assert len(out) <= 60_000
    assert "> **This plan DELETES 5,000 companies**" in out
    assert "0 to unlink, 5,000 to delete.**" in out
    listed = out.count("> - `merchant[")
    more = re.search(r"> - …and ([\d,]+) more\n", out)
    assert more and listed + int(more[1].replace(",", "")) == 5_000
    assert listed > 100


def test_conflicts_survive_a_cut_and_many_deletes() -> None:
    plan = Plan(
        changes=plans.many(0, deletes=5_000).changes,
        conflicts=(plans.duplicate_names("dup"),),
    )
    out = render_markdown(plan)
    assert len(out) <= 60_000
    assert '- `merchant["dup"]`: 2 companies named "dup"' in out


@pytest.mark.parametrize("limit", [MIN_LIMIT, 3_000, 10_000, 60_000])
@pytest.mark.parametrize("size", [0, 1, 50, 2_000])
def test_never_over_the_limit(limit: int, size: int) -> None:
    plan = Plan(
        changes=(
            *plans.many(size, deletes=size).changes,
            *(plans.unlink(f"u{i}") for i in range(size)),
        ),
        conflicts=tuple(plans.duplicate_names(f"c{i}") for i in range(size)),
        notes=tuple(plans.waiting(f"n{i}") for i in range(size)),
    )
    out = render_markdown(plan, limit=limit)
    assert len(out) <= limit
    assert out.startswith(MARKER)
    if size:
        assert f"DELETES {size:,} compan" in out and f"UNLINKS {size:,} connection" in out


def test_a_limit_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2,000"):
        render_markdown(plans.every_action(), limit=MIN_LIMIT - 1)


def test_deterministic() -> None:
    plan = plans.many(5_000, deletes=3)
    assert render_markdown(plan) == render_markdown(plan)
