"""Run the real CLI entry point in-process, as a user's shell would, and get its exit code."""

from __future__ import annotations

from bot.cli import main


def run(argv: list[str]) -> int:
    """The exit code of ``digestbot ARGV`` (0 when main returns normally)."""
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
