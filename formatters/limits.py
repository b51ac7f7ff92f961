"""How much of one item a message shows: titles, summaries and sections are clipped,
and a clipped item ends with a link to its source.

The parser already caps single lines (``bot.ingest.limits``); these caps bound a whole
item, so an item with a thousand long lines still becomes a few messages, not hundreds
(the formatters pack what is shown; nothing here knows about a platform).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.models import Item, Section

#: Characters of a title shown.
MAX_TITLE_CHARS = 300
#: Characters of the one-line summary shown.
MAX_SUMMARY_CHARS = 1_000
#: Characters of all sections of one item together (a reference item has about 2,500):
#: about three Telegram messages or one Slack thread reply.
MAX_DETAIL_CHARS = 10_000
#: Resource links listed after the sections.
MAX_RESOURCES = 20
ELLIPSIS = " …"


def clip(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters (at a line end when one is near); whether cut."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind("\n", 0, limit)
    if cut < limit // 2:
        cut = limit
    return text[:cut].rstrip() + ELLIPSIS, True


def shown_title(title: str) -> str:
    return clip(title, MAX_TITLE_CHARS)[0]


def shown_summary(item: Item) -> str:
    return clip(item.summary or "", MAX_SUMMARY_CHARS)[0]


def shown_sections(item: Item) -> tuple[list[tuple[Section, str]], bool]:
    """Each section with the markdown shown of it, within ``MAX_DETAIL_CHARS`` in all;
    True when something was left out (the caller then links to the source)."""
    shown: list[tuple[Section, str]] = []
    room = MAX_DETAIL_CHARS
    for section in item.sections:
        if room <= 0:
            return shown, True
        markdown, cut = clip(section.markdown, room)
        shown.append((section, markdown))
        room -= len(markdown) + len(section.heading)
        if cut:
            return shown, True
    return shown, False
