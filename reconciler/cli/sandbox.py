"""`sandbox serve`: the Codat-compatible sandbox as an HTTP server."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """A local, Codat-compatible API for tests and demos."""
