"""Manifest errors: every problem found in one run, each pointing at a file position."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reconciler.errors import ReconcilerError
from reconciler.manifests.model import Location


@dataclass(frozen=True, slots=True)
class ManifestError:
    """One problem, at the node a reviewer has to look at."""

    location: Location
    message: str

    def __str__(self) -> str:
        # Keys and names come from the file: a control or line-separator character
        # in one must not break the one-error-per-line report.
        line = f"{self.location}: {self.message}"
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


class ManifestErrors(ReconcilerError):
    """All the problems found in all the files of one load; str() is the report."""

    prefix = ""

    def __init__(
        self, errors: Iterable[ManifestError], *, files: Sequence[tuple[str, str]] = ()
    ) -> None:
        unique = set(errors)
        # The manifest files that were read, (path, sha256), as in DesiredState.files:
        # `validate --format json` lists them even when some have errors.
        self.files = tuple(files)
        self.errors: tuple[ManifestError, ...] = tuple(
            sorted(
                unique,
                key=lambda e: (e.location.file, e.location.line, e.location.column, e.message),
            )
        )
        super().__init__(self._report())

    def _report(self) -> str:
        lines = [str(e) for e in self.errors]
        count = len(self.errors)
        files = len({e.location.file for e in self.errors})
        lines.append(
            f"{count} error{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"
        )
        return "\n".join(lines)
