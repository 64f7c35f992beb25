"""ARCHITECTURE.md names every package and module of reconciler/, along the data flow."""

from __future__ import annotations

from tests.docs.generator import ROOT

ARCHITECTURE = ROOT / "ARCHITECTURE.md"


def parts_of_the_package() -> list[str]:
    package = ROOT / "reconciler"
    names = []
    for entry in sorted(package.iterdir()):
        if entry.is_dir() and entry.name != "__pycache__":
            names.append(f"reconciler/{entry.name}/")
        elif entry.suffix == ".py":
            names.append(f"reconciler/{entry.name}")
    return names


def test_every_package_and_top_level_module_is_named() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [name for name in parts_of_the_package() if f"`{name}" not in text]
    assert missing == [], f"ARCHITECTURE.md does not describe {missing}"


def test_packages_come_in_the_order_data_flows() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    flow = [
        "manifests",
        "live",
        "plan",
        "apply",
        "render",
        "readiness",
        "codat",
        "sandbox",
        "engine",
        "cli",
        "watch",
    ]
    positions = [text.index(f"### `reconciler/{name}/`") for name in flow]
    assert positions == sorted(positions)
