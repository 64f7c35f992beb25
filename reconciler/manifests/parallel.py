"""Reading many manifest files on several cores, with exactly the sequential result.

Folding YAML events into values is Python work bound to one core, and a fleet
of 100,000 merchants spends most of a plan there. Above a size where it pays,
the files are split into contiguous shares: forked children read theirs while
this process reads its own, then each child sends its results back as plain
tuples (pickling the model's frozen dataclasses costs more than reading the
files did). Shares are contiguous and joined in order, so results and errors
come out in the order a sequential read gives.

Only where it is safe and cheap: `fork` on Linux (no re-import in the child) and no other
thread running (a fork copies locks another thread may hold; `watch` loads
beside its server threads and reads sequentially). A child that fails in any
way costs time, not correctness: its share is read here instead.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from reconciler.manifests.discovery import Source

Result = TypeVar("Result")

# Below this many bytes of manifests a fork costs more than it saves.
MIN_BYTES = 1_000_000
MAX_PROCESSES = 4


def processes_available() -> int:
    """The cores this process may run on, at most MAX_PROCESSES; 1 where forking is unsafe."""
    # Linux only: macOS has fork, but system frameworks a process may have loaded are
    # not safe to use in a forked child (why Python stopped defaulting to it there).
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES))


class Reading(Generic[Result]):
    """Files being read: children (if any) at work until `results()` collects them."""

    def __init__(
        self,
        work: Callable[[Source], Result],
        sources: Sequence[Source],
        decode: Callable[[Any], Result],
        shares: list[range],
        children: list[tuple[range, Any, Connection]],
    ) -> None:
        self._work = work
        self._sources = sources
        self._decode = decode
        self._own = shares[0] if shares else range(len(sources))
        self._children = children

    @property
    def in_parallel(self) -> bool:
        """Whether children share the reading (this process is free until `results()`)."""
        return bool(self._children)

    def results(self) -> list[Result]:
        """`[work(s) for s in sources]`, in order; reads this process's share now."""
        results = [self._work(self._sources[i]) for i in self._own]
        for share, child, receiving in self._children:
            sources = [self._sources[i] for i in share]
            results.extend(_collect(self._work, self._decode, sources, child, receiving))
        self._children = []
        return results


def start(
    work: Callable[[Source], Result],
    sources: Sequence[Source],
    *,
    encode: Callable[[Result], Any],
    decode: Callable[[Any], Result],
    processes: int | None = None,
    own_weight: float = 1.0,
) -> Reading[Result]:
    """Start reading `sources` with `work` on up to `processes` cores.

    `encode` turns a result into plain values (tuples, strings, numbers) for the
    trip from a child; `decode` rebuilds it, equal to what `work` returned.
    `own_weight`: this process's share of the bytes against a child's 1.0.
    """
    count = processes_available() if processes is None else processes
    sizes = [_size(s) for s in sources]
    if count < 2 or len(sources) < 2 or sum(sizes) < MIN_BYTES:
        return Reading(work, sources, decode, [], [])
    shares = _shares(sizes, min(count, len(sources)), own_weight)
    context = multiprocessing.get_context("fork")
    children: list[tuple[range, Any, Connection]] = []
    for share in shares[1:]:
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(work, encode, [sources[i] for i in share], sending), daemon=True
        )
        child.start()
        sending.close()
        children.append((share, child, receiving))
    return Reading(work, sources, decode, shares, children)


def _child(
    work: Callable[[Source], Any],
    encode: Callable[[Any], Any],
    sources: list[Source],
    sending: Connection,
) -> None:
    gc.disable()  # as the parent's loader does: the values hold no cycles
    try:
        payload = pickle.dumps([encode(work(s)) for s in sources], pickle.HIGHEST_PROTOCOL)
    except BaseException:
        # The parent sees a closed pipe and reads this share itself; saying why here
        # would print on the user's terminal for a fault they cannot act on.
        os._exit(1)
    sending.send_bytes(payload)
    sending.close()


def _collect(
    work: Callable[[Source], Result],
    decode: Callable[[Any], Result],
    sources: list[Source],
    child: Any,
    receiving: Connection,
) -> list[Result]:
    try:
        payload = receiving.recv_bytes()
    except (EOFError, OSError):
        payload = None
    finally:
        receiving.close()
        child.join()
    if payload is None or child.exitcode != 0:
        return [work(s) for s in sources]
    return [decode(item) for item in pickle.loads(payload)]


def _shares(sizes: list[int], count: int, first_weight: float = 1.0) -> list[range]:
    """`count` contiguous index ranges (each at least one file), the first holding
    `first_weight` times the bytes of each other."""
    total = sum(sizes)
    weights = [first_weight] + [1.0] * (count - 1)
    bounds = [0]
    running = 0
    for index, size in enumerate(sizes):
        running += size
        # Close a share once it holds its part of the bytes, leaving a file for each rest.
        wanted = total * sum(weights[: len(bounds)]) / sum(weights)
        left = len(sizes) - index - 1
        if running >= wanted and len(bounds) < count and left >= count - len(bounds):
            bounds.append(index + 1)
    bounds.append(len(sizes))
    return [range(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _size(source: Source) -> int:
    try:
        return source.path.stat().st_size
    except OSError:
        return 0
