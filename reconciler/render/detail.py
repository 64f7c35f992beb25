"""How much a text rendering shows: `--quiet`, the default, or `--verbose`."""

from __future__ import annotations

from enum import Enum


class Detail(Enum):
    QUIET = "quiet"  # the summary line and the errors
    NORMAL = "normal"  # and every change, with notes summarised by kind
    VERBOSE = "verbose"  # and every note, one by one

    @classmethod
    def of(cls, *, quiet: bool, verbose: bool) -> Detail:
        return cls.QUIET if quiet else cls.VERBOSE if verbose else cls.NORMAL
