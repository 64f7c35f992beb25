"""The tool's record in the tag `codat-reconciler-auth`: its format and its budget."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.credentials import fingerprint, key_id
from reconciler.manifests.loader import MAX_AUTHORIZED_CONNECTIONS
from reconciler.plan import record
from reconciler.plan.record import MAX_LENGTH, Record

KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=4)
FINGERPRINTS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    min_size=12,
    max_size=12,
)


def test_format_lists_key_id_fingerprints_then_bare_claims() -> None:
    text, left_out = Record({"gbol": None, "dfxm": "Q2hhbmdlTWUx", "aaaa": None}, "Ab3x").format()
    assert text == "@Ab3x,dfxm:Q2hhbmdlTWUx,aaaa,gbol"
    assert left_out == ()
    assert Record({"gbol": None}, "Ab3x").format() == ("gbol", ())  # no fingerprint, no key id
    assert Record({}, "Ab3x").format() == (None, ())


def test_records_written_before_ownership_parse_as_the_tools_connections() -> None:
    legacy = record.parse("dfxm:Q2hhbmdlTWUx,lqai:AAAAAAAAAAAA")
    assert legacy == Record({"dfxm": "Q2hhbmdlTWUx", "lqai": "AAAAAAAAAAAA"}, None)
    assert legacy.owns("dfxm") and not legacy.owns("gbol")


def test_junk_is_ignored() -> None:
    assert record.parse(" dfxm:abc , :x, @, ,gbol") == Record({"dfxm": "abc", "gbol": None}, None)
    assert record.parse(None) == record.EMPTY == record.parse("")


@given(
    st.dictionaries(KEYS, st.one_of(st.none(), FINGERPRINTS), max_size=9),
    st.sets(KEYS),
    st.booleans(),
)
def test_never_over_the_budget_and_declared_fingerprints_kept(
    entries: dict[str, str | None], declared: set[str], with_key: bool
) -> None:
    original = Record(entries, "Ab3x" if with_key else None)
    text, left_out = original.format(declared)
    assert text is None or len(text) <= MAX_LENGTH
    parsed = record.parse(text)
    assert dict(parsed.entries) == {k: v for k, v in entries.items() if k not in left_out}
    kept = {k for k, v in entries.items() if k in declared and v is not None}
    if len(kept) <= MAX_AUTHORIZED_CONNECTIONS:
        assert not kept & set(left_out)  # what the manifests allow always fits

    # Left out first: undeclared connections, then bare claims; never before what stays.
    def rank(k: str) -> tuple[bool, bool, str]:
        return (k not in declared, entries[k] is None, k)

    if left_out and parsed.entries:
        assert max(map(rank, parsed.entries)) < min(map(rank, left_out))


def test_the_manifest_limit_of_authorized_connections_fits_with_the_key_id_and_one_claim() -> None:
    key = b"k" * 32
    entries: dict[str, str | None] = {
        f"aa{chr(97 + i)}a": fingerprint(key, "12345678", f"aa{chr(97 + i)}a", {"t": "v"})
        for i in range(MAX_AUTHORIZED_CONNECTIONS)
    }
    entries["zzzz"] = None
    text, left_out = Record(entries, key_id(key)).format()
    assert left_out == () and text is not None and len(text) == MAX_LENGTH
    entries["zzzy"] = None
    text, left_out = Record(entries, key_id(key)).format()
    assert left_out == ("zzzz",) and text is not None and len(text) <= MAX_LENGTH
