"""Printing digests to the terminal with rich: the zero-setup channel of the README.

Each rich renderable from ``formatters.console`` is one "message", recorded in the ledger
like any other, so ``digestbot send`` twice prints the digest once. With ``full=False``
(``send`` without ``--show``) each message prints as its first line: the title, the
count and one headline per item, instead of every section of every item.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.rule import Rule
from rich.text import Text

from bot.delivery import Transport
from formatters import SafeConsole
from formatters import console as console_format

if TYPE_CHECKING:
    from rich.console import Console

    from bot.channels import Channel
    from bot.config import Settings
    from bot.models import Digest


class ConsoleTransport(Transport):
    """Prints payloads to a rich Console (stdout by default)."""

    platform = "console"

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> ConsoleTransport:
        return cls(console=console, **options)

    def __init__(self, console: Console | None = None, *, full: bool = True) -> None:
        self.console = console or SafeConsole(highlight=False, soft_wrap=False)
        self.full = full

    def render(self, digest: Digest, templates: Any) -> list[Any]:
        return list(console_format.render_digest(digest, templates))

    def describe(self, payload: Any) -> str:
        return f"terminal block: {_first_line(payload)[:80]}"

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: Any,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        if self.full:
            self.console.print(payload, soft_wrap=False)  # wrap to the terminal, never crop
        else:
            self.print_headline(payload)
        return f"{digest_date.isoformat()}#{message_index}"

    def print_headline(self, payload: Any) -> None:
        """A message's first line; the dim separators between items are left out."""
        if isinstance(payload, Rule) and not str(payload.title):
            return
        line = _first_line(payload)
        if line:
            self.console.print(Text(line), overflow="ellipsis", no_wrap=True, crop=True)


def _first_line(renderable: Any) -> str:
    """The first words a reader would see in a rich renderable (for ``--dry-run``)."""
    for _ in range(5):
        renderables = getattr(renderable, "renderables", None)
        if renderables:
            renderable = renderables[0]
            continue
        break
    title = getattr(renderable, "title", None)
    if title is not None:
        return f"── {getattr(title, 'plain', title)} ──" if str(title) else "──────"
    text = getattr(renderable, "plain", None)
    if text is None:
        text = str(renderable)
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""
