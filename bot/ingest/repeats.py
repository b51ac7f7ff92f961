"""Items that are not new information: repeats of another item, and pipeline fallbacks.

A "top 3" list written as item headings repeats items detailed further down: the repeat
with less in it is dropped (nothing is lost: the other copy is kept). A fallback item
(``文章摘要生成失败。原标题：…``) keeps its title and link, but its summary is no summary.
"""

from __future__ import annotations

import re

from bot.models import Item

__all__ = ["drop_repeats", "failed_summary"]

_FAILED = re.compile(
    r"摘要生成失败|生成摘要失败|摘要失败|无法生成摘要|summary (?:generation )?failed"
    r"|failed to (?:generate|summari[sz]e)|no summary available",
    re.IGNORECASE,
)


def failed_summary(summary: str | None) -> bool:
    """Is this the text a pipeline writes when it could not summarise the article?"""
    return summary is not None and _FAILED.search(summary) is not None


def _fuller(full: Item, thin: Item) -> bool:
    """Is ``thin`` a stub of ``full`` (a "top 3" entry: no sections where the other has
    them, or no summary where neither has sections)? Two full copies are both kept."""
    if thin.sections:
        return False
    if full.sections:
        return True
    return bool(full.summary) and not thin.summary


def _same(one: Item, other: Item) -> bool:
    """The same story: the same title, and no two different links."""
    if " ".join(one.title.casefold().split()) != " ".join(other.title.casefold().split()):
        return False
    return not one.url or not other.url or one.url.rstrip("/") == other.url.rstrip("/")


def drop_repeats(items: list[Item]) -> list[Item]:
    """Of two items telling the same story, drop the stub (see ``_fuller``)."""
    titles = [" ".join(item.title.casefold().split()) for item in items]
    if len(set(titles)) == len(titles):
        return items
    dropped: set[int] = set()
    for pos, item in enumerate(items):
        for other in range(pos):
            if other in dropped or titles[other] != titles[pos] or not _same(item, items[other]):
                continue
            if _fuller(items[other], item):
                dropped.add(pos)
                break
            if _fuller(item, items[other]):
                dropped.add(other)
    return [item for pos, item in enumerate(items) if pos not in dropped]
