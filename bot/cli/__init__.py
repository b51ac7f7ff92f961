"""``digestbot`` command line: ``main`` is the console-script entry point."""

from __future__ import annotations

from bot.cli.commands import app, main

__all__ = ["app", "main"]
