"""Item headings: ``1. [Org/Org] Title``, ``**[大模型]** Title``, ``[Title](url) — 88/100``.

Whether a file's items are numbered is decided per file (``bot.ingest.layout``); here one
heading's text is split into rank, orgs or category label, title, link and rating.

The bracket rule: a leading ``[…]`` (or ``【…】``) names organisations, split on ``/``,
``&``, ``、``, ``,`` and ``，`` with a trailing ``等`` dropped — unless it is written bold
(``**[大模型]**``) or is a known category word (``CATEGORY_WORDS``): then it is the item's
category label. ``formats.brackets`` in the config can force either reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.errors import HeadingError
from bot.ingest.ratings import Rating, find_rating

__all__ = [
    "CATEGORY_WORDS",
    "MAX_RANK",
    "PLACEHOLDER_LABELS",
    "BracketRule",
    "ItemHeading",
    "is_numbered",
    "parse_item_heading",
    "split_orgs",
]

BracketRule = Literal["auto", "orgs", "category"]

#: Ranks are small numbers; a bound keeps absurd ones out of the database (and out of int()).
MAX_RANK = 9999

#: Bracket words that name a kind of news, not an organisation (compared case-folded).
CATEGORY_WORDS = frozenset(
    w.casefold()
    for w in (
        "大模型", "模型", "论文", "研究", "开源", "产品", "工具", "行业", "应用", "融资",
        "政策", "观点", "报告", "评测", "数据集", "硬件", "芯片", "机器人", "资讯", "动态",
        "教程", "访谈", "商业", "安全", "多模态", "智能体", "具身智能", "自动驾驶",
        "Model", "Models", "HF Model", "HF Dataset", "HF Space", "Paper", "Papers", "Dataset",
        "Tool", "Tools", "Product", "News", "Research", "Open Source", "Industry", "Funding",
        "Policy", "Release", "Tutorial", "Opinion", "GitHub", "Repo",
    )
)  # fmt: skip
#: Labels a failed pipeline writes where a category or tag should be: not data.
PLACEHOLDER_LABELS = frozenset(("未分类", "uncategorized", "unclassified", "n/a", "无"))

_NUMBERED = re.compile(r"^(?P<rank>\d+)[.．、)）](?!\d)\s*(?P<rest>.*)$", re.DOTALL)
_ANY_PREFIX = re.compile(r"^(?P<rank>\S+?)[.．、)]\s*(?P<rest>.*)$", re.DOTALL)
_BRACKET = re.compile(
    r"^(?P<bold>\*\*|__)?\s*(?:\[(?P<a>[^\[\]]*)\]|【(?P<b>[^【】]*)】)\s*(?P=bold)?(?!\()\s*"
    r"(?P<title>.*)$",
    re.DOTALL,
)
_LINK_TITLE = re.compile(r"^\[(?P<text>[^\[\]]+)\]\((?P<url>https?://[^)\s]+)\)(?P<tail>.*)$")
_RATING_TAIL = re.compile(
    r"\s*(?:[—–|｜·:-]\s*)?(?:\*\*|__)?(?:\d{1,3}(?:\.\d+)?\s*/\s*(?:5|10|100)"
    r"|[(（]\s*\d{1,2}\.\d+\s*[)）]|[🌟⭐★☆]+)(?:\*\*|__)?\s*$"
)
_ORG_SPLIT = re.compile(r"\s*[/&、,，]\s*")


@dataclass
class ItemHeading:
    """The pieces of one item heading."""

    rank: int | None
    title: str
    orgs: list[str] = field(default_factory=list)
    label: str | None = None
    """A category named in a bracket (``**[大模型]**``)."""
    url: str | None = None
    rating: Rating | None = None


def is_numbered(content: str) -> bool:
    """Does a heading start with an item number (``1.``, ``7、``, not ``1.5 Million``)?"""
    return _NUMBERED.match(content.strip()) is not None


def split_orgs(bracket: str) -> list[str]:
    """``EPFL & Duke`` → [EPFL, Duke]; ``Stanford/Harvard等`` → [Stanford, Harvard]."""
    orgs = [org.strip() for org in _ORG_SPLIT.split(bracket.strip())]
    if orgs:
        orgs[-1] = orgs[-1].removesuffix("等").strip()
    return [org for org in orgs if org]


def parse_item_heading(
    content: str, *, numbered: bool, brackets: BracketRule = "auto"
) -> ItemHeading:
    """Read one item heading; HeadingError when it is broken."""
    text = content.strip()
    rank: int | None = None
    if numbered:
        match = _ANY_PREFIX.match(text)
        if match is None or not match["rank"].isdecimal():
            raise HeadingError(
                f"item heading {text[:60]!r} does not start with a number "
                "(expected '### N. [Org] Title', as the other items of this file)"
            )
        if len(match["rank"]) > len(str(MAX_RANK)) or not 1 <= int(match["rank"]) <= MAX_RANK:
            raise HeadingError(f"item rank must be from 1 to {MAX_RANK}, not {match['rank'][:20]}")
        rank, text = int(match["rank"]), match["rest"].strip()
    heading = ItemHeading(rank=rank, title="")
    bracket = _BRACKET.match(text)
    if bracket is not None:
        inner = bracket["a"] if bracket["a"] is not None else bracket["b"]
        if _is_category(inner, bool(bracket["bold"]), brackets):
            if inner.strip().casefold() not in PLACEHOLDER_LABELS:
                heading.label = inner.strip()
        else:
            heading.orgs = split_orgs(inner)
        text = bracket["title"].strip()
    link = _LINK_TITLE.match(text)
    if link is not None:
        heading.url, text = link["url"], link["text"].strip()
        tail = link["tail"].strip()
        if tail:
            heading.rating = find_rating(tail)
    else:
        tail_match = _RATING_TAIL.search(text)
        if tail_match is not None and tail_match.start() > 0:
            heading.rating = find_rating(tail_match[0])
            text = text[: tail_match.start()].rstrip()
    heading.title = _unbold(text)
    if not heading.title:
        where = f"item {rank}" if rank is not None else "an item"
        raise HeadingError(f"{where} has no title (expected '### {rank or 'N'}. [Org] Title')")
    return heading


def _is_category(inner: str, bold: bool, rule: BracketRule) -> bool:
    if rule != "auto":
        return rule == "category"
    word = inner.strip().casefold()
    return bold or word in CATEGORY_WORDS or word in PLACEHOLDER_LABELS


def _unbold(text: str) -> str:
    """``**Title**`` → ``Title`` (a wholly bold title); inner emphasis is kept."""
    for mark in ("**", "__"):
        if text.startswith(mark) and text.endswith(mark) and len(text) > 2 * len(mark):
            inner = text[len(mark) : -len(mark)]
            if mark not in inner:
                return inner.strip()
    return text
