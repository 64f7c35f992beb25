"""Write the generated references: docs/reference/commands.md and docs/reference/manifest.md.

    python3 dev.py docs                       # rewrite both files
    .venv/bin/python scripts/gen_docs.py --check   # exit 1, naming them, if either is stale

commands.md comes from the click command tree (the same help text, options and
defaults `--help` prints); manifest.md from schemas/manifest.schema.json (titles,
descriptions, types and limits). Both are pure functions of those sources, so the
output does not depend on the terminal, the locale or the order of a directory
listing, and tests/docs/ can regenerate them in memory to catch drift.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_MD = ROOT / "docs" / "reference" / "commands.md"
MANIFEST_MD = ROOT / "docs" / "reference" / "manifest.md"
SCHEMA = ROOT / "reconciler" / "schemas" / "manifest.schema.json"
PROG = "codat-reconciler"
REGENERATE = "python3 dev.py docs"

_CODE_SPAN = re.compile(r"(`[^`]*`)")
# Characters Markdown would read as emphasis, HTML or a table cell boundary.
_MARKDOWN_SPECIAL = re.compile(r"([\\*_<>\[\]|])")


def escape(text: str) -> str:
    """Prose for Markdown: special characters escaped outside `code spans`, which stay literal."""
    parts = _CODE_SPAN.split(text)
    return "".join(
        part
        if part.startswith("`") and part.endswith("`") and len(part) > 1
        else _MARKDOWN_SPECIAL.sub(r"\\\1", part)
        for part in parts
    )


def code(text: str) -> str:
    """A code span, also inside a table cell (where `|` must be escaped even in code)."""
    return "`" + text.replace("|", "\\|") + "`"


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class _Command:
    path: tuple[str, ...]
    command: click.Command
    context: click.Context


def _walk(
    command: click.Command, path: tuple[str, ...], parent: click.Context | None
) -> Iterator[_Command]:
    # A fixed width: click wraps nothing in the pieces used here, but a context built
    # from the terminal would still differ between machines.
    settings = {**command.context_settings, "max_content_width": 100, "terminal_width": 100}
    ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
    yield _Command(path, command, ctx)
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], (*path, name), ctx)


def _help_blocks(text: str) -> list[str]:
    """click's help text as Markdown: `\\b` paragraphs (kept as typed) become code blocks."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            body = textwrap.dedent("\n".join(lines[1:])).strip("\n")
            blocks.append(f"```\n{body}\n```")
        else:
            blocks.append(escape(" ".join(line.strip() for line in lines)))
    return blocks


def _usage(entry: _Command) -> str:
    pieces = entry.command.collect_usage_pieces(entry.context)
    return " ".join([PROG, *entry.path[1:], *pieces])


def _options_table(entry: _Command) -> list[str]:
    rows = []
    for param in entry.command.get_params(entry.context):
        record = None if isinstance(param, click.Argument) else param.get_help_record(entry.context)
        if record is None:  # hidden options
            continue
        names, help_text = record
        rows.append(f"| {code(names)} | {escape(help_text)} |")
    if not rows:
        return []
    return ["| option | meaning |", "| --- | --- |", *rows]


def _arguments(entry: _Command) -> list[str]:
    found = []
    for param in entry.command.get_params(entry.context):
        if isinstance(param, click.Argument):
            metavar = param.make_metavar(entry.context)
            repeat = (
                "one or more"
                if param.nargs == -1 and param.required
                else ("any number" if param.nargs == -1 else "one")
            )
            found.append(f"{code(metavar)} ({repeat})")
    return found


def commands_markdown(root: click.Group) -> str:
    entries = list(_walk(root, (PROG,), None))
    out = [
        "# Command reference",
        "",
        "<!-- Generated from the command line's own help by scripts/gen_docs.py: "
        f"do not edit; run `{REGENERATE}`. -->",
        "",
        f"Every command and option of `{PROG}`, with the help text and defaults "
        "`--help` prints. Environment variables are listed in "
        "[environment.md](environment.md), exit codes in [exit-codes.md](exit-codes.md).",
        "",
    ]
    for entry in entries[1:]:
        title = " ".join(entry.path[1:])
        short = entry.command.get_short_help_str(limit=1000)
        out.append(f"- [`{title}`](#{anchor(PROG + ' ' + title)}): {escape(short)}")
    out.append("")
    for entry in entries:
        out += [f"## {' '.join(entry.path)}", "", "```", _usage(entry), "```", ""]
        out += [block + "\n" for block in _help_blocks(entry.command.help or "")]
        arguments = _arguments(entry)
        if arguments:
            out += ["Arguments: " + ", ".join(arguments) + ".", ""]
        table = _options_table(entry)
        if table:
            out += [*table, ""]
        if isinstance(entry.command, click.Group):
            subcommands = ", ".join(
                f"[`{name}`](#{anchor(' '.join((*entry.path, name)))})"
                for name in sorted(entry.command.commands)
            )
            out += [f"Commands: {subcommands}.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def cli_root() -> click.Group:
    from reconciler.cli import cli

    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):  # a command is loaded when first asked for
        cli.get_command(ctx, name)
    return cli


# ---------------------------------------------------------------- manifest


class _Schema:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self.defs: dict[str, dict[str, Any]] = schema.get("$defs", {})

    def resolve(self, node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """The definition a node refers to (name, merged node); the node's own words win."""
        ref = node.get("$ref")
        if not ref:
            return None, node
        name = ref.removeprefix("#/$defs/")
        inner_name, inner = self.resolve(self.defs[name])
        merged = {**inner, **{k: v for k, v in node.items() if k != "$ref"}}
        return inner_name or name, merged


@dataclass
class _Section:
    key: str
    heading: str
    node: dict[str, Any]


def _limits(node: dict[str, Any]) -> list[str]:
    found = []
    if "const" in node:
        found.append(f"always {code(json.dumps(node['const']))}")
    if "enum" in node:
        found.append("one of " + ", ".join(code(json.dumps(v)) for v in node["enum"]))
    for key, words in (
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minProperties", "at least {} entries"),
        ("maxProperties", "at most {} entries"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
    ):
        if key in node:
            found.append(words.format(node[key]))
    if "pattern" in node:
        found.append(f"matches {code(node['pattern'])}")
    if "format" in node:
        found.append(f"format {code(node['format'])}")
    not_enum = node.get("not", {}).get("enum")
    if not_enum:
        found.append("not " + ", ".join(code(str(v)) for v in not_enum))
    return found


class _ManifestWriter:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = _Schema(schema)
        self.sections: list[_Section] = []
        self.missing: list[str] = []

    def section_for(self, key: str, heading: str, node: dict[str, Any]) -> str:
        for section in self.sections:
            if section.key == key:
                return section.heading
        if any(section.heading == heading for section in self.sections):
            heading = f"{heading} ({key})"  # two definitions sharing a title keep two anchors
        self.sections.append(_Section(key, heading, node))
        return heading

    def link(self, key: str, heading: str, node: dict[str, Any]) -> str:
        heading = self.section_for(key, heading, node)
        return f"[{heading}](#{anchor(heading)})"

    def kind(self, where: str, node: dict[str, Any]) -> str:
        """How a value is written, linking to the section describing its insides."""
        name, node = self.schema.resolve(node)
        key = name or where
        title = node.get("title", key)
        if "if" in node:  # text, or (then) an object such as a secret reference
            other = node["else"].get("type", "value")
            then_kind = self.kind(f"{key}.then", node["then"])
            return f"{'text' if other == 'string' else other} or {then_kind}"
        kind = node.get("type")
        if "const" in node:
            return "number" if isinstance(node["const"], int) else "text"
        if "enum" in node and kind is None:
            return "text" if all(isinstance(v, str) for v in node["enum"]) else "value"
        choices = node.get("oneOf") or node.get("anyOf")
        if choices and kind is None:
            return " or ".join(
                self.kind(f"{key}.{i}", choice) for i, choice in enumerate(choices, 1)
            )
        if isinstance(kind, list):
            return " or ".join(self.kind(where, {**node, "type": k}) for k in kind)
        if kind == "array":
            return "list of " + self.kind(f"{key}[]", node["items"])
        if kind == "object" and "properties" in node:
            return self.link(key, title, node)
        if kind == "object":
            return "map: " + self.link(key, title, node)
        words = {
            "string": "text",
            "integer": "integer",
            "number": "number",
            "boolean": "true/false",
            "null": "null",
        }
        return words.get(str(kind), "value")

    def describe(self, where: str, node: dict[str, Any]) -> str:
        _, node = self.schema.resolve(node)
        text = node.get("description")
        if not text:
            self.missing.append(where)
            return ""
        return escape(text)

    def field_rows(self, where: str, node: dict[str, Any]) -> list[str]:
        required = set(node.get("required", []))
        rows = [
            "| field | type | required | limits | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        for field, child in node.get("properties", {}).items():
            _, resolved = self.schema.resolve(child)
            rows.append(
                f"| {code(field)} | {self.kind(f'{where}.{field}', child)} | "
                f"{'yes' if field in required else 'no'} | "
                f"{'; '.join(_limits(resolved))} | {self.describe(f'{where}.{field}', child)} |"
            )
        return rows

    def map_rows(self, where: str, node: dict[str, Any]) -> list[str]:
        keys = node.get("propertyNames", {})
        values = node.get("additionalProperties", {})
        _, values_resolved = self.schema.resolve(values)
        rows = ["| part | type | limits | description |", "| --- | --- | --- | --- |"]
        rows.append(
            f"| key | text | {'; '.join(_limits(keys))} | {self.describe(f'{where} key', keys)} |"
        )
        rows.append(
            f"| value | {self.kind(f'{where} value', values)} | "
            f"{'; '.join(_limits(values_resolved))} | {self.describe(f'{where} value', values)} |"
        )
        return rows

    def render(self) -> str:
        root = self.schema.root
        out = [
            "# Manifest reference",
            "",
            "<!-- Generated from schemas/manifest.schema.json by scripts/gen_docs.py: "
            f"do not edit; run `{REGENERATE}`. -->",
            "",
            "Every field of a manifest file, from "
            "[`schemas/manifest.schema.json`](../../schemas/manifest.schema.json) "
            "(JSON Schema 2020-12), the one source of truth for the format. Unknown keys are "
            "errors. How the files are found and checked is in "
            "[writing manifests](../guides/manifests.md).",
            "",
        ]
        self.section_for("", root.get("title", "Manifest file"), root)
        done = 0
        while done < len(self.sections):  # sections found while rendering are added at the end
            section = self.sections[done]
            done += 1
            node = section.node
            body = [f"## {section.heading}", ""]
            if node.get("description"):
                body += [escape(node["description"]), ""]
            elif section.key:
                self.missing.append(section.key)
            if "properties" in node:
                body += [*self.field_rows(section.key or "(file)", node), ""]
            else:
                body += [*self.map_rows(section.key, node), ""]
            out += body
        if self.missing:
            raise SystemExit(
                "schemas/manifest.schema.json: give these a description: " + ", ".join(self.missing)
            )
        return "\n".join(out).rstrip("\n") + "\n"


def manifest_markdown(schema: dict[str, Any]) -> str:
    return _ManifestWriter(schema).render()


# ---------------------------------------------------------------- entry point


def generated() -> dict[Path, str]:
    return {
        COMMANDS_MD: commands_markdown(cli_root()),
        MANIFEST_MD: manifest_markdown(json.loads(SCHEMA.read_text(encoding="utf-8"))),
    }


def stale(files: dict[Path, str]) -> list[Path]:
    return [
        path
        for path, text in files.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str]) -> int:
    files = generated()
    if argv == ["--check"]:
        outdated = stale(files)
        for path in outdated:
            print(f"{path.relative_to(ROOT)} is out of date: run `{REGENERATE}`", file=sys.stderr)
        return 1 if outdated else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 1
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
