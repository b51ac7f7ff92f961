"""Field extraction for the digest parser: turn single inline-token streams into values.

``bot/parser.py`` finds the structure (header, items, sections) on the block token
stream; this module reads one field at a time from one inline token's children. Regexes
here only ever look at a single field value (a heading line, a date, one text token),
never at the document, so markdown structure is always markdown-it's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it.token import Token

from bot.errors import FieldError
from bot.ingest.headings import PLACEHOLDER_LABELS
from bot.ingest.labels import LABEL_PUNCT, LABELS, Labels, strip_symbols
from bot.models import Resource, SectionKind

#: Labels that introduce the one-line summary quote (``> 🎯 **一句话摘要**：...``).
SUMMARY_LABELS = ("一句话摘要", "内容摘要", "摘要", "summary", "tl;dr")

#: Section kinds by the emoji that opens a ``####`` heading.
SECTION_EMOJI: dict[str, SectionKind] = {
    "🔹": "tech",
    "📊": "data",
    "💡": "insight",
    "🔗": "resources",
}
#: A resources section whose author forgot the emoji is still a resources section.
RESOURCE_WORDS = ("相关资源", "资源", "resources", "links")

_TAG = re.compile(r"\[([^\[\]]+)\]")
_URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}，。；、！？（）【】《》「」]+")
_URL_TAIL = ".,;:!?'\"*_~"


@dataclass
class LabelledValue:
    """One ``**label**: value`` pair of a metadata block, with where it sits."""

    key: str
    label: str
    text: str
    hrefs: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    line_offset: int = 0


def plain_text(children: list[Token]) -> str:
    """The visible text of inline tokens (markup dropped, link text kept, breaks as spaces)."""
    parts: list[str] = []
    for tok in children:
        if tok.type in ("text", "text_special", "code_inline", "html_inline"):
            parts.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif tok.type == "image":
            parts.append(plain_text(tok.children or []))
    return "".join(parts)


def _strong_end(children: list[Token], start: int) -> int:
    """Index of the ``strong_close`` matching the ``strong_open`` at ``start``."""
    depth = 0
    for idx in range(start, len(children)):
        if children[idx].type == "strong_open":
            depth += 1
        elif children[idx].type == "strong_close":
            depth -= 1
            if depth == 0:
                return idx
    return len(children) - 1


def _colon_follows(label: str, children: list[Token], end: int) -> bool:
    """Is a bold label closed by a colon (``**标签**:`` or ``**标签：**``)?"""
    if label.rstrip().endswith((":", "：")):
        return True
    after = children[end + 1] if end + 1 < len(children) else None
    return after is not None and after.content.lstrip().startswith((":", "："))


def labelled_values(children: list[Token], labels: Labels = LABELS) -> list[LabelledValue]:
    """Split a metadata paragraph into ``**label**: value`` pairs with known labels.

    A value runs until the next known label or the end of its line, so the four labels
    may share lines in any order (``**价值**: 🌟🌟 **标签**: [a]``). Labels may carry
    emoji and colons inside the bold (``**🔗 链接:**``, ``**来源：**``).
    """
    found: list[LabelledValue] = []
    current: LabelledValue | None = None
    line = 0
    idx = 0
    while idx < len(children):
        tok = children[idx]
        if tok.type in ("softbreak", "hardbreak"):
            line += 1
            current = None
        elif tok.type == "strong_open":
            end = _strong_end(children, idx)
            label = plain_text(children[idx + 1 : end])
            key = labels.key(label)
            if key is not None and current is not None and not _colon_follows(label, children, end):
                key = None  # bold words inside a value are emphasis, not a new label
            if key is not None:
                current = LabelledValue(key=key, label=label.strip(LABEL_PUNCT), text="")
                current.line_offset = line
                found.append(current)
            elif current is not None:
                current.text += plain_text(children[idx + 1 : end])
            idx = end
        elif current is not None:
            if tok.type == "link_open":
                current.hrefs.append(str(tok.attrs.get("href", "")))
            elif tok.type == "code_inline":
                current.codes.append(tok.content)
            current.text += plain_text([tok])
        idx += 1
    for value in found:
        value.text = value.text.strip().lstrip(":：").strip().rstrip("|｜").strip()
    return found


def parse_tags(value: str, codes: list[str] | None = None) -> list[str]:
    """``[a] [b c]`` → ``["a", "b c"]`` in order; ``#a #b``, `` `a` `b` `` (``codes``) and
    ``a, b`` also work. Placeholder tags (``[未分类]``) are not data and are dropped."""
    tags = list(codes or []) or [tag.strip() for tag in _TAG.findall(value)]
    if not tags and value:
        separators = r"[,，、;；]|\s+#" if re.search(r"[,，、;；]", value) else r"\s+#"
        tags = [part.strip().lstrip("#＃") for part in re.split(separators, value.strip())]
    seen: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in seen and tag.casefold() not in PLACEHOLDER_LABELS:
            seen.append(tag)
    return seen


def find_url(value: LabelledValue) -> str:
    """The URL of a ``**链接**`` value: a markdown link's href, else a bare URL."""
    for href in value.hrefs:
        if href:
            return href
    urls = bare_urls(value.text)
    if urls:
        return urls[0]
    raise FieldError(f"no URL in link value {value.text[:80]!r}")


def bare_urls(text: str) -> list[str]:
    """``http(s)://`` URLs written as plain text, without trailing punctuation."""
    return [url.rstrip(_URL_TAIL) for url in _URL.findall(text) if url.rstrip(_URL_TAIL)]


def summary_text(children: list[Token], content: str) -> str | None:
    """The text after a summary label (``🎯 **一句话摘要**：...``), or None if unlabelled."""
    for idx, tok in enumerate(children):
        if tok.type != "strong_open":
            continue
        end = _strong_end(children, idx)
        label = strip_symbols(plain_text(children[idx + 1 : end]).strip(LABEL_PUNCT))
        label = label.strip(LABEL_PUNCT)
        if label.lower() in SUMMARY_LABELS:
            at = content.find(label)
            after = content[at + len(label) :] if at >= 0 else ""
            return after.lstrip("*_").lstrip(LABEL_PUNCT).strip() or None
        break
    return None


def has_summary_label(content: str) -> bool:
    """Cheap pre-check on raw text before tokenising a quote for its summary label."""
    lowered = content.lower()
    return any(label in lowered for label in SUMMARY_LABELS)


def section_kind(content: str) -> tuple[SectionKind, str]:
    """Kind and clean heading text of a ``####`` heading (``🔗相关资源`` → resources)."""
    text = content.strip()
    for emoji, kind in SECTION_EMOJI.items():
        if text.startswith(emoji):
            return kind, strip_symbols(text[len(emoji) :])
    heading = strip_symbols(text)
    if any(word in heading.lower() for word in RESOURCE_WORDS):
        return "resources", heading
    return "other", heading


def _same_url(text: str, href: str) -> bool:
    """Is a link's text just its URL (``[www.x.com](http://www.x.com)``)?"""

    def norm(url: str) -> str:
        url = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip().lower())
        return url.removeprefix("www.").rstrip("/")

    return text.strip().lower().startswith(("http://", "https://")) or norm(text) == norm(href)


def resources_in(children: list[Token]) -> list[Resource]:
    """Links of one resources-section line: markdown links, autolinks and bare URLs.

    A link's own text is its title unless that text is only the URL again; then, as for
    bare URLs, the line's label (``**项目主页**: ...``) is the title.
    """
    label = _line_label(children)
    found: list[Resource] = []
    idx = 0
    while idx < len(children):
        tok = children[idx]
        if tok.type == "link_open":
            end = idx
            while end < len(children) and children[end].type != "link_close":
                end += 1
            href = str(tok.attrs.get("href", ""))
            text = plain_text(children[idx + 1 : end]).strip()
            title = label if (not text or _same_url(text, href)) else text
            if href:
                found.append(Resource(title=title, url=href))
            idx = end
        elif tok.type in ("text", "text_special"):
            found.extend(Resource(title=label, url=url) for url in bare_urls(tok.content))
        idx += 1
    return found


def _line_label(children: list[Token]) -> str | None:
    """The label of a ``**label**: link`` line: leading bold text, or text before a colon."""
    for idx, tok in enumerate(children):
        if tok.type == "strong_open":
            end = _strong_end(children, idx)
            if any(child.type == "link_open" for child in children[idx:end]):
                return None
            return plain_text(children[idx + 1 : end]).strip(LABEL_PUNCT) or None
        if tok.type in ("text", "text_special"):
            if not tok.content.strip():
                continue
            head = re.split(r"https?://", tok.content, maxsplit=1)[0]
            if head.rstrip().endswith((":", "：")):
                return head.strip(LABEL_PUNCT).lstrip("-*• ") or None
            return None
        return None
    return None
