"""Shared fixtures live in tests/fixtures/; this file only wires them in."""

pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.cli"]
