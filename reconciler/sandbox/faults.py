"""Injected faults: `--fault KIND:METHOD:PATH_GLOB:RATE`, deterministic under a seed.

Every request that matches a spec draws exactly one decision from that spec, in
the order the specs were given, from one seeded `random.Random` behind a lock:
the same seed and the same request sequence give the same faults. The first
spec whose decision fires wins.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

# `500-after` commits the change, then answers 500; `lost` commits it, then
# closes the connection unanswered.
KINDS = ("500", "503", "429", "timeout", "lost", "500-after")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "*")


@dataclass(slots=True)
class FaultSpec:
    kind: str
    method: str
    path_glob: str
    probability: float | None  # None when `first` is set
    first: int | None
    pattern: re.Pattern[str]
    matched: int = field(default=0)  # matching requests seen so far

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.pattern.fullmatch(path) is not None


def _glob_to_regex(glob: str) -> re.Pattern[str]:
    # `*` is one path segment (or part of one); `**` any number of segments.
    parts = []
    for segment in glob.rstrip("/").split("/"):
        if segment == "**":
            parts.append(".*")
        else:
            parts.append("[^/]*".join(re.escape(piece) for piece in segment.split("*")))
    return re.compile("/".join(parts) + "/?")


def parse_fault(text: str) -> FaultSpec:
    """Parse one `KIND:METHOD:PATH_GLOB:RATE`; ValueError says what is wrong."""
    parts = text.split(":", 3)
    if len(parts) != 4:
        raise ValueError(f"{text!r} is not KIND:METHOD:PATH_GLOB:RATE")
    kind, method, glob, rate = parts
    if kind not in KINDS:
        raise ValueError(f"{text!r}: KIND must be one of {', '.join(KINDS)}")
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"{text!r}: METHOD must be one of {', '.join(METHODS)}")
    if not glob.startswith("/"):
        raise ValueError(f"{text!r}: PATH_GLOB must start with /")
    probability: float | None = None
    first: int | None = None
    if rate.startswith("first:"):
        try:
            first = int(rate.removeprefix("first:"))
        except ValueError:
            first = -1
        if first < 0:
            raise ValueError(f"{text!r}: first:N needs a whole number N >= 0")
    else:
        try:
            probability = float(rate)
        except ValueError:
            probability = -1.0
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"{text!r}: RATE must be a probability from 0 to 1, or first:N")
    return FaultSpec(kind, method, glob, probability, first, _glob_to_regex(glob))


class FaultInjector:
    def __init__(self, specs: Iterable[FaultSpec | str] = (), seed: int | None = None) -> None:
        self.specs = [parse_fault(s) if isinstance(s, str) else s for s in specs]
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def decide(self, method: str, path: str) -> str | None:
        """The fault kind to act out for this request, or None."""
        if not self.specs:
            return None
        chosen: str | None = None
        with self._lock:
            for spec in self.specs:
                if not spec.matches(method, path):
                    continue
                spec.matched += 1
                if spec.first is not None:
                    fires = spec.matched <= spec.first
                else:
                    fires = self._random.random() < (spec.probability or 0.0)
                if fires and chosen is None:
                    chosen = spec.kind
        return chosen
