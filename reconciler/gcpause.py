"""Cyclic garbage collection paused while a large structure without cycles is built.

CPython's collector makes a full pass each time the objects that survived the
last one grew by a quarter. Reading 10,000 merchants grows the heap by a
million objects, none of them garbage, so the collector walked an ever larger
heap about ten times for nothing: a fifth of the load's time. Paused, it walks
them a few times once building is over. Reference counting frees everything
else as usual meanwhile; only reference cycles wait for the collector.

The switch is process-wide, so pauses are counted: threads that build at the
same time (`watch` loads while its server answers) resume collection when the
last of them finishes, and a collector someone else turned off stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_was_enabled = False


@contextmanager
def paused_collection() -> Iterator[None]:
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
