"""The ``digestbot`` command line: every command registered on the app, in help order.

Registration is explicit here (not a side effect of importing command modules), so this
list is the whole CLI and its order is the order of ``digestbot --help``.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from bot import logs
from bot.cli.app import app, err
from bot.cli.db import db_app
from bot.cli.doctor import doctor
from bot.cli.ingest import ingest
from bot.cli.parse import parse
from bot.cli.query import query
from bot.cli.render import render
from bot.cli.run import run
from bot.cli.send import send
from bot.cli.subscriptions import subscriptions_app
from bot.cli.trends import trends
from bot.errors import DigestbotError, UsageError
from bot.redact import redact_text

for command in (parse, ingest, query, render, send, trends, run):
    app.command()(command)
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(db_app, name="db")
app.command()(doctor)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning DigestbotError into one clean message."""
    logs.install()
    try:
        app(args=argv, prog_name="digestbot")
    except DigestbotError as exc:
        message = escape(redact_text(str(exc)))
        err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
        sys.exit(2 if isinstance(exc, UsageError) else 1)
