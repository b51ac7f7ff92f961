"""Import every command module so each registers itself on the typer app.

A list rather than import statements because the order of registration is the order of
``digestbot --help``.
"""

from __future__ import annotations

import importlib

MODULES = (
    "parse",
    "ingest",
    "query",
    "render",
    "send",
    "trends",
    "run",
    "subscriptions",
    "db",
    "doctor",
)

for _name in MODULES:
    importlib.import_module(f"bot.cli.{_name}")
