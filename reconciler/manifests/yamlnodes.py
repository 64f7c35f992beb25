"""Safe YAML reading: plain data only, bounded work, a position for every node.

PyYAML's own composer is not used: its C version recurses natively (a deeply
nested file crashes the interpreter) and neither version reports duplicate keys.
Instead libyaml's event stream (when available) is folded into Python values
iteratively, checking tags, duplicate keys, nesting and alias expansion as it
goes, and recording where each node starts so schema errors can point at it.

Most files are plain block mappings and lists. They take a quick fold that does
the same with less work per event, and hands a file holding anything else
(aliases, tags, duplicate or merge keys, a second document, a YAML error) to the
full fold, which reads it again and explains what it found. The
two give the same Document for every file the quick one accepts (tests compare
them on generated files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml import events
from yaml.nodes import ScalarNode

from reconciler.manifests.errors import ManifestError
from reconciler.manifests.model import Location
from reconciler.manifests.text import Mark, line_column_of_char, tab_problem

MAX_DEPTH = 64
# Nodes an alias may stand for, summed over all aliases of a file. Reusing a
# connection block across a few hundred merchants stays far below; an "alias
# bomb" (aliases of aliases, growing exponentially) hits it after a few levels.
MAX_ALIAS_EXPANSION = 100_000

_Loader: Any = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
if _Loader is None:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

_YAML = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _YAML + "str", _YAML + "seq", _YAML + "map"
_TIMESTAMP = _YAML + "timestamp"
# Scalars built by PyYAML's safe constructor; anything else (python/object,
# binary, set, custom `!foo`) is refused rather than constructed.
_SCALAR_TAGS = {_YAML + "int", _YAML + "float", _YAML + "bool", _YAML + "null"}
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass(slots=True)
class Pos:
    """Where a collection starts, where its keys are (a mapping), and its children's.

    A scalar child is its bare Mark: most nodes are scalars, and an object for
    each was a good part of reading a large manifest.
    """

    mark: Mark
    key_marks: dict[str, Mark] | None = None
    children: dict[str | int, Pos | Mark] | None = None


@dataclass(slots=True)
class Document:
    value: Any
    pos: Pos
    errors: list[ManifestError]
    # False when the errors leave a value not worth checking further.
    usable: bool


class _Stop(Exception):
    """Raised inside the fold when the file cannot be read any further."""


def show_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


def _mark_of(event: events.Event) -> Mark:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


@dataclass(slots=True)
class _Frame:
    value: dict[str, Any] | list[Any]
    pos: Pos
    anchor: str | None
    # The open collection's `pos.children` and, for a mapping, `pos.key_marks`.
    children: dict[str | int, Pos | Mark]
    key_marks: dict[str, Mark] | None
    size: int = 1
    key: str | None = None
    key_mark: Mark = (0, 0)


class _Folder:
    """Turns the event stream of one document into values and positions."""

    def __init__(self, text: str, file: str, loader: Any = None) -> None:
        self.text = text
        self.file = file
        self.loader = loader or _Loader
        # Set when libyaml gave up on nesting before our own, lower, limit could
        # see it (recent libyaml scans far ahead inside flow collections).
        self.too_deep_for_libyaml = False
        self.errors: list[ManifestError] = []
        self.usable = True
        self.anchors: dict[str, tuple[Any, Pos | Mark, int]] = {}
        self.open_anchors: set[str] = set()
        self.expanded = 0
        self.stack: list[_Frame] = []
        self.root: tuple[Any, Pos] | None = None

    def error(self, mark: Mark, message: str) -> None:
        self.errors.append(ManifestError(Location(self.file, mark[0], mark[1]), message))

    def fatal(self, mark: Mark, message: str) -> _Stop:
        self.error(mark, message)
        self.usable = False
        return _Stop()

    def run(self) -> Document:
        try:
            self._fold(self.loader(self.text))
        except _Stop:
            pass
        except yaml.MarkedYAMLError as exc:
            if "maximum nesting depth" in str(exc.problem) and self.loader is not yaml.SafeLoader:
                self.too_deep_for_libyaml = True
            mark = exc.problem_mark or exc.context_mark
            where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            if exc.context and exc.problem:
                problem = f"{exc.context}: {exc.problem}"
            tab = tab_problem(self.text, mark.index) if mark is not None else None
            self.fatal(where, tab or f"YAML syntax error: {problem}")
        except yaml.reader.ReaderError as exc:
            self.fatal(line_column_of_char(self.text, exc.position), f"invalid YAML: {exc.reason}")
        except yaml.YAMLError as exc:
            self.fatal((1, 1), f"invalid YAML: {exc.__class__.__name__}")
        if self.root is None:
            if self.usable:
                self.fatal((1, 1), "the file is empty: a manifest starts with 'version: 1'")
            return Document(None, Pos((1, 1)), self.errors, False)
        value, pos = self.root
        return Document(value, pos, self.errors, self.usable)

    def _fold(self, parser: Any) -> None:
        # Events in the order they are most frequent; an end event needs no mark.
        while True:
            event = parser.get_event()
            if isinstance(event, events.ScalarEvent):
                mark = _mark_of(event)
                frame = self.stack[-1] if self.stack else None
                if frame is not None and frame.key_marks is not None and frame.key is None:
                    self._key(frame, event, mark)
                else:
                    self._complete(self._scalar(event, mark), mark, 1, event.anchor)
            elif isinstance(event, events.CollectionEndEvent):
                done = self.stack.pop()
                if done.anchor is not None:
                    self.open_anchors.discard(done.anchor)
                self._complete(done.value, done.pos, done.size, done.anchor)
            elif isinstance(event, events.CollectionStartEvent):
                self._start(event, _mark_of(event))
            elif isinstance(event, events.AliasEvent):
                self._alias(str(event.anchor), _mark_of(event))
            elif isinstance(event, events.DocumentEndEvent):
                following = parser.get_event()
                if isinstance(following, events.DocumentStartEvent):
                    raise self.fatal(
                        _mark_of(following),
                        "a second YAML document ('---') in one file: keep one document per file",
                    )
                return
            elif isinstance(event, events.StreamEndEvent):
                return

    def _key_frame_check(self, mark: Mark) -> None:
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.key_marks is not None and frame.key is None:
            raise self.fatal(mark, "a key must be plain text, not a list, mapping or alias")

    def _key(self, frame: _Frame, event: events.ScalarEvent, mark: Mark) -> None:
        if event.tag not in (None, "!", _STR):
            raise self.fatal(mark, f"YAML tag '{show_tag(event.tag)}' is not allowed on a key")
        if event.value == "<<" and event.implicit[0]:
            raise self.fatal(
                mark, "YAML merge keys ('<<') are not supported: use 'defaults' for shared values"
            )
        key = event.value
        assert frame.key_marks is not None
        if key in frame.key_marks:
            first = frame.key_marks[key]
            self.error(mark, f"duplicate key '{key}' (first defined at line {first[0]})")
        frame.key = key
        frame.key_mark = mark

    def _scalar(self, event: events.ScalarEvent, mark: Mark) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            if tag == "!" or not event.implicit[0]:
                return event.value
            tag = _RESOLVER.resolve(ScalarNode, event.value, (True, False))  # type: ignore[no-untyped-call]
        try:
            return _construct(tag, event.value)
        except _NotData as problem:
            raise self.fatal(mark, str(problem)) from None

    def _alias(self, anchor: str, mark: Mark) -> None:
        self._key_frame_check(mark)
        if anchor in self.open_anchors:
            raise self.fatal(mark, f"alias '*{anchor}' refers to a node that contains it")
        if anchor not in self.anchors:
            raise self.fatal(mark, f"alias '*{anchor}' has no anchor '&{anchor}' before it")
        value, pos, size = self.anchors[anchor]
        self.expanded += size
        if self.expanded > MAX_ALIAS_EXPANSION:
            raise self.fatal(
                mark,
                f"alias expansion exceeds {MAX_ALIAS_EXPANSION:,} nodes "
                "(aliases of aliases grow too large)",
            )
        self._complete(value, pos, size, None)

    def _start(self, event: events.CollectionStartEvent, mark: Mark) -> None:
        self._key_frame_check(mark)
        is_map = isinstance(event, events.MappingStartEvent)
        if event.tag not in (None, "!", _MAP if is_map else _SEQ):
            raise self.fatal(
                mark,
                f"YAML tag '{show_tag(event.tag)}' is not allowed: manifests hold plain data only",
            )
        if len(self.stack) >= MAX_DEPTH:
            raise self.fatal(mark, f"nesting deeper than {MAX_DEPTH} levels")
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        container: dict[str, Any] | list[Any] = {} if is_map else []
        pos = Pos(mark, {} if is_map else None, {})
        assert pos.children is not None
        self.stack.append(_Frame(container, pos, event.anchor, pos.children, pos.key_marks))

    def _complete(self, value: Any, pos: Pos | Mark, size: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, pos, size)
        if not self.stack:
            self.root = (value, pos if isinstance(pos, Pos) else Pos(pos))
            return
        parent = self.stack[-1]
        parent.size += size
        if isinstance(parent.value, list):
            parent.children[len(parent.value)] = pos
            parent.value.append(value)
            return
        key = parent.key
        assert key is not None and parent.key_marks is not None
        parent.key = None
        if key in parent.key_marks:
            return  # duplicate, already reported; the first one stands
        parent.key_marks[key] = parent.key_mark
        parent.children[key] = pos
        parent.value[key] = value


class _NotData(Exception):
    """A scalar that is not plain data (the message says why)."""


def _construct(tag: str, text: str) -> Any:
    """A scalar's value for its resolved or explicit tag; raises _NotData."""
    # A plain date (2024-01-01) resolves to a timestamp: keep the text.
    if tag in (_STR, _TIMESTAMP):
        return text
    if tag not in _SCALAR_TAGS:
        raise _NotData(f"YAML tag '{show_tag(tag)}' is not allowed: manifests hold plain data only")
    try:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, text))
    # LookupError: PyYAML's constructors index into the text (`!!int ""`, `!!bool ""`).
    except (ValueError, TypeError, LookupError, yaml.YAMLError):
        raise _NotData(f"not a valid {show_tag(tag)} value") from None


# The first characters for which a plain scalar may resolve to something other than a
# string; any other plain scalar is a string without asking the resolver (which decides
# by the first character the same way). A resolver for any character (key None) would
# make every scalar worth asking: then no file takes the quick fold.
_QUICK = None not in _RESOLVER.yaml_implicit_resolvers
_RESOLVER_FIRST = frozenset(k for k in _RESOLVER.yaml_implicit_resolvers if k is not None)


def _quick_fold(text: str) -> tuple[Any, Pos] | None:
    """The Document's value and positions for a file of plain block data, or None when
    the file holds anything the full fold must look at (see the module's docstring)."""
    parser = _Loader(text)
    next_event = parser.get_event
    scalar, mapping_start, sequence_start = (
        events.ScalarEvent,
        events.MappingStartEvent,
        events.SequenceStartEvent,
    )
    mapping_end, sequence_end = events.MappingEndEvent, events.SequenceEndEvent
    document_end = events.DocumentEndEvent
    stream_end = events.StreamEndEvent
    resolver_first = _RESOLVER_FIRST
    # The open collections' parents: value, key being filled, children, key marks.
    stack: list[tuple[Any, Any, Any, Any]] = []
    value: Any = None  # the open collection (None before the root)
    key: str | None = None
    key_mark: Mark = (0, 0)
    children: Any = None
    key_marks: Any = None  # the open mapping's key marks (None in a sequence)
    root: tuple[Any, Pos] | None = None
    try:
        while True:
            event = next_event()
            kind = event.__class__
            if kind is scalar:
                start = event.start_mark
                mark = (start.line + 1, start.column + 1)
                # An anchor alone changes nothing (an alias to it sends the file away).
                if event.tag is not None or value is None:
                    return None
                text_value = event.value
                if key_marks is not None and key is None:
                    if text_value in key_marks or (text_value == "<<" and event.implicit[0]):
                        return None
                    key, key_mark = text_value, mark
                    continue
                item: Any = text_value
                if event.implicit[0] and (text_value[:1] in resolver_first):
                    tag = _RESOLVER.resolve(ScalarNode, text_value, (True, False))  # type: ignore[no-untyped-call]
                    try:
                        item = _construct(tag, text_value)
                    except _NotData:
                        return None
                if key_marks is not None:
                    value[key] = item
                    children[key] = mark
                    key_marks[key] = key_mark
                    key = None
                else:
                    children[len(value)] = mark
                    value.append(item)
            elif kind is mapping_end or kind is sequence_end:
                value, key, children, key_marks = stack.pop()
                key = None
            elif kind is mapping_start or kind is sequence_start:
                start = event.start_mark
                mark = (start.line + 1, start.column + 1)
                if event.tag is not None or len(stack) >= MAX_DEPTH:
                    return None
                if key_marks is not None and key is None:
                    return None  # a collection as a key
                opened: Any = {} if kind is mapping_start else []
                pos = Pos(mark, {} if kind is mapping_start else None, {})
                if value is None:
                    root = (opened, pos)
                elif key_marks is not None:
                    value[key] = opened
                    children[key] = pos
                    key_marks[key] = key_mark
                else:
                    children[len(value)] = pos
                    value.append(opened)
                stack.append((value, key, children, key_marks))
                value, key, children, key_marks = opened, None, pos.children, pos.key_marks
            elif kind is document_end:
                return root if next_event().__class__ is stream_end else None
            elif kind is stream_end or kind is events.AliasEvent:
                return None
    except yaml.YAMLError:
        return None


def parse(text: str, file: str) -> Document:
    """One manifest's text as plain values with positions; problems as errors, never raised."""
    quick = _quick_fold(text) if _QUICK else None
    if quick is not None:
        return Document(quick[0], quick[1], [], True)
    folder = _Folder(text, file)
    document = folder.run()
    if folder.too_deep_for_libyaml:
        # The pure-Python parser has no such limit and streams events, so our own
        # depth check stops it at the first level too deep, at the right place.
        return _Folder(text, file, yaml.SafeLoader).run()
    return document


def descend(pos: Pos | None, *path: str | int) -> Pos | None:
    """The collection at `path` below `pos`; None where there is none (no such node, or
    a scalar there)."""
    for step in path:
        child = pos.children.get(step) if pos is not None and pos.children is not None else None
        pos = child if isinstance(child, Pos) else None
    return pos


def locate(pos: Pos, path: tuple[str | int, ...], *, key: bool = False) -> Mark:
    """Where the node at `path` starts (with key=True: where its key is written).

    Walks as far as the path exists, so a bad path still points somewhere useful.
    """
    for i, step in enumerate(path):
        marks = pos.key_marks
        if key and i == len(path) - 1 and isinstance(step, str) and marks and step in marks:
            return marks[step]
        child = pos.children.get(step) if pos.children is not None else None
        if child is None:
            break
        if not isinstance(child, Pos):
            return child  # a scalar: nothing below it
        pos = child
    return pos.mark
