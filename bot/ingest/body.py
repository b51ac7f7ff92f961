"""Reading one item's body (the blocks between its heading and its first section).

Fields come labelled (``**来源**: X``, ``来源: [X](url)``, ``**🔗 链接:** url``, in ``>``
quotes, as ``* 🔗 [阅读原文](url)`` bullets) or unlabelled (``**量子位** · AI/Tech``, an
emoji meta line ``📂 X ⭐ 9/10 📅 …``, a ``[🔗 查看原文](url)`` line). The summary is, in
order: a labelled one, an unlabelled ``>`` quote, the first plain paragraph. What is no
field is kept, as markdown, in an unnamed section.

Each value is ``(key, text, hrefs, codes, line)``; ``bot.ingest.parser`` turns values
into Item fields and reports the malformed ones where they stand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markdown_it.token import Token

from bot.ingest.fields import LabelledValue, labelled_values, plain_text, summary_text
from bot.ingest.labels import LABEL_PUNCT, Labels, strip_symbols

__all__ = ["Body", "read_body"]

#: Link texts that say "the article" (a link line with one of them is the item's URL).
_LINK_WORDS = ("原文", "阅读", "查看", "链接", "详情", "read", "link", "source", "more", "article")
#: A plain-text label is short; anything longer before a colon is a sentence.
_MAX_LABEL = 16


@dataclass
class Body:
    """What an item body holds: field values, the summary, and everything else."""

    values: list[LabelledValue] = field(default_factory=list)
    summary: str | None = None
    summary_line: int = 0
    kept: list[tuple[int, str]] = field(default_factory=list)


Children = Callable[[Token], list[Token]]
Source = Callable[[list[Token]], tuple[int, str]]


def _lines(children: list[Token]) -> list[list[Token]]:
    lines: list[list[Token]] = [[]]
    for tok in children:
        if tok.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(tok)
    return lines


def _hrefs(line: list[Token]) -> list[str]:
    return [str(tok.attrs.get("href", "")) for tok in line if tok.type == "link_open"]


def _plain_label(line: list[Token], labels: Labels, offset: int) -> list[LabelledValue]:
    """``来源: X | 时间: Y`` (labels without bold), one value per ``|`` segment."""
    text = plain_text(line)
    if ":" not in text and "：" not in text:
        return []
    found: list[LabelledValue] = []
    hrefs = _hrefs(line)
    for segment in text.replace("｜", "|").split("|"):
        head, sep, value = segment.replace("：", ":").partition(":")
        head = head.strip().lstrip("-*+• ")
        if not sep or len(head) > _MAX_LABEL or value.startswith("//"):
            continue
        key = labels.key(head)
        if key is not None:
            codes = [tok.content for tok in line if tok.type == "code_inline"]
            found.append(
                LabelledValue(key, head.strip(LABEL_PUNCT), value.strip(), hrefs, codes, offset)
            )
    return found


def _emoji_fields(line: list[Token], labels: Labels, offset: int) -> list[LabelledValue]:
    """``📂 X ⭐ **9.0/10** 📅 2026-02-13`` and ``🔗 [阅读原文](url)`` bullets."""
    text = plain_text(line).strip()
    parts = labels.emoji_split(text)
    codes = [tok.content for tok in line if tok.type == "code_inline"]
    return [
        LabelledValue(key, key, value, _hrefs(line) if key == "url" else [], codes, offset)
        for key, value in parts
        if value or key == "url"
    ]


def _unlabelled(line: list[Token], offset: int) -> list[LabelledValue]:
    """A bold source line (``**量子位** · AI/Tech``) or a lone article link line."""
    tokens = [tok for tok in line if not (tok.type == "text" and not strip_symbols(tok.content))]
    if not tokens:
        return []
    if tokens[0].type == "link_open" and tokens[-1].type == "link_close":
        inner = tokens[1:-1]
        if all(tok.type != "link_open" for tok in inner):
            words = strip_symbols(plain_text(inner)).casefold()
            if len(words) <= 20 and (not words or any(w in words for w in _LINK_WORDS)):
                return [LabelledValue("url", "link", words, _hrefs(line), [], offset)]
    if tokens[0].type == "strong_open":
        text = plain_text(line)
        if "·" in text:
            end = next(i for i, tok in enumerate(line) if tok.type == "strong_close")
            name = plain_text(line[1:end]).strip()
            if 0 < len(name) <= 40:
                return [LabelledValue("source", "source", name, [], [], offset)]
    return []


def read_inline(children: list[Token], labels: Labels) -> list[LabelledValue]:
    """Every field value of one paragraph (or list item), line by line.

    A label with nothing after it takes the next line that is no field as its value
    (``**📝 内容摘要:**`` followed by the text).
    """
    found: list[LabelledValue] = []
    pending: LabelledValue | None = None
    for offset, line in enumerate(_lines(children)):
        values = labelled_values(line, labels) if _has_strong(line) else []
        if not values:
            values = _plain_label(line, labels, offset)
        if not values:
            values = _emoji_fields(line, labels, offset)
        if not values:
            values = _unlabelled(line, offset)
        for value in values:
            value.line_offset = offset
        if not values and pending is not None:
            pending.text = plain_text(line).strip()
            pending.hrefs = _hrefs(line)
            pending = None
            continue
        found.extend(values)
        last = values[-1] if values else None
        pending = last if last is not None and not last.text and not last.hrefs else None
    return found


def _has_strong(line: list[Token]) -> bool:
    return any(tok.type == "strong_open" for tok in line)


def read_body(
    blocks: list[list[Token]], children: Children, source: Source, labels: Labels
) -> Body:
    """Read the blocks of one item body (see the module docstring)."""
    body = Body()
    pending: LabelledValue | None = None
    quotes: list[tuple[list[Token], Token]] = []
    plain: list[tuple[int, Token, list[Token]]] = []
    for block in blocks:
        kind = block[0].type
        if kind in ("hr", "html_block"):
            continue  # separators, audio players, raw HTML: layout, not content
        inlines = [tok for tok in block if tok.type == "inline"]
        if pending is not None and inlines and kind in ("paragraph_open", "blockquote_open"):
            pending.text = " ".join(tok.content.strip() for tok in inlines).lstrip("> ")
            pending = None
            continue
        if kind == "blockquote_open":
            had_summary = body.summary is not None
            values = _quote_values(inlines, children, labels, body)
            if body.summary is not None and not had_summary:
                continue  # the labelled summary quote
            if values is None:
                if inlines:
                    quotes.append((block, inlines[0]))
                continue
        elif kind in ("paragraph_open", "bullet_list_open", "ordered_list_open"):
            values = [v for tok in inlines for v in _located(tok, children, labels)]
        else:
            body.kept.append(source(block))
            continue
        if not values:
            if kind == "paragraph_open" and inlines:
                plain.append((len(body.kept), inlines[0], block))
            body.kept.append(source(block))
            continue
        body.values.extend(values)
        last = values[-1]
        pending = last if not last.text and not last.hrefs else None
        if kind != "paragraph_open":
            _keep_unread_list_items(block, values, source, body)
    _choose_summary(body, quotes, plain, children, source)
    return body


def _located(tok: Token, children: Children, labels: Labels) -> list[LabelledValue]:
    values = read_inline(children(tok), labels)
    start = (tok.map or [0])[0]
    for value in values:
        value.line_offset += start
    return values


def _quote_values(
    inlines: list[Token], children: Children, labels: Labels, body: Body
) -> list[LabelledValue] | None:
    """Fields inside a ``>`` quote; a labelled summary is taken here. None: a plain quote."""
    values: list[LabelledValue] = []
    for tok in inlines:
        if body.summary is None and _mentions_summary(tok.content):
            text = summary_text(children(tok), tok.content)
            if text is not None:
                body.summary, body.summary_line = text, (tok.map or [0])[0]
                return []
        values.extend(_located(tok, children, labels))
    return values or None


def _mentions_summary(content: str) -> bool:
    lowered = content.lower()
    return any(word in lowered for word in ("摘要", "summary", "tl;dr"))


def _keep_unread_list_items(
    block: list[Token], values: list[LabelledValue], source: Source, body: Body
) -> None:
    """List items of a field list that held no field are kept as text."""
    used = {value.line_offset for value in values}
    depth = 0
    for idx, tok in enumerate(block):
        if tok.type == "list_item_open":
            depth += 1
            if depth == 1 and tok.map and not any(tok.map[0] <= u < tok.map[1] for u in used):
                end = idx
                nest = 0
                for end in range(idx, len(block)):
                    nest += block[end].nesting
                    if nest == 0:
                        break
                body.kept.append(source(block[idx : end + 1]))
        elif tok.type == "list_item_close":
            depth -= 1


def _choose_summary(
    body: Body,
    quotes: list[tuple[list[Token], Token]],
    plain: list[tuple[int, Token, list[Token]]],
    children: Children,
    source: Source,
) -> None:
    """Labelled summary, else the first plain quote, else the first plain paragraph; the
    other quotes stay in the body's text."""
    labelled = next((v for v in body.values if v.key == "summary" and v.text), None)
    if body.summary is None and labelled is not None:
        body.summary, body.summary_line = labelled.text, labelled.line_offset
    chosen: list[Token] | None = None
    if body.summary is None:
        for block, inline in quotes:
            text = strip_symbols(inline.content).strip()
            if text:
                body.summary, body.summary_line, chosen = text, (inline.map or [0])[0], block
                break
    body.kept.extend(source(block) for block, _ in quotes if block is not chosen)
    if body.summary is None and plain:
        at, inline, block = plain[0]
        body.summary, body.summary_line = plain_text(children(inline)).strip(), at
        first = source(block)
        body.kept = [kept for kept in body.kept if kept != first]
    body.kept.sort()
