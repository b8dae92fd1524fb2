"""`hom create-admin`, and the password it asks for on a terminal."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import NoReturn

import click

from hom.cli.backing import backing_services, ensure_admin, prepare_database, settings_or_exit


@click.command("create-admin")
@click.option("--email", required=True, help="The admin's email address.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input, for scripts (on a terminal without it, "
    "the password is asked for twice, unseen).",
)
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations first.")
def create_admin(email: str, password_stdin: bool, no_migrate: bool) -> None:
    """Create an admin, or promote an existing account to admin.

    Applies pending migrations first unless --no-migrate (like `hom serve`), so it works
    on a database nothing has run on yet.
    """
    from hom.core.errors import DomainError

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ask_password(email)
    with backing_services(settings_or_exit()) as settings:
        prepare_database(settings, migrate=not no_migrate, exit_code=2)
        try:
            asyncio.run(ensure_admin(settings, email, password))
        except DomainError as error:
            _refuse(error.message)
    click.echo(f"admin ready: {email}")


def ask_password(email: str) -> str:
    """Asked twice on the terminal without echo; one line and exit code 2 for no terminal,
    two different answers, or a password the policy refuses (checked before anything starts;
    a password from --password-stdin is checked by the service, where an account is new)."""
    if not sys.stdin.isatty():
        _refuse("no terminal to ask for the password on: pipe it in with --password-stdin")
    password = getpass.getpass(f"Password for {email}: ")
    if getpass.getpass("The same password again: ") != password:
        _refuse("the two passwords differ; nothing changed")
    from hom.core.passwords import password_problem  # the accounts service's policy

    problem = password_problem(password)
    if problem:
        _refuse(f"{problem}; nothing changed")
    return password


def _refuse(message: str) -> NoReturn:
    click.echo(f"hom: {message}", err=True)
    sys.exit(2)
