"""Which headings of a digest are items, which are categories, and which are noise.

Decided by structure, per file:

- **Item level.** Every heading below the title gets evidence: a number (``1.``), a link as
  its title, or an own body with item fields (labels, an emoji meta line, a rating, an
  article link). The level with the most such headings is the item level (ties: the
  shallower). ``formats`` may name the layout instead.
- **Numbered or not.** If most item-level headings with evidence start with a number, the
  file is numbered: an unnumbered heading with item fields there is a broken item (a
  located problem), one without is noise (``## 今日结论``). Otherwise every item-level
  heading with evidence is an item and keeps its whole title (``1.5 Million Users…``).
- **Categories.** A shallower heading with items under it is their category; a single
  heading over every item (``## 📊 今日情报``) is the list's own heading, not a category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it.token import Token

from bot.ingest.headings import is_numbered
from bot.ingest.labels import Labels, strip_symbols

__all__ = ["Heading", "Layout", "LayoutName", "plan_layout"]

LayoutName = Literal["auto", "numbered", "unnumbered"]

_RATING_HINT = re.compile(r"🌟|⭐|★|(?<![\d/.])\d{1,3}(?:\.\d+)?\s*/\s*(?:5|10|100)(?![\d/])")
_LINK_LINE = re.compile(r"^\W{0,4}\[[^\]]{0,30}\]\(https?://", re.MULTILINE)
_LABEL_AT = re.compile(r"^[\s>*+\-•]*(?:\*\*|__)?\s*(?P<label>[^:：*_\n]{1,24}?)\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*\S")


@dataclass
class Heading:
    """One ATX heading: where it is and whether it looks like an item."""

    index: int
    level: int
    line: int
    content: str
    numbered: bool = False
    evidence: bool = False
    category: str | None = None


@dataclass
class Layout:
    """The file's decided structure."""

    level: int | None
    numbered: bool
    headings: list[Heading] = field(default_factory=list)
    items: list[Heading] = field(default_factory=list)
    """Headings at the item level that are (or are meant to be) items."""


def _body_evidence(tokens: list[Token], start: int, stop: int, labels: Labels) -> bool:
    """Does the text right under a heading hold item fields? (Raw text only: no tokenising.)"""
    seen = 0
    for tok in tokens[start:stop]:
        if tok.type != "inline":
            continue
        seen += 1
        if seen > 6:
            break
        content = tok.content
        if _LINK_LINE.search(content) or _RATING_HINT.search(content):
            return True
        for line in content.split("\n")[:6]:
            if labels.emoji_key(line) and labels.emoji_split(line)[0][0] != "summary":
                return True
            match = _LABEL_AT.match(line)
            if match is not None:
                key = labels.key(match["label"])
                if key is not None and key not in ("summary", "insight"):
                    return True
    return False


def _category_name(content: str) -> str:
    text = content.replace("**", "").replace("__", "").strip()
    return strip_symbols(text).strip(" \t:：") or text


def plan_layout(tokens: list[Token], labels: Labels, name: LayoutName = "auto") -> Layout:
    """Decide the item level, numbering and categories of one token stream."""
    headings: list[Heading] = []
    title_seen = False
    for idx, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and tok.markup.startswith("#"):
            if tok.tag == "h1" and not title_seen:
                title_seen = True
                continue
            content = tokens[idx + 1].content
            headings.append(
                Heading(
                    index=idx,
                    level=int(tok.tag[1]),
                    line=(tok.map or [0])[0] + 1,
                    content=content,
                    numbered=is_numbered(content),
                )
            )
    if not headings:
        return Layout(level=None, numbered=name != "unnumbered")
    for pos, heading in enumerate(headings):
        stop = headings[pos + 1].index if pos + 1 < len(headings) else len(tokens)
        heading.evidence = (
            heading.numbered
            or heading.content.lstrip("*_ ").startswith("[") and "](http" in heading.content
            or _body_evidence(tokens, heading.index + 3, stop, labels)
        )
    counts: dict[int, int] = {}
    for heading in headings:
        if heading.evidence and heading.level > 1:
            # A number is the surest sign of an item: it weighs twice.
            weight = 2 if heading.numbered else 1
            counts[heading.level] = counts.get(heading.level, 0) + weight
    if not counts:
        return Layout(level=None, numbered=name != "unnumbered", headings=headings)
    level = max(sorted(counts), key=lambda lvl: counts[lvl])
    at_level = [h for h in headings if h.level == level]
    numbered_count = sum(1 for h in at_level if h.numbered)
    unnumbered_count = sum(1 for h in at_level if h.evidence and not h.numbered)
    if name == "auto":
        numbered = numbered_count > 0 and numbered_count >= unnumbered_count
    else:
        numbered = name == "numbered"
    items = [h for h in at_level if h.evidence or (numbered and h.numbered)]
    _assign_categories(headings, items, level)
    return Layout(level=level, numbered=numbered, headings=headings, items=items)


def _assign_categories(headings: list[Heading], items: list[Heading], level: int) -> None:
    """Each item's nearest shallower heading, unless one heading holds every item."""
    parent: dict[int, Heading] = {}
    stack: list[Heading] = []
    item_ids = {id(h) for h in items}
    for heading in headings:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        if id(heading) in item_ids and stack:
            parent[id(heading)] = stack[-1]
        if heading.level < level:
            stack.append(heading)
    groups = {id(p) for p in parent.values()}
    if len(groups) == 1 and len(parent) == len(items):
        return
    for heading in items:
        group = parent.get(id(heading))
        if group is not None:
            heading.category = _category_name(group.content)
