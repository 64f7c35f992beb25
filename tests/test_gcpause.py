"""The collector pause: counted across overlapping pauses, never left off by mistake."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.gcpause import paused_collection
from reconciler.manifests.errors import ManifestErrors
from reconciler.manifests.loader import load


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()


def test_collection_resumes_after_the_pause_even_when_it_raises() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused_collection():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_pauses_resume_only_when_the_last_ends() -> None:
    gc.enable()
    first_in, first_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with paused_collection():
            first_in.set()
            first_may_end.wait(10)
            seen.append(gc.isenabled())  # the second pause ended meanwhile

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    with paused_collection():  # starts inside the first, ends before it
        pass
    assert not gc.isenabled()
    first_may_end.set()
    thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_embedding_program_stays_off() -> None:
    gc.disable()
    with paused_collection():
        pass
    assert not gc.isenabled()


def test_loading_manifests_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    gc.enable()
    with pytest.raises(ManifestErrors, match="no such file"):
        load([tmp_path / "missing.yaml"])
    assert gc.isenabled()
