"""The tool's record on each company, kept in its tag `codat-reconciler-auth`.

The tool keeps no state file, so what it must remember about a company lives on
the company, where every CI run and laptop sees it:

    @Ab3x,dfxm:Q2hhbmdlTWUx,gbol,lqai:-

- `dfxm:<fingerprint>`: a connection the tool authorized, with the fingerprint of
  the credentials it sent (see reconciler/credentials.py);
- `lqai:-`: a connection the tool authorized without a fingerprint (no
  CODAT_RECONCILER_KEY, `apply --no-fingerprints`), so a later plan with the key
  can say why it sends the credentials again;
- `gbol`: a connection the tool created but did not authorize;
- `@Ab3x`: the id of the key that made the fingerprints, so a plan can tell a
  rotated secret from a changed CODAT_RECONCILER_KEY.

Only connections listed here are the tool's: `--prune` never unlinks another.
Records written before ownership and key ids hold only `key:fingerprint` items;
each of those counts as the tool's, and the key that made them is unknown.

Budget: Codat caps a tag value at 100 characters. A fingerprinted item takes 17
(a four-letter platform key, a colon, 12 characters), a bare one 4, the key id
5, plus a comma between items. The manifests allow at most
MAX_AUTHORIZED_CONNECTIONS (5) authorized connections per merchant: with the
key id that is 5 + 5 x 18 = 95 characters, which leaves room for one bare item.
A record that would not fit leaves out undeclared connections, then bare items,
last first: those connections are then not the tool's for `--prune` (the safe
side), and the plan says so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

# Codat's limit on a tag value.
MAX_LENGTH = 100
KEY_ID_MARK = "@"
# In place of a fingerprint: authorized by the tool, with none made. Never a
# fingerprint's value: those are base64url of 9 bytes, 12 characters.
UNFINGERPRINTED = "-"


@dataclass(frozen=True, slots=True)
class Record:
    # Platform key -> fingerprint of what the tool sent (UNFINGERPRINTED: it sent
    # credentials but made no fingerprint), or None for a connection it created
    # without authorizing it.
    entries: Mapping[str, str | None] = field(default_factory=dict)
    # The id of the key that made the fingerprints; None when unknown (an older record).
    key_id: str | None = None

    def owns(self, platform_key: str) -> bool:
        return platform_key in self.entries

    def fingerprint(self, platform_key: str) -> str | None:
        return self.entries.get(platform_key)

    def format(self, declared: Collection[str] = ()) -> tuple[str | None, tuple[str, ...]]:
        """The tag value (None when there is nothing to record) and the platform keys left
        out to keep it within MAX_LENGTH: first undeclared connections, then bare claims,
        last first; `declared` fingerprints fit by the manifests' limit."""
        ranked = sorted(
            self.entries.items(), key=lambda e: (e[0] not in declared, e[1] is None, e[0])
        )
        items = [f"{k}:{v}" if v is not None else k for k, v in ranked]
        head = [KEY_ID_MARK + self.key_id] if self.key_id else []
        left_out: list[str] = []
        while items and len(",".join(head + items)) > MAX_LENGTH:
            left_out.insert(0, ranked[len(items) - 1][0])
            items.pop()
        if not any(v not in (None, UNFINGERPRINTED) for k, v in ranked if k not in left_out):
            head = []  # a key id with no fingerprint says nothing
        return (",".join(head + items) or None), tuple(left_out)


EMPTY = Record()


def parse(value: str | None) -> Record:
    """The record in a tag value; anything unreadable in it is ignored."""
    if not value:
        return EMPTY
    entries: dict[str, str | None] = {}
    key_id: str | None = None
    for item in value.split(","):
        item = item.strip()
        if item.startswith(KEY_ID_MARK):
            key_id = item[1:] or None
            continue
        key, colon, fingerprint = item.partition(":")
        if key and not colon:
            entries[key] = None
        elif key and fingerprint:
            entries[key] = fingerprint
    return Record(entries, key_id)
