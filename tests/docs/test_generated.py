"""The generated references match the CLI and the schema they come from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.docs.generator import ROOT, load

gen_docs = load()


@pytest.mark.parametrize("name", ["commands.md", "manifest.md"])
def test_generated_reference_is_current(name: str) -> None:
    path = ROOT / "docs" / "reference" / name
    expected = gen_docs.generated()[path]
    assert path.read_text(encoding="utf-8") == expected, (
        f"docs/reference/{name} is out of date: run `python3 dev.py docs`"
    )


def test_every_command_and_visible_option_is_in_the_command_reference() -> None:
    text = (ROOT / "docs" / "reference" / "commands.md").read_text(encoding="utf-8")

    def walk(command: click.Command, path: list[str]) -> None:
        assert f"## {' '.join(path)}\n" in text, f"no section for {' '.join(path)}"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    assert opt in text, f"{' '.join(path)} {opt} is not documented"
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(gen_docs.cli_root(), ["codat-reconciler"])


def test_the_command_reference_does_not_depend_on_the_terminal() -> None:
    script = ROOT / "scripts" / "gen_docs.py"
    outputs = []
    for columns in ("40", "200"):
        env = {**os.environ, "COLUMNS": columns, "LINES": "10"}
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import runpy, sys; m = runpy.run_path({str(script)!r}); "
                "sys.stdout.write(m['commands_markdown'](m['cli_root']()))",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] and "## codat-reconciler plan" in outputs[0]


def test_check_names_a_stale_file_and_the_command_to_run(tmp_path: Path) -> None:
    stale_copy = tmp_path / "commands.md"
    stale_copy.write_text("# out of date\n", encoding="utf-8")
    files = {stale_copy: "# current\n", tmp_path / "missing.md": "x\n"}
    assert gen_docs.stale(files) == [stale_copy, tmp_path / "missing.md"]


def test_a_schema_field_without_a_description_is_refused() -> None:
    schema = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
    del schema["$defs"]["merchant"]["properties"]["description"]["description"]
    with pytest.raises(SystemExit, match=r"merchant\.description"):
        gen_docs.manifest_markdown(schema)


def test_every_schema_field_is_in_the_manifest_reference() -> None:
    schema = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "reference" / "manifest.md").read_text(encoding="utf-8")
    nodes = [schema, *schema["$defs"].values()]
    for node in nodes:
        for field in node.get("properties", {}):
            assert f"| `{field}` |" in text, f"manifest field {field} is not documented"


def test_schema_shapes_a_new_field_may_take_are_described() -> None:
    schema = {
        "title": "File",
        "description": "A file.",
        "type": "object",
        "properties": {
            "mode": {"description": "How.", "enum": ["adopt", "create"]},
            "either": {
                "description": "One or the other.",
                "oneOf": [{"type": "string"}, {"$ref": "#/$defs/thing"}],
            },
            "flag": {"description": "On or off.", "type": ["boolean", "null"]},
        },
        "$defs": {
            "thing": {
                "title": "File",
                "description": "A thing titled like the file.",
                "type": "object",
                "properties": {"x": {"description": "An x.", "type": "integer"}},
            }
        },
    }
    text = gen_docs.manifest_markdown(schema)
    assert '| `mode` | text | no | one of `"adopt"`, `"create"` | How. |' in text
    assert "| `either` | text or [File (thing)](#file-thing) |" in text
    assert "| `flag` | true/false or null |" in text
    assert "## File (thing)\n" in text and "| `x` | integer |" in text
