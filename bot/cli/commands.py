"""Import every command module so each registers itself on the typer app."""

from __future__ import annotations

import importlib

#: Command modules, in help order. A module that does not exist yet is skipped.
MODULES = ["parse", "ingest", "query", "render", "send", "run", "subscriptions"]

for _name in MODULES:
    try:
        importlib.import_module(f"bot.cli.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"bot.cli.{_name}":
            raise
