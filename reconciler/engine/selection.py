"""Which declared merchants a run works on: `--merchant` and `--exclude`.

Both take names or shell-style patterns (`uk-*`, `1000000?`, `[ab]*`), matched
against the declared merchant names with their letter case. A name or pattern
that matches no declared merchant is an error, as is a selection that leaves no
merchant: a typo must not turn into a run on every merchant, or on none, in silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.manifests.model import DesiredState


def select_merchants(
    desired: DesiredState,
    merchants: Sequence[str] = (),
    exclude: Sequence[str] = (),
    paths: Sequence[str | Path] = (),
) -> tuple[str, ...]:
    """The names of the merchants to work on, sorted; () when neither option is given
    (every merchant). `paths` only words the error."""
    if not merchants and not exclude:
        return ()
    declared = {m.name for m in desired.merchants}
    unmatched = [f'--merchant "{m}"' for m in merchants if not _matching(declared, m)]
    unmatched += [f'--exclude "{x}"' for x in exclude if not _matching(declared, x)]
    where = ", ".join(str(p) for p in paths) or "the manifests"
    if unmatched:
        raise ReconcilerError(
            f"{', '.join(unmatched)}: not declared in {where}: no merchant name matches "
            "(merchant names are the Codat company names, as written in the manifests; a "
            "pattern such as 'uk-*' is matched with its letter case). Nothing was done."
        )
    chosen = set().union(*(_matching(declared, m) for m in merchants)) if merchants else declared
    chosen = chosen - set().union(*(_matching(declared, x) for x in exclude))
    if not chosen:
        raise ReconcilerError(f"--exclude leaves no merchant of {where} to work on")
    return tuple(sorted(chosen))


def _matching(declared: set[str], pattern: str) -> set[str]:
    if pattern in declared:
        return {pattern}  # a name is itself, whatever characters it holds ("[test] shop")
    return {name for name in declared if fnmatchcase(name, pattern)}
