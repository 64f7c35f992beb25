"""Which files the PATHs name, and reading one of them safely.

A file given by name is read whatever its suffix. A directory means every
`*.yaml` / `*.yml` below it (any letter case), in sorted order; folders whose
name starts with `.` are skipped, so `validate .` works in a repository root;
symlinked folders are followed, each real folder once. A directory is always a
folder to descend into, even one named `x.yaml`.

Nothing found is skipped in silence: a manifest left unread would look like its
merchants were removed, and `apply --prune` would delete them. So a broken
symlink (of any name: it may have been a folder), a symlink loop, a folder that
cannot be listed, a FIFO, socket or device named like a manifest, and a file
that cannot be opened are each an error naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.manifests.errors import ManifestError
from reconciler.manifests.model import Location

MAX_FILE_BYTES = 5 * 1024 * 1024
MANIFEST_SUFFIXES = (".yaml", ".yml")

# (st_dev, st_ino): the identity of a real file or folder, however it is reached.
_Identity = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Source:
    """A manifest file to read: as the user will see it named, and the path to open."""

    display: str
    path: Path


def is_manifest_name(name: str) -> bool:
    return name.lower().endswith(MANIFEST_SUFFIXES)


def _error(errors: list[ManifestError], where: str | Path, message: str) -> None:
    errors.append(ManifestError(Location(str(where), 1, 1), message))


def _reason(exc: OSError) -> str:
    return (exc.strerror or exc.__class__.__name__).lower()


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


def _unresolvable(path: Path, exc: OSError) -> str:
    """Why stat() failed on a path that is listed (or was given): in words, naming the cause."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop: this link cannot be resolved"
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"broken symbolic link: its target '{target}' does not exist"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    return f"cannot read this: {_reason(exc)}"


def discover(paths: Sequence[str | Path], errors: list[ManifestError]) -> list[Source]:
    """The manifest files the PATHs name, each real file once, in the order given."""
    sources: list[Source] = []
    seen: set[_Identity] = set()
    for given in paths:
        path = Path(given)
        try:
            info = os.stat(path)
        except OSError as exc:
            _error(errors, given, _unresolvable(path, exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            found = _walk(path, (info.st_dev, info.st_ino), errors)
            listed = [(Source(str(path / rel), path / rel), ident) for rel, ident in found]
        elif stat.S_ISREG(info.st_mode):
            listed = [(Source(str(given), path), _identity(info))]
        else:
            _error(errors, given, f"{_kind(info.st_mode)}, not a manifest file")
            continue
        for source, ident in listed:
            if ident not in seen:
                seen.add(ident)
                sources.append(source)
    return sources


def _identity(info: os.stat_result) -> _Identity:
    return (info.st_dev, info.st_ino)


_Found = list[tuple[Path, _Identity]]


def _walk(top: Path, top_id: _Identity, errors: list[ManifestError]) -> _Found:
    """Manifest files below `top`, relative to it, sorted by path, with their identities.

    Iterative (a deep tree must not exhaust the stack). Each folder carries the
    chain of real folders above it: meeting one of those again is a loop, an
    error; meeting a folder already read through another link is skipped,
    since its files are already listed.
    """
    found: _Found = []
    problems_before = len(errors)
    visited = {top_id}
    pending: list[tuple[Path, tuple[_Identity, ...]]] = [(Path(), (top_id,))]
    while pending:
        rel, chain = pending.pop()
        folders: list[tuple[Path, tuple[_Identity, ...]]] = []
        for name, info in _list(top, rel, errors):
            child = rel / name
            ident = _identity(info)
            if stat.S_ISDIR(info.st_mode):
                if name.startswith("."):
                    continue
                if ident in chain:
                    ancestor = top.joinpath(*child.parts[: chain.index(ident)])
                    _error(
                        errors,
                        top / child,
                        f"symbolic link loop: this folder is '{ancestor}' again; "
                        "remove the link (each folder is read once)",
                    )
                elif ident not in visited:
                    visited.add(ident)
                    folders.append((child, (*chain, ident)))
            elif not is_manifest_name(name):
                continue
            elif stat.S_ISREG(info.st_mode):
                found.append((child, ident))
            else:
                _error(errors, top / child, f"{_kind(info.st_mode)}, not a manifest file")
        pending.extend(reversed(folders))
    if not found and len(errors) == problems_before:
        _error(errors, top, f"no manifest files under {top} (*.yaml or *.yml, any letter case)")
    return sorted(found, key=lambda entry: entry[0].as_posix())


def _list(top: Path, rel: Path, errors: list[ManifestError]) -> list[tuple[str, os.stat_result]]:
    """The entries of one folder, sorted by name, each stat()ed through symlinks."""
    folder = top / rel
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError as exc:
        _error(errors, folder, f"cannot list this folder: {_reason(exc)}")
        return []
    listed: list[tuple[str, os.stat_result]] = []
    for name in names:
        try:
            listed.append((name, os.stat(folder / name)))
        except OSError as exc:
            # A hidden name may have been a hidden folder, which would be skipped anyway.
            if is_manifest_name(name) or not name.startswith("."):
                _error(errors, folder / name, _unresolvable(folder / name, exc))
    return listed


def read(source: Source) -> bytes | ManifestError:
    """The file's bytes (at most the cap), or why they cannot be had.

    Opened without blocking and checked with fstat() before reading: a FIFO
    renamed in after discovery must not hang the run, nor a device be read.
    """
    at_start = Location(source.display, 1, 1)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(source.path, flags)
    except OSError as exc:
        return ManifestError(at_start, f"cannot read this file: {_reason(exc)}")
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return ManifestError(at_start, f"{_kind(info.st_mode)}, not a manifest file")
        if info.st_size > MAX_FILE_BYTES:
            return _too_big(at_start, info.st_size)
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return ManifestError(at_start, f"cannot read this file: {_reason(exc)}")
    if len(data) > MAX_FILE_BYTES:  # grew since fstat()
        return _too_big(at_start, len(data))
    return data


def _too_big(at: Location, size: int) -> ManifestError:
    return ManifestError(
        at, f"file is {size / 1048576:.1f} MiB; a manifest may be at most 5 MiB: split it"
    )
