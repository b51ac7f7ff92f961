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


def _weight(item: Item) -> int:
    """How much an item holds: its copy with more is the one to keep."""
    return (
        len(item.sections) * 4
        + len(item.resources)
        + sum(bool(v) for v in (item.summary, item.source, item.published_at, item.stars))
        + len(item.tags)
    )


def _same(one: Item, other: Item) -> bool:
    """The same story: the same title, and no two different links."""
    if " ".join(one.title.casefold().split()) != " ".join(other.title.casefold().split()):
        return False
    return not one.url or not other.url or one.url.rstrip("/") == other.url.rstrip("/")


def drop_repeats(items: list[Item]) -> list[Item]:
    """Of two items telling the same story, drop the thinner one (a "top 3" entry); two
    equally full copies are both kept, since neither is a summary of the other."""
    titles = [" ".join(item.title.casefold().split()) for item in items]
    if len(set(titles)) == len(titles):
        return items
    dropped: set[int] = set()
    for pos, item in enumerate(items):
        for other in range(pos):
            if other in dropped or titles[other] != titles[pos] or not _same(item, items[other]):
                continue
            thin, full = sorted((pos, other), key=lambda p: _weight(items[p]))
            if _weight(items[thin]) < _weight(items[full]):
                dropped.add(thin)
                if thin == pos:
                    break
    return [item for pos, item in enumerate(items) if pos not in dropped]
