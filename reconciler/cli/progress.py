"""What a command tells the operator while it works: progress and API-call logs.

All of it goes to stderr, so stdout stays the plan (pipeable, diffable).
- On a terminal: one progress bar, redrawn in place.
- Without a terminal (CI): a plain line now and then, never a bar.
- `--quiet`: no progress and no notes (which Codat); what the operator must
  act on or keep (errors, failed changes, files written) still shows.
- `--log-format json`: every line on stderr is one JSON object: every API call
  attempt, every change applied, progress (a bar would corrupt the stream),
  notes and errors. Records carry no header or body, so no secret can reach them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from reconciler.codat.observe import ApiCall, Retrying
from reconciler.plan.model import Change

BAR_WIDTH = 30
LINE_INTERVAL = 5.0  # seconds between plain progress lines in CI
REDRAW_INTERVAL = 0.1
# Work done faster than this shows no progress at all: a flash of a bar, or CI
# lines for a read of five companies, would only be noise.
QUIET_START = 1.0


class Reporter:
    def __init__(
        self,
        *,
        quiet: bool = False,
        log_format: str = "text",
        stream: TextIO | None = None,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._json = log_format == "json"
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._clock = clock
        self._lock = threading.Lock()
        self._observers: list[Callable[[ApiCall], None]] = []
        self._task: tuple[str, int] | None = None
        self._done = 0
        self._failed = 0
        self._started = 0.0
        self._last_shown = float("-inf")
        self._shown_any = False

    @property
    def is_json(self) -> bool:
        return self._json

    # -- logs ---------------------------------------------------------------

    def also_observe(self, observer: Callable[[ApiCall], None]) -> None:
        """Hand every API call to `observer` too (watch counts them for /metrics)."""
        self._observers.append(observer)

    def api_call(self, call: ApiCall) -> None:
        for observer in self._observers:
            observer(call)
        if self._json:
            self._emit({
                "event": "api_call",
                "method": call.method,
                "path": call.path,
                "status": call.status,
                "duration_ms": round(call.duration_ms, 1),
                "attempt": call.attempt,
                "correlationId": call.correlation_id,
                **({"error": call.error} if call.error else {}),
            })

    def retrying(self, retry: Retrying) -> None:
        """A call sent again: one line each, so a slow or failing Codat never looks hung."""
        self.note(retry.event, retry.describe(), method=retry.method, url=retry.url,
                  attempt=retry.attempt, attempts=retry.attempts, cause=retry.cause,
                  wait_s=round(retry.wait_s, 1))

    def change_applied(self, change: Change, error: str | None) -> None:
        if self._json:
            self._emit({
                "event": "change",
                "address": change.address,
                "action": change.action.value,
                "result": "failed" if error else "ok",
                **({"error": error} if error else {}),
            })
        if error:
            with self._lock:
                self._failed += 1
        self.advance()

    # -- messages -----------------------------------------------------------

    def note(self, event: str, message: str, **fields: Any) -> None:
        """Context the operator may want (which Codat); --quiet hides it."""
        if not self._quiet:
            self.tell(event, message, **fields)

    def tell(self, event: str, message: str, *, prefix: str = "", **fields: Any) -> None:
        """What the operator must see even with --quiet: errors, results, what to do next.

        `prefix` ("Error: ") is for people: a JSON record's event says it already.
        """
        if self._json:
            self._emit({"event": event, "message": message.strip(), **fields})
        else:
            self._write(f"{prefix}{message}\n")

    def record(self, event: str, **fields: Any) -> None:
        """Data only a log reader wants (text output says it on stdout already)."""
        if self._json:
            self._emit({"event": event, **fields})

    # -- progress -----------------------------------------------------------

    def start(self, label: str, total: int) -> None:
        with self._lock:
            self._task = (label, total)
            self._done = 0
            self._failed = 0
            self._started = self._clock()
            self._last_shown = float("-inf")
            self._shown_any = False

    def update(self, done: int, total: int | None = None) -> None:
        with self._lock:
            if self._task is None:
                return
            if total is not None:
                self._task = (self._task[0], total)
            self._done = done
        self._show()

    def advance(self) -> None:
        with self._lock:
            if self._task is None:
                return
            self._done += 1
        self._show()

    def finish(self) -> None:
        if self._shown_any:
            self._show(force=True)
        with self._lock:
            task, self._task = self._task, None
            drawn = self._shown_any
        if task is not None and drawn and self._terminal and not self._json:
            self._write("\n")

    def _show(self, force: bool = False) -> None:
        if self._quiet:
            return
        with self._lock:
            if self._task is None:
                return
            label, total = self._task
            done, failed, now = self._done, self._failed, self._clock()
            interval = REDRAW_INTERVAL if self._terminal and not self._json else LINE_INTERVAL
            if not force and (
                now - self._started < QUIET_START or now - self._last_shown < interval
            ):
                return
            self._last_shown = now
            self._shown_any = True
        elapsed = now - self._started
        if self._json:
            self._emit({"event": "progress", "task": label, "done": done, "total": total,
                        "failed": failed, "elapsed_s": round(elapsed, 1)})
            return
        tail = f"  {_clock(elapsed)} elapsed"
        if 0 < done < total:
            tail += f", about {_clock(elapsed / done * (total - done))} left"
        if failed:
            tail += f", {failed} failed"
        if self._terminal:
            filled = BAR_WIDTH * done // total if total else BAR_WIDTH
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            # Pad so a shorter line fully covers the one it redraws.
            self._write(f"\r{label} [{bar}] {done}/{total}{tail}".ljust(100))
        else:
            self._write(f"{label}: {done}/{total}{tail}\n")

    def _emit(self, record: dict[str, Any]) -> None:
        self._write(json.dumps(record, separators=(",", ":")) + "\n")

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
