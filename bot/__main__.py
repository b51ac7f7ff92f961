"""``python -m bot`` runs the CLI."""

from __future__ import annotations

from bot.cli import main

main()
