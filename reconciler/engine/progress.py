"""What the engine tells its caller while it works: a structural interface, no UI.

The CLI passes its Reporter (a bar, CI lines or JSON logs); a service can pass
anything with these methods, or nothing.
"""

from __future__ import annotations

from typing import Protocol

from reconciler.plan.model import Change


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def update(self, done: int, total: int | None = None) -> None: ...
    def advance(self) -> None: ...
    def finish(self) -> None: ...
    def change_applied(self, change: Change, error: str | None) -> None: ...


class Silent:
    """A Progress that says nothing."""

    def start(self, label: str, total: int) -> None:
        pass

    def update(self, done: int, total: int | None = None) -> None:
        pass

    def advance(self) -> None:
        pass

    def finish(self) -> None:
        pass

    def change_applied(self, change: Change, error: str | None) -> None:
        pass


SILENT = Silent()
