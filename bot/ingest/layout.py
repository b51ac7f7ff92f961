"""Which headings of a digest are items, which are categories, and which are noise.

Decided by structure, per file, on the headings below the title:

- **Evidence.** A heading looks like an item if it starts with a number (``1.``), has a
  link as its title, or has item fields in its own body (labels, an emoji meta line, a
  rating, an article link line). Tables, raw HTML and headings named like overviews,
  conclusions or players (``NOISE_WORDS``) are never evidence.
- **Items and categories.** Walking the headings in order, a heading with evidence that
  is not inside another item is an item; a heading without evidence is a group, and a
  group with items under it is their category. An unnumbered heading with numbered items
  under it is their group even with a label line of its own (a stray label must not make
  it an item that swallows them as sections), and is not counted as an unnumbered item.
  A heading under an item is a section of it, unless it is numbered and has item fields
  itself (items at mixed levels).
- **Numbered or not.** If most items start with a number, the file is numbered: an
  unnumbered heading with item fields there is a broken item (a located problem).
  Otherwise every item keeps its whole title (``1.5 Million Users…``, ``17.5万+…``).
- A single group over every item (``## 📊 今日情报``) is the list's own heading, not a
  category. ``formats.layouts`` may say ``numbered`` or ``unnumbered`` instead.
- A ``#`` heading repeating the title is the title again (a header written twice), never
  an item or a category. A numbered first ``#`` heading is an item, not the title.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from markdown_it.token import Token

from bot.ingest.headings import is_numbered
from bot.ingest.labels import Labels, strip_symbols

__all__ = ["Heading", "Layout", "LayoutName", "plan_layout", "title_index"]

LayoutName = Literal["auto", "numbered", "unnumbered"]

_RATING_HINT = re.compile(r"🌟|⭐|★|(?<![\d/.])\d{1,3}(?:\.\d+)?\s*/\s*(?:5|10|100)(?![\d/])")
_LINK_LINE = re.compile(r"^\W{0,4}\[[^\]]{0,30}\]\(https?://", re.MULTILINE)
_SOURCE_LINE = re.compile(r"^\*\*[^*\n]{1,40}\*\*\s*·", re.MULTILINE)
_LABEL_AT = re.compile(
    r"^[\s>*+\-•]*(?:\*\*|__)?\s*(?P<label>[^:：*_\n]{1,24}?)\s*(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*\S"
)


#: Heading words of the text around the items: never items themselves.
NOISE_WORDS = (
    "目录", "概览", "总览", "导读", "速览", "今日结论", "结论", "总结", "结语", "写在最后",
    "收听", "音频", "播客", "overview", "contents", "conclusion", "summary of the day",
    "podcast", "audio", "top 3", "top3", "top 5", "top5", "today's top", "highlights",
    "今日看点", "今日要点", "今日重点", "三大", "头条速递",
)  # fmt: skip


@dataclass(eq=False)
class Heading:
    """One ATX heading: where it is and whether it looks like an item."""

    index: int
    level: int
    line: int
    content: str
    numbered: bool = False
    stop: int = 0
    """Token index where its own body ends (the next heading)."""
    probed: tuple[bool, bool, bool, bool] | None = None
    """(evidence, fields, link, text), read from its own body on first need."""
    category: str | None = None
    parent_item: Heading | None = None
    """The item this heading sits inside (it is then a section), if any."""


@dataclass
class Layout:
    """The file's decided structure."""

    numbered: bool
    headings: list[Heading] = field(default_factory=list)
    items: list[Heading] = field(default_factory=list)


def _own_body(
    tokens: list[Token], start: int, stop: int, labels: Labels
) -> tuple[bool, bool, bool]:
    """(fields, link, text) evidence in the paragraphs right under a heading (raw text only):
    item fields, an article link line, any text at all."""
    seen = 0
    link = False
    for pos in range(start, stop):
        tok = tokens[pos]
        if tok.type != "inline" or tokens[pos - 1].type != "paragraph_open":
            continue
        seen += 1
        if seen > 8:
            break
        content = tok.content
        if _RATING_HINT.search(content) or _SOURCE_LINE.search(content):
            return True, True, True
        link = link or _LINK_LINE.search(content) is not None
        for line in content.split("\n")[:6]:
            if labels.emoji_key(line) and labels.emoji_split(line)[0][0] != "summary":
                return True, True, True
            match = _LABEL_AT.match(line)
            if match is not None:
                key = labels.key(match["label"])
                if key is not None and key not in ("summary", "insight"):
                    return True, True, True
    return False, link, seen > 0


def _is_noise(content: str) -> bool:
    text = strip_symbols(content.replace("**", "")).casefold()
    return any(text.startswith(word) or text.endswith(word) for word in NOISE_WORDS)


def _category_name(content: str) -> str:
    text = content.replace("**", "").replace("__", "").strip()
    return strip_symbols(text).strip(" \t:：") or text


class _Probe:
    """Reads headings' own bodies on first need: most headings (an item's sections) never
    need it, and this reading is the layout's only real cost."""

    def __init__(self, tokens: list[Token], labels: Labels) -> None:
        self.tokens, self.labels = tokens, labels

    def _get(self, heading: Heading) -> tuple[bool, bool, bool, bool]:
        if heading.probed is None:
            start, stop = heading.index + 3, heading.stop
            fields, link, text = _own_body(self.tokens, start, stop, self.labels)
            content = heading.content
            link_title = content.lstrip("*_ ").startswith("[") and "](http" in content
            evidence = not _is_noise(content) and (heading.numbered or link_title or fields or link)
            heading.probed = (evidence, fields, link, text)
        return heading.probed

    def evidence(self, heading: Heading) -> bool:
        return self._get(heading)[0]

    def fields(self, heading: Heading) -> bool:
        return self._get(heading)[1]

    def text(self, heading: Heading) -> bool:
        return self._get(heading)[3]


def title_index(tokens: list[Token]) -> int | None:
    """The token index of the digest's ``#`` title: the first ``#`` heading, unless it is
    numbered (``# 1. …``: a file whose title line was lost and whose items are ``#``
    headings), which is an item and never the title."""
    for idx, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1" and tok.level == 0:
            return None if is_numbered(tokens[idx + 1].content) else idx
    return None


def _headings(tokens: list[Token]) -> list[Heading]:
    headings: list[Heading] = []
    first = title_index(tokens)
    title = tokens[first + 1].content.strip() if first is not None else None
    for idx, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and tok.markup.startswith("#"):
            content = tokens[idx + 1].content
            if tok.tag == "h1" and title is not None and content.strip() == title:
                # The title, or the title again (a header written twice):
                # never an item or a category.
                continue
            line = (tok.map or [0])[0] + 1
            headings.append(Heading(idx, int(tok.tag[1]), line, content, is_numbered(content)))
    for pos, heading in enumerate(headings):
        heading.stop = headings[pos + 1].index if pos + 1 < len(headings) else len(tokens)
    return headings


def _numbered(headings: list[Heading], probe: _Probe) -> bool:
    """Do most items start with a number? Headings under a counted one (numbered, or
    unnumbered with fields) are its sections (or rival items), so they are not counted:
    an unnumbered item's sections with a label line must not outvote the numbered items
    beside it. Nor is an unnumbered heading with a numbered one under it, which is their
    group (``_groups_items``): a stray label under a group must not outvote its items."""
    numbered = unnumbered = 0
    stack: list[Heading] = []
    counted: set[int] = set()
    for pos, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        if not any(id(h) in counted for h in stack):
            if heading.numbered:
                numbered += 1
                counted.add(id(heading))
            elif probe.fields(heading) and not _numbered_below(headings, pos):
                unnumbered += 1
                counted.add(id(heading))
        stack.append(heading)
    return numbered > 0 and numbered >= unnumbered


def _numbered_below(headings: list[Heading], pos: int) -> bool:
    """Is there a numbered heading under ``headings[pos]`` (before the next at its level)?"""
    level = headings[pos].level
    for below in headings[pos + 1 :]:
        if below.level <= level:
            return False
        if below.numbered:
            return True
    return False


def _item_level(headings: list[Heading], probe: _Probe) -> int | None:
    """The heading level most numbered items with fields use: a numbered heading at that
    level is an item even where a broken neighbour above would swallow it as a section."""
    levels = Counter(h.level for h in headings if h.numbered and probe.fields(h))
    return levels.most_common(1)[0][0] if levels else None


def plan_layout(tokens: list[Token], labels: Labels, name: LayoutName = "auto") -> Layout:
    """Decide the items, their categories and the numbering of one token stream."""
    headings = _headings(tokens)
    probe = _Probe(tokens, labels)
    numbered = _numbered(headings, probe) if name == "auto" else name == "numbered"
    item_level = _item_level(headings, probe) if numbered else None
    items: list[Heading] = []
    item_ids: set[int] = set()
    stack: list[Heading] = []
    parents: dict[int, Heading] = {}
    for pos, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        inside = next((h for h in reversed(stack) if id(h) in item_ids), None)
        promoted = (
            numbered and heading.numbered and (heading.level == item_level or probe.fields(heading))
        )
        if inside is not None and not promoted:
            heading.parent_item = inside
        elif probe.evidence(heading) and not _groups_items(headings, pos, probe):
            items.append(heading)
            item_ids.add(id(heading))
            group = next((h for h in reversed(stack) if id(h) not in item_ids), None)
            if group is not None:
                parents[id(heading)] = group
        stack.append(heading)
    groups = {id(group) for group in parents.values()}
    if not (len(groups) == 1 and len(parents) == len(items)):
        for heading in items:
            group = parents.get(id(heading))
            if group is not None:
                heading.category = _category_name(group.content)
    items = _add_siblings(headings, items, parents, probe)
    return Layout(numbered=numbered, headings=headings, items=items)


def _add_siblings(
    headings: list[Heading], items: list[Heading], parents: dict[int, Heading], probe: _Probe
) -> list[Heading]:
    """A heading with text, at the level of the items beside it and in their group, is one
    of them even if its fields are gone (it will be read, or reported as broken) — unless
    it is itself the group of other items."""
    if not items:
        return items
    item_ids = {id(h) for h in items}
    groups = {id(group) for group in parents.values()}
    levels = {h.level for h in items}
    found = list(items)
    stack: list[Heading] = []
    for heading in headings:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        group = next((h for h in reversed(stack) if id(h) not in item_ids), None)
        inside = any(id(h) in item_ids for h in stack)
        stack.append(heading)
        if id(heading) in item_ids or id(heading) in groups or inside:
            continue  # an item, a group of items, or a section
        if heading.level not in levels:
            continue
        if not probe.text(heading) or _is_noise(heading.content):
            continue
        siblings = [h for h in items if h.level == heading.level and parents.get(id(h)) is group]
        if siblings:
            heading.category = siblings[0].category
            found.append(heading)
            item_ids.add(id(heading))
    return sorted(found, key=lambda h: h.index)


def _groups_items(headings: list[Heading], pos: int, probe: _Probe) -> bool:
    """An unnumbered heading with numbered items under it is their group, not an item,
    even with a label line of its own: in an unnumbered file too, since reading it as an
    item would make the numbered headings its sections and lose them."""
    heading = headings[pos]
    if heading.numbered:
        return False
    for below in headings[pos + 1 :]:
        if below.level <= heading.level:
            return False
        if below.numbered and probe.evidence(below):
            return True
    return False
