from __future__ import annotations

import pytest

from reconciler.plan.model import Change, Note, NoteKind, Plan
from reconciler.render.detail import Detail
from reconciler.render.text import render_text
from tests.render import plans


def lines_of(plan: Plan) -> list[str]:
    return render_text(plan).splitlines()


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            plans.create_company("12345678"),
            '  + merchant["12345678"]  (create company: not found in Codat)',
        ),
        (
            plans.create_connection("12345678"),
            '  + merchant["12345678"].connection["dfxm"]'
            "  (create connection: no active dfxm connection)",
        ),
        (
            plans.update_company("22222222"),
            '  ~ merchant["22222222"]  (update company: description and tags differ)',
        ),
        (
            plans.authorize("12345678"),
            '  ! merchant["12345678"].connection["dfxm"]  (authorize connection: new connection)',
        ),
        (
            plans.unlink("33333333"),
            '  - merchant["33333333"].connection["dfxm"]'
            "  (unlink connection: not declared (prune))",
        ),
        (
            plans.delete("44444444"),
            '  - merchant["44444444"]  (delete company: not declared in any manifest (prune))',
        ),
    ],
    ids=lambda value: value.action.value if isinstance(value, Change) else "",
)
def test_each_action_has_one_line_with_symbol_address_action_and_reason(
    change: Change, line: str
) -> None:
    assert line in lines_of(Plan(changes=(change,)))


def test_update_shows_changed_fields_and_tags_per_key() -> None:
    out = render_text(Plan(changes=(plans.update_company("22222222"),)))
    assert '      description: "old" -> "new"' in out
    assert "      tags:" in out
    assert '        ~ region: "eu" -> "uk"' in out
    assert '        + team: "ops"' in out
    assert '        - legacy: "y"' in out
    assert "tier" not in out, "unchanged tags are not shown"


def test_create_shows_the_new_company() -> None:
    out = render_text(Plan(changes=(plans.create_company("12345678"),)))
    assert '      description: "Acme Coffee Ltd"' in out
    assert '        + managed-by: "codat-reconciler"' in out


def test_a_first_authorization_adds_its_fields_with_markers_bare() -> None:
    lines = lines_of(Plan(changes=(plans.authorize("12345678"),)))
    assert "        + apiToken: (sensitive: env ACME_DFXM_TOKEN)" in lines
    assert "        + signingKey: (sensitive: file secrets/acme.key)" in lines
    assert "        + storeId: (sensitive: literal)" in lines


def test_a_rotation_updates_the_authorization_and_shows_the_record_that_follows() -> None:
    lines = lines_of(Plan(changes=(plans.authorize("22222222", linked=True),)))
    at = lines.index('      status: "Linked"')
    # The credentials change as a whole: no one field is claimed changed (Codat never
    # shows them, so which one was rotated is not known).
    assert lines[at + 1 : at + 8] == [
        "      authorization: (sensitive: last applied) -> the declared credentials, sent as a "
        "whole:",
        "          apiToken: (sensitive: env ACME_DFXM_TOKEN)",
        "          signingKey: (sensitive: file secrets/acme.key)",
        "          storeId: (sensitive: literal)",
        "      companyTags:",
        '        ~ codat-reconciler-auth: "@Ab3x,dfxm:AAAAAAAAAAAA" -> "@Ab3x,dfxm:BBBBBBBBBBBB"',
        "",
    ]


def test_unlink_shows_the_status_change() -> None:
    lines = lines_of(Plan(changes=(plans.unlink("33333333"),)))
    assert '      status: "Linked" -> "Unlinked"' in lines


def test_delete_is_marked_as_irreversible() -> None:
    lines = lines_of(Plan(changes=(plans.delete("44444444"),)))
    at = lines.index(
        '  - merchant["44444444"]  (delete company: not declared in any manifest (prune))'
    )
    assert lines[at + 1] == (
        "      will be DELETED (irreversible: its connections and data go too)"
    )


def test_summary_counts_every_action() -> None:
    assert lines_of(plans.every_action())[-2] == (
        "Plan: 2 to create, 1 to update, 2 to authorize, 1 to unlink, 1 to delete."
    )


def test_conflicts_are_errors_and_notes_follow_before_the_summary() -> None:
    lines = lines_of(plans.every_action())
    error = (
        'Error: merchant["55555555"]: 2 companies named "55555555" (ids: a, b):'
        " pin one with companyId; merchant left unchanged"
    )
    note = (
        'Note: merchant["12345678"].connection["dfxm"]:'
        " waiting for the merchant to authorize dfxm through the sync flow"
    )
    whole = (
        "Note: 3 managed companies are not declared in any manifest; --prune would delete"
        ' them: "gone-1", "gone-2", "gone-3"'
    )
    problem = (
        'Error: manifests/merchants.yaml:12:9: merchant["66666666"].connection["zzzz"]:'
        " platform key zzzz is not an enabled integration of this Codat account"
    )
    assert lines.index(error) < lines.index(problem) < lines.index(note) < lines.index(whole)
    assert lines.index(whole) < len(lines) - 2
    assert lines[-1] == (
        "2 merchants left unchanged by conflicts and problems; resolve them and plan again."
    )


def test_no_changes() -> None:
    assert render_text(Plan(changes=())) == "No changes. Codat matches the manifests.\n"


def test_no_changes_but_conflicts_does_not_claim_codat_matches() -> None:
    out = render_text(
        Plan(changes=(), conflicts=(plans.duplicate_names("1"), plans.duplicate_names("2")))
    )
    assert "Codat matches" not in out and "No changes" not in out
    assert "Nothing can be changed until the errors above are resolved." in out
    assert out.endswith("2 merchants left unchanged by conflicts; resolve them and plan again.\n")


def test_no_colour_unless_asked() -> None:
    assert "\x1b" not in render_text(plans.every_action())


def test_colour_when_asked() -> None:
    out = render_text(plans.every_action(), color=True)
    assert '\x1b[32m+\x1b[0m merchant["12345678"]' in out
    assert '\x1b[33m~\x1b[0m merchant["22222222"]' in out
    assert '\x1b[36m!\x1b[0m merchant["12345678"]' in out
    assert '\x1b[31m-\x1b[0m merchant["44444444"]' in out
    assert "\x1b[1mPlan: 2 to create" in out


def test_control_characters_in_names_cannot_reach_the_terminal() -> None:
    hostile = plans.create_company("evil\x1b[2J\u202ename")
    out = render_text(Plan(changes=(hostile,)))
    assert "\x1b" not in out and "\u202e" not in out
    assert "evil\\u001b[2J\\u202ename" in out


def test_deterministic() -> None:
    assert render_text(plans.every_action()) == render_text(plans.every_action())


def _waiting(n: int) -> tuple[Note, ...]:
    return tuple(
        Note(
            f'merchant["{10_000_000 + i}"].connection["dfxm"]',
            "waiting for the merchant to authorize dfxm through the sync flow",
            NoteKind.WAITING_FOR_MERCHANT,
        )
        for i in range(n)
    )


def test_notes_are_one_line_per_kind_with_its_count_and_an_example() -> None:
    unchecked = Note(
        'merchant["2"].connection["dfxm"]',
        "could not check for changed credentials: CODAT_RECONCILER_KEY is not set",
        NoteKind.CREDENTIALS_NOT_CHECKED,
    )
    plan = Plan(changes=(), notes=(*_waiting(1_200), unchecked, unchecked))
    assert lines_of(plan) == [
        "",
        "Note: 1,200 connections wait for their merchant to authorize them through the sync "
        'flow, e.g. merchant["10000000"].connection["dfxm"]',
        # Where the message says more than the kind (which variable), the example keeps it.
        "Note: 2 Linked connections could not be checked for changed credentials, e.g. "
        'merchant["2"].connection["dfxm"]: could not check for changed credentials: '
        "CODAT_RECONCILER_KEY is not set",
        "(--verbose lists every note)",
        "",
        "No changes. Codat matches the manifests.",
    ]
    verbose = render_text(plan, detail=Detail.VERBOSE).splitlines()
    assert sum(line.startswith("Note: ") for line in verbose) == 1_202
    quiet = render_text(plans.every_action(), detail=Detail.QUIET).splitlines()
    assert quiet == [
        "",
        'Error: merchant["55555555"]: 2 companies named "55555555" (ids: a, b): pin one with '
        "companyId; merchant left unchanged",
        'Error: manifests/merchants.yaml:12:9: merchant["66666666"].connection["zzzz"]: platform '
        "key zzzz is not an enabled integration of this Codat account",
        "",
        "Plan: 2 to create, 1 to update, 2 to authorize, 1 to unlink, 1 to delete.",
        "2 merchants left unchanged by conflicts and problems; resolve them and plan again.",
    ]


def test_a_kind_with_one_note_shows_that_note_without_a_hint() -> None:
    lines = lines_of(Plan(changes=(), notes=_waiting(1)))
    assert lines[1] == (
        'Note: merchant["10000000"].connection["dfxm"]: waiting for the merchant to authorize '
        "dfxm through the sync flow"
    )
    assert "(--verbose lists every note)" not in lines
