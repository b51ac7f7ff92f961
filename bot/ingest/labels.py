"""Field labels in every spelling pipelines use, and the field each one fills.

A label is compared after dropping emoji, markup punctuation, colons (ASCII and full-width)
and case, so ``**来源**:``, ``来源：``, ``**🔗 链接:**`` and ``Source:`` all find their field.
An emoji alone also labels a field on meta lines and bullets (``📂 量子位``, ``⏰ *18:34*``).
``formats.labels`` in the config adds or overrides labels (``Labels.with_overrides``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "FIELD_KEYS",
    "LABELS",
    "LABEL_PUNCT",
    "Labels",
    "strip_symbols",
]

#: Fields a label may fill. ``insight`` becomes an "insight" section (``Why it matters``).
FIELD_KEYS = (
    "source",
    "published_at",
    "rating",
    "tags",
    "url",
    "summary",
    "insight",
    "orgs",
    "category",
)

_BUILTIN: dict[str, str] = {
    # source
    "来源": "source", "出处": "source", "媒体": "source", "source": "source",
    "from": "source", "via": "source", "publisher": "source",
    # time
    "时间": "published_at", "发布时间": "published_at", "日期": "published_at",
    "发布日期": "published_at", "time": "published_at", "date": "published_at",
    "published": "published_at", "published at": "published_at",
    # rating
    "价值": "rating", "评分": "rating", "重要性评分": "rating", "重要性": "rating",
    "推荐指数": "rating", "推荐度": "rating", "星级": "rating", "value": "rating",
    "stars": "rating", "score": "rating", "rating": "rating", "importance": "rating",
    # tags
    "标签": "tags", "关键词": "tags", "tags": "tags", "tag": "tags", "keywords": "tags",
    # link
    "链接": "url", "原文链接": "url", "原文": "url", "阅读原文": "url", "查看原文": "url",
    "地址": "url", "link": "url", "url": "url", "read more": "url", "original": "url",
    # summary
    "摘要": "summary", "一句话摘要": "summary", "内容摘要": "summary", "简介": "summary",
    "概要": "summary", "一句话": "summary", "summary": "summary", "tl;dr": "summary",
    "tldr": "summary",
    # insight
    "why it matters": "insight", "为什么重要": "insight", "看点": "insight",
    # orgs and category
    "机构": "orgs", "组织": "orgs", "org": "orgs", "orgs": "orgs",
    "organization": "orgs", "分类": "category", "类别": "category", "category": "category",
}  # fmt: skip

#: An emoji that labels a field by itself (meta lines, bullets).
_EMOJI: dict[str, str] = {
    "📂": "source", "📰": "source", "🏷": "tags", "🔖": "tags", "🔗": "url",
    "📅": "published_at", "⏰": "published_at", "🕒": "published_at", "🕐": "published_at",
    "📝": "summary", "🎯": "summary", "💡": "insight", "⭐": "rating", "🌟": "rating",
    "🏢": "orgs",
}  # fmt: skip

#: Punctuation around a label: spaces, colons, a separator bar, markup left by plain text.
LABEL_PUNCT = " \t:：|｜*_"


def strip_symbols(text: str) -> str:
    """Drop leading and trailing emoji, variation selectors, joiners and spaces."""
    start, end = 0, len(text)
    while start < end and _symbol(text[start]):
        start += 1
    while end > start and _symbol(text[end - 1]):
        end -= 1
    return text[start:end]


def _symbol(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("So", "Sk", "Mn", "Cf")


def _norm(label: str) -> str:
    return strip_symbols(label.strip(LABEL_PUNCT)).strip(LABEL_PUNCT).casefold()


@dataclass(frozen=True)
class Labels:
    """The label table one parse uses (built-in, plus any ``formats.labels``)."""

    table: Mapping[str, str] = field(default_factory=lambda: dict(_BUILTIN))
    emoji: Mapping[str, str] = field(default_factory=lambda: dict(_EMOJI))

    def with_overrides(self, overrides: Mapping[str, str]) -> Labels:
        """A table with ``label: field`` pairs added; ``field: ignore`` drops a label."""
        table = dict(self.table)
        for label, key in overrides.items():
            if key == "ignore":
                table.pop(_norm(label), None)
            else:
                table[_norm(label)] = key
        return Labels(table=table, emoji=self.emoji)

    def key(self, label: str) -> str | None:
        """The field a label fills, or None if it is not a known label."""
        if len(label) > 40:
            return None
        return self.table.get(_norm(label))

    def emoji_key(self, text: str) -> tuple[str, str] | None:
        """(field, emoji) when ``text`` starts with a field emoji."""
        head = text.lstrip()[:1]
        key = self.emoji.get(head)
        return (key, head) if key is not None else None

    def emoji_split(self, text: str) -> list[tuple[str, str]]:
        """A meta line cut at its field emoji: ``📂 X ⭐ 9/10`` → [(source, X), (rating, 9/10)].

        Empty when the line does not start with a field emoji.
        """
        if self.emoji_key(text) is None:
            return []
        parts: list[tuple[str, str]] = []
        current: str | None = None
        buffer: list[str] = []
        for char in text.strip():
            key = self.emoji.get(char)
            if key is not None and not (key == "rating" and current == "rating"):
                if current is not None:
                    parts.append((current, "".join(buffer)))
                current, buffer = key, []
                if key == "rating":
                    buffer.append(char)  # the marks are the value
                continue
            buffer.append(char)
        if current is not None:
            parts.append((current, "".join(buffer)))
        return [(key, value.strip(" \t·|｜\ufe0f")) for key, value in parts]


LABELS = Labels()
"""The built-in table."""
