"""The `hom` command: serve, worker, migrate, downgrade, export-schema, create-admin, seed-demo,
check-inventory.

This module holds the group; each command lives in the module named for its job, and
imports what is heavy inside the command, so that `hom --help` starts fast."""

from __future__ import annotations

import click

from hom.cli import admin, database, schema, serve, worker


class WholeHelp(click.Group):
    """Lists each command with the whole first paragraph of its help (click cuts it short)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                first = (command.help or "").split("\n\n")[0]
                rows.append((name, " ".join(first.split())))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=WholeHelp,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="hom", prog_name="hom", message="%(prog)s %(version)s")
def main() -> None:
    """H.O.M: the GraphQL API server for a shop that sells goods and books appointments."""


for command in (
    serve.serve,
    worker.worker,
    database.migrate,
    database.downgrade,
    schema.export_schema,
    admin.create_admin,
    database.seed_demo,
    database.check_inventory,
):
    main.add_command(command)
