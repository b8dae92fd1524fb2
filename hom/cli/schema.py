"""`hom export-schema`: the GraphQL SDL, written to a file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export-schema")
@click.argument("path", default="schema.graphql", type=click.Path(dir_okay=False))
def export_schema(path: str) -> None:
    """Write the GraphQL SDL to PATH (default: schema.graphql)."""
    from hom.schema import sdl

    Path(path).write_text(sdl())
    click.echo(f"wrote {path}")
