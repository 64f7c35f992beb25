"""Merchant names are printable, so look-alike names cannot become separate companies.

Codat's pattern for company names allows any whitespace (`\\s`): "acme", "acme "
and "acme" with a no-break space would be three companies that read the same
in every list. A manifest name may hold the plain space only between words and
no other whitespace, control or invisible formatting character; errors name
the offending character by its code point, since it cannot be seen. Names are
also compared for uniqueness in a look-alike form, so two names that read the
same are reported as declared twice even where each is otherwise allowed.
"""

from __future__ import annotations

import string
import unicodedata

# Codat's characters, with the plain space as the only whitespace.
_ALLOWED = frozenset(string.ascii_letters + string.digits + " -',&@.?!")
# Control characters have no Unicode name; these are the ones people meet.
_CONTROL_NAMES = {
    0x09: "CHARACTER TABULATION (tab)",
    0x0A: "LINE FEED",
    0x0D: "CARRIAGE RETURN",
    0x85: "NEXT LINE",
}
_LOOKALIKE = "look-alike names would become separate Codat companies"


def describe(char: str) -> str:
    """`U+00A0 NO-BREAK SPACE`: a character named so it can be found although unseen."""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "")
    return f"U+{ord(char):04X} {name}".rstrip()


def problem(name: str, rule: str) -> str | None:
    """Why `name` cannot be a company name, naming the first offending character; None if
    it can. `rule` is the schema's wording of Codat's rule, for ordinary characters."""
    for position, char in enumerate(name, 1):
        if char in _ALLOWED:
            continue
        where = f"name contains {describe(char)} at character {position}"
        category = unicodedata.category(char)
        if char.isspace() or category.startswith("Z"):
            return f"{where}: only a plain space may separate words ({_LOOKALIKE})"
        if category == "Cc":
            return f"{where}: a control character is not allowed in a name"
        if category == "Cf":
            return f"{where}, an invisible character: remove it ({_LOOKALIKE})"
        if not char.isprintable():
            return f"{where}: not a printable character"
        shown = f"'{char}'" if char.isascii() else f"'{char}' ({describe(char)})"
        return f"{rule}, not {shown} (character {position})"
    if name != name.strip(" "):
        end = "starts" if name.startswith(" ") else "ends"
        return (
            f"name '{name}' {end} with a space: remove it, or '{name}' and '{name.strip(' ')}' "
            "would be two different Codat companies"
        )
    return None


def lookalike(name: str) -> str:
    """The form two names share when they read the same: compatibility characters folded
    (NFKC), invisible and control characters dropped, any run of whitespace one space,
    none at the ends."""
    if not (name.isascii() and name.isprintable()):
        folded = unicodedata.normalize("NFKC", name)
        name = "".join(c for c in folded if c.isspace() or unicodedata.category(c)[0] != "C")
    return " ".join(name.split())
