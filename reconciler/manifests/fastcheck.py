"""The manifest schema compiled to plain Python: a yes/no verdict, fast.

jsonschema spends most of a large load on bookkeeping that only matters for
error reports; schema.py uses this check to confirm valid documents and runs
jsonschema only to explain the invalid ones. Only the keywords the manifest
schema uses are compiled: any other makes `compile_check` give up (None).

Each schema node becomes one Python function whose checks are written out inline
(the source is generated from the schema, then compiled): a merchant is checked
by a handful of calls rather than a call per keyword, which is most of what a
check of 100,000 merchants costs. The source comes only from the schema shipped
with the package; every value in it is written with repr() or passed by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A schema pattern as JSON Schema (ECMA-262) means it: a final `$` is the end of the
    text. Python's `$` also matches before a final newline, which let "dfxm\\n" pass as
    a platform key."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


Check = Callable[[Any], bool]

# Keywords that only annotate: they never make a document invalid.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "format", "patternErrorMessage"}
)
# Each JSON type as a Python condition on `v`.
_JSON_TYPES = {
    "object": "isinstance(v, dict)",
    "array": "isinstance(v, list)",
    "string": "isinstance(v, str)",
    "boolean": "isinstance(v, bool)",
    "null": "v is None",
    "number": "(isinstance(v, (int, float)) and not isinstance(v, bool))",
    "integer": (
        "(not isinstance(v, bool)"
        " and (isinstance(v, int) or (isinstance(v, float) and v.is_integer())))"
    ),
}
_SIZES = {
    "minLength": ("str", ">="),
    "maxLength": ("str", "<="),
    "minProperties": ("dict", ">="),
    "maxProperties": ("dict", "<="),
    "minItems": ("list", ">="),
    "maxItems": ("list", "<="),
}


def _annotates(keyword: str) -> bool:
    """Whether `keyword` only annotates (ours start with "x-")."""
    return keyword in _ANNOTATIONS or keyword.startswith("x-")


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


def compile_check(root: dict[str, Any]) -> Check | None:
    """`root` as one yes/no function, or None when it uses a keyword not compiled here."""
    compiler = _Compiler(root)
    try:
        entry = compiler.function(root)
    except _Unsupported:
        return None
    return compiler.build(entry)


class _Unsupported(Exception):
    pass


class _Compiler:
    """Writes one function per schema node; `$ref`s to one definition share its function."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.source: list[str] = []
        # By node identity; the node is kept so that its id is never reused meanwhile.
        self.functions: dict[int, tuple[str, dict[str, Any]]] = {}
        # Values the source refers to by name: regexes, key sets, constants.
        self.values: dict[str, Any] = {"_same": _same}
        # Tables of property checks, written after every function exists.
        self.tables: list[tuple[str, dict[str, str]]] = []

    def build(self, entry: str) -> Check:
        lines = list(self.source)
        for name, table in self.tables:
            items = ", ".join(f"{key!r}: {function}" for key, function in table.items())
            lines.append(f"{name} = {{{items}}}")
        namespace = dict(self.values)
        exec(compile("\n".join(lines), "<manifest schema check>", "exec"), namespace)
        check: Check = namespace[entry]
        return check

    def value(self, value: Any) -> str:
        name = f"_c{len(self.values)}"
        self.values[name] = value
        return name

    def function(self, node: dict[str, Any]) -> str:
        if id(node) in self.functions:
            return self.functions[id(node)][0]
        checks = [k for k in node if not _annotates(k)]
        if checks == ["$ref"]:  # a property that only names a definition is that definition
            return self.keyword_target(node["$ref"])
        name = f"_n{len(self.functions)}"
        self.functions[id(node)] = (name, node)  # before the body: a node may refer to itself
        body = self.body(node)
        self.source += [f"def {name}(v):", *(f"    {line}" for line in body), "    return True", ""]
        return name

    def body(self, node: dict[str, Any]) -> list[str]:
        lines: list[str] = []
        for keyword, value in node.items():
            if _annotates(keyword) or keyword in ("then", "else"):  # then/else: with "if"
                continue
            if keyword == "if":
                condition = self.function(value)
                then = self.function(node.get("then", {}))
                otherwise = self.function(node.get("else", {}))
                lines.append(f"if not ({then}(v) if {condition}(v) else {otherwise}(v)):")
                lines.append("    return False")
            elif keyword in ("properties", "additionalProperties"):
                if keyword == "properties" or "properties" not in node:
                    lines += self.object_check(node)
            else:
                lines += self.keyword(keyword, value)
        return lines

    def keyword(self, keyword: str, value: Any) -> list[str]:
        if keyword == "type":
            kinds = [value] if isinstance(value, str) else value
            return [f"if not ({' or '.join(_JSON_TYPES[k] for k in kinds)}):", "    return False"]
        if keyword in _SIZES:
            kind, holds = _SIZES[keyword]
            return [
                f"if isinstance(v, {kind}) and not len(v) {holds} {value!r}:",
                "    return False",
            ]
        if keyword == "required":
            keys = self.value(frozenset(value))
            return [f"if isinstance(v, dict) and not {keys} <= v.keys():", "    return False"]
        if keyword == "$ref":
            return [f"if not {self.keyword_target(value)}(v):", "    return False"]
        if keyword == "const":
            return [f"if not _same(v, {self.value(value)}):", "    return False"]
        if keyword == "enum":
            if all(isinstance(choice, str) for choice in value):
                choices = self.value(frozenset(value))
                return [f"if not (isinstance(v, str) and v in {choices}):", "    return False"]
            choices = self.value(tuple(value))
            return [f"if not any(_same(v, c) for c in {choices}):", "    return False"]
        if keyword == "pattern":
            regex = self.value(pattern_regex(value))
            return [f"if isinstance(v, str) and not {regex}.search(v):", "    return False"]
        if not isinstance(value, dict):
            raise _Unsupported(keyword)
        inner = self.function(value)
        if keyword == "propertyNames":
            return [f"if isinstance(v, dict) and not all(map({inner}, v)):", "    return False"]
        if keyword == "items":
            return [f"if isinstance(v, list) and not all(map({inner}, v)):", "    return False"]
        if keyword == "not":
            return [f"if {inner}(v):", "    return False"]
        raise _Unsupported(keyword)

    def keyword_target(self, reference: str) -> str:
        """The function of the definition `reference` names."""
        if not str(reference).startswith("#/$defs/"):
            raise _Unsupported(reference)
        return self.function(self.root["$defs"][reference[len("#/$defs/") :]])

    def object_check(self, node: dict[str, Any]) -> list[str]:
        table = f"_p{len(self.tables)}"
        properties: dict[str, str] = {}
        self.tables.append((table, properties))  # before the nodes below take their own
        for key, schema in node.get("properties", {}).items():
            properties[key] = self.function(schema)
        extra = node.get("additionalProperties", True)
        if extra is True:
            unknown = []
        elif extra is False:
            unknown = ["        else:", "            return False"]
        else:
            unknown = [
                "        else:",
                f"            if not {self.function(extra)}(x):",
                "                return False",
            ]
        return [
            "if isinstance(v, dict):",
            "    for k, x in v.items():",
            f"        f = {table}.get(k)",
            "        if f is not None:",
            "            if not f(x):",
            "                return False",
            *unknown,
        ]
