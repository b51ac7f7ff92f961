"""The reader's own URLs, said once: searches, tag searches and feeds."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from bot.query import Clause, Query


def search_href(query: str, page: int = 1) -> str:
    """``/search?q=…`` (and ``&page=N`` past the first page)."""
    params: dict[str, str | int] = {"q": query}
    if page > 1:
        params["page"] = page
    return "/search?" + urlencode(params)


def feed_href(query: str) -> str:
    """``/feed.atom``, or ``/feed.atom?q=…`` for a query's feed."""
    return "/feed.atom" + ("?" + urlencode({"q": query}) if query else "")


def tag_query(tag: str) -> str:
    """``tag:NAME`` as the query language writes it (quoted when it has spaces)."""
    return str(Query.of([Clause("tag", (tag,))]))


@lru_cache(maxsize=4096)
def tag_href(tag: str) -> str:
    """The search for one tag (tags repeat on every page: built once each)."""
    return search_href(tag_query(tag))
