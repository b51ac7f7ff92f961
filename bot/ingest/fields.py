"""Field extraction for the digest parser: turn single inline-token streams into values.

``bot/parser.py`` finds the structure (header, items, sections) on the block token
stream; this module reads one field at a time from one inline token's children. Regexes
here only ever look at a single field value (a heading line, a date, one text token),
never at the document, so markdown structure is always markdown-it's business.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from markdown_it.token import Token

from bot.errors import FieldError
from bot.models import Resource, SectionKind

#: Metadata labels (``**来源**: ...``) and the Item field each one fills. English keys are
#: compared case-insensitively, so ``**Source**`` works as well as ``**来源**``.
FIELD_LABELS: dict[str, str] = {
    "来源": "source",
    "source": "source",
    "时间": "published_at",
    "发布时间": "published_at",
    "time": "published_at",
    "published": "published_at",
    "价值": "stars",
    "value": "stars",
    "stars": "stars",
    "标签": "tags",
    "tags": "tags",
    "链接": "url",
    "原文链接": "url",
    "link": "url",
    "url": "url",
}

#: Labels that introduce the one-line summary quote (``> 🎯 **一句话摘要**：...``).
SUMMARY_LABELS = ("一句话摘要", "摘要", "summary", "tl;dr")

#: Section kinds by the emoji that opens a ``####`` heading.
SECTION_EMOJI: dict[str, SectionKind] = {
    "🔹": "tech",
    "📊": "data",
    "💡": "insight",
    "🔗": "resources",
}
#: A resources section whose author forgot the emoji is still a resources section.
RESOURCE_WORDS = ("相关资源", "资源", "resources", "links")

_ITEM_HEADING = re.compile(r"^(?P<rank>\S+?)[.．、)]\s*(?P<rest>.*)$", re.DOTALL)
_ORGS = re.compile(
    r"^(?:\[(?P<a>[^\[\]]*)\]|【(?P<b>[^【】]*)】)(?!\()\s*(?P<title>.*)$", re.DOTALL
)
_TIME = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:(?:\s+|T)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?(?!\d)"
)
_DATE = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_TAG = re.compile(r"\[([^\[\]]+)\]")
_URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}，。；、！？（）【】《》「」]+")
_URL_TAIL = ".,;:!?'\"*_~"
_LABEL_PUNCT = " \t:：|"


@dataclass
class LabelledValue:
    """One ``**label**: value`` pair of a metadata block, with where it sits."""

    key: str
    label: str
    text: str
    hrefs: list[str] = field(default_factory=list)
    line_offset: int = 0


@dataclass
class ItemHeading:
    """The pieces of ``### N. [Org/Org] Title``."""

    rank: int
    orgs: list[str]
    title: str


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


def _label_key(label: str, table: dict[str, str]) -> str | None:
    return table.get(label.strip(_LABEL_PUNCT).lower())


def labelled_values(children: list[Token]) -> list[LabelledValue]:
    """Split a metadata paragraph into ``**label**: value`` pairs with known labels.

    A value runs until the next known label or the end of its line, so the four labels
    may share lines in any order (``**价值**: 🌟🌟 **标签**: [a]``).
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
            key = _label_key(label, FIELD_LABELS)
            if key is not None:
                current = LabelledValue(key=key, label=label.strip(_LABEL_PUNCT), text="")
                current.line_offset = line
                found.append(current)
            elif current is not None:
                current.text += plain_text(children[idx + 1 : end])
            idx = end
        elif current is not None:
            if tok.type == "link_open":
                current.hrefs.append(str(tok.attrs.get("href", "")))
            current.text += plain_text([tok])
        idx += 1
    for value in found:
        value.text = value.text.strip().lstrip(":：").strip().rstrip("|｜").strip()
    return found


#: Ranks are small numbers; a bound keeps absurd ones out of the database (and out of int()).
MAX_RANK = 9999


def parse_item_heading(content: str) -> ItemHeading:
    """Read ``N. [Org/Org] Title`` (the text of a ``###`` heading); FieldError if broken."""
    match = _ITEM_HEADING.match(content.strip())
    if match is None or not match["rank"].isdecimal():
        raise FieldError(
            f"item heading {content.strip()[:60]!r} does not start with a number "
            "(expected '### N. [Org] Title')"
        )
    if len(match["rank"]) > len(str(MAX_RANK)) or not 1 <= int(match["rank"]) <= MAX_RANK:
        raise FieldError(f"item rank must be from 1 to {MAX_RANK}, not {match['rank'][:20]}")
    rank = int(match["rank"])
    rest = match["rest"].strip()
    orgs: list[str] = []
    org_match = _ORGS.match(rest)
    if org_match is not None:
        bracket = org_match["a"] if org_match["a"] is not None else org_match["b"]
        orgs = [org.strip() for org in bracket.split("/") if org.strip()]
        rest = org_match["title"].strip()
    if not rest:
        raise FieldError(f"item {rank} has no title (expected '### {rank}. [Org] Title')")
    return ItemHeading(rank=rank, orgs=orgs, title=rest)


def header_date(content: str) -> tuple[str, dt.date | None, str | None]:
    """Split ``Title | YYYY-MM-DD`` into (title, date, complaint about a bad date)."""
    matches = list(_DATE.finditer(content))
    match = matches[-1] if matches else None  # the last date in the header is the digest's
    if match is None:
        return content.strip(), None, None
    title = (content[: match.start()] + content[match.end() :]).strip(" \t|｜-–—:：")
    try:
        return title, dt.date(int(match["y"]), int(match["m"]), int(match["d"])), None
    except ValueError:
        return title, None, f"invalid date {match[0]!r} in the header"


def date_in_name(name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` in a file name, used when the header has no date."""
    for match in _DATE.finditer(name):
        try:
            return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            continue
    return None


def parse_time(value: str) -> dt.datetime:
    """``2026-02-03 18:35`` (also ``T``, seconds, ``/``, or a bare date) → naive datetime."""
    match = _TIME.match(value.strip())
    if match is None:
        raise FieldError(f"unparseable time {value!r} (expected YYYY-MM-DD HH:MM)")
    try:
        return dt.datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
        )
    except ValueError as exc:
        raise FieldError(f"invalid time {value!r}: {exc}") from exc


#: A rating is a handful of stars; a number above this is a typo, not a rating.
MAX_STARS = 10


def parse_stars(value: str) -> int | None:
    """The count of 🌟 (or ⭐); a plain number is accepted too. Empty → None."""
    count = value.count("🌟") + value.count("⭐")
    if count:
        return count
    if not value:
        return None
    digits = re.match(r"^\s*(\d{1,2})(?!\d)", value)
    if digits and int(digits[1]) <= MAX_STARS:
        return int(digits[1])
    raise FieldError(
        f"unrecognised value rating {value[:40]!r} (expected 🌟 marks, at most {MAX_STARS})"
    )


def parse_tags(value: str) -> list[str]:
    """``[a] [b c]`` → ``["a", "b c"]`` in order; bare ``a, b`` or ``#a #b`` also work."""
    tags = [tag.strip() for tag in _TAG.findall(value)]
    if not tags and value:
        tags = [part.strip().lstrip("#") for part in re.split(r"[,，、;；]|\s+#", value)]
    seen: list[str] = []
    for tag in tags:
        if tag and tag not in seen:
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
        label = plain_text(children[idx + 1 : end]).strip(_LABEL_PUNCT)
        if label.lower() in SUMMARY_LABELS:
            at = content.find(label)
            after = content[at + len(label) :] if at >= 0 else ""
            return after.lstrip("*_").lstrip(_LABEL_PUNCT).strip() or None
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
            return kind, _strip_symbols(text[len(emoji) :])
    heading = _strip_symbols(text)
    if any(word in heading.lower() for word in RESOURCE_WORDS):
        return "resources", heading
    return "other", heading


def _strip_symbols(text: str) -> str:
    """Drop leading emoji, variation selectors, joiners and spaces."""
    idx = 0
    while idx < len(text) and (
        text[idx].isspace() or unicodedata.category(text[idx]) in ("So", "Sk", "Mn", "Cf")
    ):
        idx += 1
    return text[idx:].strip()


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
            return plain_text(children[idx + 1 : end]).strip(_LABEL_PUNCT) or None
        if tok.type in ("text", "text_special"):
            if not tok.content.strip():
                continue
            head = re.split(r"https?://", tok.content, maxsplit=1)[0]
            if head.rstrip().endswith((":", "：")):
                return head.strip(_LABEL_PUNCT).lstrip("-*• ") or None
            return None
        return None
    return None
