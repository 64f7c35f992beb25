"""Merchant names are printable: look-alikes are errors naming the character, and names
that read the same count as one name declared twice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.manifests.loader import load
from reconciler.manifests.names import problem
from reconciler.manifests.schema import fast_check, pattern_regex, schema, validator
from tests.manifests.conftest import Write, errors_of

LOOKALIKE = "(look-alike names would become separate Codat companies)"
UNIQUE = "a name (the Codat company name) must be unique across all manifests"


def manifest(*names: str) -> str:
    """Names written as YAML double-quoted escapes, so invisible characters stay visible here."""
    escaped = [n.encode("unicode_escape").decode().replace("\\x", "\\u00") for n in names]
    return "version: 1\nmerchants:\n" + "".join(f'  - name: "{n}"\n' for n in escaped)


def test_invisible_and_unusual_characters_are_named_by_code_point(write: Write) -> None:
    write(
        "m.yaml",
        manifest(
            "no\u00a0break",
            "line\u2028sep",
            "zero\u200bwidth",
            "tab\tbed",
            "new\n",
            "bell\u0007",
            "caf\u00e9",
            "para\u2029",
            "ideo\u3000space",
            "nel\u0085",
        ),
    )
    assert errors_of("m.yaml") == [
        f"m.yaml:3:11: name contains U+00A0 NO-BREAK SPACE at character 3: only a plain space"
        f" may separate words {LOOKALIKE}",
        f"m.yaml:4:11: name contains U+2028 LINE SEPARATOR at character 5: only a plain space"
        f" may separate words {LOOKALIKE}",
        f"m.yaml:5:11: name contains U+200B ZERO WIDTH SPACE at character 5, an invisible"
        f" character: remove it {LOOKALIKE}",
        f"m.yaml:6:11: name contains U+0009 CHARACTER TABULATION (tab) at character 4: only a"
        f" plain space may separate words {LOOKALIKE}",
        f"m.yaml:7:11: name contains U+000A LINE FEED at character 4: only a plain space may"
        f" separate words {LOOKALIKE}",
        "m.yaml:8:11: name contains U+0007 at character 5: a control character is not allowed"
        " in a name",
        "m.yaml:9:11: name may only hold letters, digits, spaces and the characters"
        " - ' , & @ . ? ! (Codat's rule for company names), not 'é' (U+00E9 LATIN SMALL LETTER"
        " E WITH ACUTE) (character 4)",
        f"m.yaml:10:11: name contains U+2029 PARAGRAPH SEPARATOR at character 5: only a plain"
        f" space may separate words {LOOKALIKE}",
        f"m.yaml:11:11: name contains U+3000 IDEOGRAPHIC SPACE at character 5: only a plain"
        f" space may separate words {LOOKALIKE}",
        f"m.yaml:12:11: name contains U+0085 NEXT LINE at character 4: only a plain space may"
        f" separate words {LOOKALIKE}",
    ]


def test_acme_with_spaces_around_is_not_three_companies(write: Write) -> None:
    write("a.yaml", manifest("acme"))
    write("b.yaml", manifest("acme ", " acme", "ac\u00a0me", "a\u200bcme"))
    assert errors_of("a.yaml", "b.yaml") == [
        f"b.yaml:3:11: merchant name 'acme ' looks the same as 'acme', already declared at"
        f" a.yaml:3:11: {UNIQUE}",
        "b.yaml:3:11: name 'acme ' ends with a space: remove it, or 'acme ' and 'acme' would"
        " be two different Codat companies",
        f"b.yaml:4:11: merchant name ' acme' looks the same as 'acme', already declared at"
        f" a.yaml:3:11: {UNIQUE}",
        "b.yaml:4:11: name ' acme' starts with a space: remove it, or ' acme' and 'acme' would"
        " be two different Codat companies",
        f"b.yaml:5:11: name contains U+00A0 NO-BREAK SPACE at character 3: only a plain space"
        f" may separate words {LOOKALIKE}",
        # Reported as a character in the name, then again as the name it mimics.
        f"b.yaml:6:11: merchant name 'a\\u200bcme' looks the same as 'acme', already declared"
        f" at a.yaml:3:11: {UNIQUE}",
        f"b.yaml:6:11: name contains U+200B ZERO WIDTH SPACE at character 2, an invisible"
        f" character: remove it {LOOKALIKE}",
    ]


def test_names_that_read_the_same_are_one_name_even_when_each_is_allowed(write: Write) -> None:
    write("a.yaml", manifest("Acme Coffee", "O'Brien & Co."))
    write("b.yaml", manifest("Acme  Coffee"))
    assert errors_of("a.yaml", "b.yaml") == [
        f"b.yaml:3:11: merchant name 'Acme  Coffee' looks the same as 'Acme Coffee', already"
        f" declared at a.yaml:3:11: {UNIQUE}",
    ]
    assert [m.name for m in load(["a.yaml"]).merchants] == ["Acme Coffee", "O'Brien & Co."]


def test_a_value_ending_in_a_newline_does_not_slip_through_a_pattern(write: Write) -> None:
    # Python's `$` matches before a final newline; JSON Schema's does not.
    write(
        "m.yaml",
        'version: 1\nmerchants:\n  - name: "1"\n    connections:\n      - platformKey: "dfxm\\n"\n',
    )
    assert errors_of("m.yaml") == [
        "m.yaml:5:22: a platform key is exactly four lowercase letters, like 'dfxm'"
    ]


_NAME_SCHEMA = schema()["$defs"]["merchant"]["properties"]["name"]
_RULE = _NAME_SCHEMA["patternErrorMessage"]


@given(
    st.text(
        alphabet=st.sampled_from("aZ9 -'&.?!/é\t\n\u00a0\u200b\u2028\u3000\x07"),
        min_size=1,
        max_size=8,
    )
)
def test_the_wording_agrees_with_the_schema_pattern(name: str) -> None:
    """Editors check the schema's pattern; the loader explains it: one verdict for both."""
    matches = bool(pattern_regex(_NAME_SCHEMA["pattern"]).search(name))
    assert (problem(name, _RULE) is None) == matches
    document = {"version": 1, "merchants": [{"name": name}]}
    check = fast_check()
    assert check is not None
    assert check(document) == validator().is_valid(document) == matches
