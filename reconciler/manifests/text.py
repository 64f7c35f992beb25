"""A manifest's bytes as text, and positions in it as (line, column), both from 1."""

from __future__ import annotations

from reconciler.manifests.errors import ManifestError
from reconciler.manifests.model import Location

Mark = tuple[int, int]


def decode(data: bytes, file: str) -> str | ManifestError:
    """The text of a manifest, or why it is not a text file."""
    nul = data.find(b"\0")
    if nul >= 0:
        line, column = line_column_of_byte(data, nul)
        return ManifestError(
            Location(file, line, column),
            "this is not a text file (it contains NUL bytes): manifests must be UTF-8 YAML",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = line_column_of_byte(data, exc.start)
        return ManifestError(
            Location(file, line, column),
            f"invalid UTF-8 at byte {exc.start}: save the file as UTF-8",
        )
    return text.removeprefix("\ufeff")


def line_column_of_byte(data: bytes, offset: int) -> Mark:
    line_start = data.rfind(b"\n", 0, offset) + 1
    prefix = data[line_start:offset].decode("utf-8", errors="replace")
    return data.count(b"\n", 0, offset) + 1, len(prefix) + 1


def line_column_of_char(text: str, offset: int) -> Mark:
    offset = max(0, min(offset, len(text)))
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def tab_problem(text: str, index: int) -> str | None:
    """Words for a syntax error at a tab in the indentation, the usual cause: PyYAML's
    own message says "found character that cannot start any token" without saying which."""
    if not 0 <= index < len(text) or text[index] != "\t":
        return None
    before = text[text.rfind("\n", 0, index) + 1 : index]
    if before.strip(" \t-"):
        return None
    return "tab character used for indentation: YAML indents with spaces"
