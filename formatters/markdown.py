"""Digest markdown → the line model (``formatters.lines``), via markdown-it-py.

markdown-it-py parses; ``Converter`` walks its token stream into ``Line``s of styled
``Span``s (no regexes), keeping list, quote and table context. Serialising lines to Slack
mrkdwn, Telegram HTML or plain text is ``formatters.line_markup``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from formatters import line_markup
from formatters.escape import safe_url
from formatters.lines import Line, LineKind, Span

BULLETS = ("•", "◦", "▪")
INDENT = "    "
RULE = "──────────"


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """CommonMark + tables + strikethrough + ``$math$``; raw HTML is text, not markup."""
    md = MarkdownIt("commonmark", {"html": False})
    md.enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    return md


def parse(markdown: str) -> list[Line]:
    """Markdown source → lines (a fresh list; the lines themselves are immutable)."""
    return list(_parse_cached(markdown))


def clear_caches() -> None:
    """Forget parsed sections and measured lines (benchmarks use it to measure cold runs)."""
    _parse_cached.cache_clear()
    line_markup.clear_caches()


@lru_cache(maxsize=2048)
def _parse_cached(markdown: str) -> tuple[Line, ...]:
    # A digest is rendered for every channel and platform; parse each section once.
    return tuple(Converter().convert(parser().parse(markdown)))


def parse_inline(markdown: str) -> list[Span]:
    """One-line markdown (a summary) → spans; line breaks become spaces."""
    spans: list[Span] = []
    for ln in parse(markdown):
        if spans:
            spans.append(Span(" "))
        if ln.prefix.strip():  # "1. " of a summary that looks like a list stays visible
            spans.append(Span(ln.prefix))
        spans.extend(ln.spans)
    return spans


class Converter:
    """Walks block tokens, keeping list/quote context, and emits ``Line``s."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.lists: list[list[int]] = []  # per open list: [ordered (0/1), next number]
        self.quote = 0
        self.bullet: str | None = None  # marker for the first line of the current item
        self.gap = False
        self.heading = False
        self.table: list[list[list[Span]]] | None = None

    def convert(self, tokens: Sequence[Token]) -> list[Line]:
        for token in tokens:
            self._block(token)
        return self.lines

    # -- context helpers
    def _indent(self) -> str:
        return INDENT * max(len(self.lists) - 1, 0) + ("  " if self.lists else "")

    def _prefix(self) -> str:
        if self.bullet is not None:
            bullet, self.bullet = self.bullet, None
            return bullet
        return self._indent()

    def _emit(self, spans: Sequence[Span], kind: LineKind | None = None) -> None:
        kind = kind or ("quote" if self.quote else "text")
        gap, self.gap = self.gap and bool(self.lines), False
        self.lines.append(Line(tuple(s for s in spans if s.text), self._prefix(), kind, gap))

    def _open_block(self) -> None:
        self.gap = bool(self.lines) and not self.lists

    def _block(self, token: Token) -> None:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if not self.lists:
                self.gap = bool(self.lines)
            start = int(token.attrGet("start") or 1)
            self.lists.append([int(kind == "ordered_list_open"), start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
            if self.bullet is not None:  # an empty item: keep its marker visible
                self._emit([])
        elif kind == "list_item_open":
            ordered, number = self.lists[-1]
            depth = len(self.lists) - 1
            marker = f"{number}." if ordered else BULLETS[depth % len(BULLETS)]
            self.lists[-1][1] += 1
            self.bullet = INDENT * depth + marker + " "
        elif kind == "list_item_close":
            if self.bullet is not None:
                self._emit([])
        elif kind == "paragraph_open":
            if not token.hidden:
                self.gap = bool(self.lines) and (not self.lists or self.bullet is None)
        elif kind == "heading_open":
            self.gap, self.heading = bool(self.lines), True
        elif kind == "heading_close":
            self.heading = False
        elif kind == "blockquote_open":
            self._open_block()
            self.quote += 1
        elif kind == "blockquote_close":
            self.quote -= 1
        elif kind == "inline" and self.table is None:
            extra = {"b"} if self.heading else set()
            for spans in inline_lines(token.children or [], extra):
                self._emit(spans)
        elif kind in ("fence", "code_block", "math_block", "math_block_label"):
            self._code_block(token.content)
        elif kind == "hr":
            self._open_block()
            self._emit([Span(RULE)])
        else:
            self._table(token)

    def _code_block(self, content: str) -> None:
        self._open_block()
        if self.bullet is not None:
            self._emit([])
        for text in content.strip("\n").split("\n"):
            self.gap, gap = False, self.gap
            self.lines.append(Line((Span(text),) if text else (), "", "code", gap))

    def _table(self, token: Token) -> None:
        if token.type == "table_open":
            self.gap = bool(self.lines)
            self.table = []
        elif token.type == "tr_open" and self.table is not None:
            self.table.append([])
        elif token.type == "inline" and self.table is not None:
            cell = [s for spans in inline_lines(token.children or [], set()) for s in spans]
            self.table[-1].append(cell)
        elif token.type == "table_close" and self.table is not None:
            rows, self.table = self.table, None
            for ln in table_lines(rows):
                gap, self.gap = self.gap, False
                self.lines.append(replace(ln, gap=gap and bool(self.lines)))


def inline_lines(children: Sequence[Token], extra: set[str]) -> list[list[Span]]:
    """Inline tokens → spans, one list per visual line (soft/hard breaks split lines)."""
    lines: list[list[Span]] = [[]]
    styles = set(extra)
    href: str | None = None
    unsafe: str | None = None
    toggles = {"strong": "b", "em": "i", "s": "s"}
    for child in children:
        kind = child.type
        if kind == "text":
            lines[-1].append(Span(child.content, frozenset(styles), href))
        elif kind in ("code_inline", "math_inline", "math_inline_double"):
            lines[-1].append(Span(child.content, frozenset(styles | {"code"}), href))
        elif kind.endswith("_open") and kind[:-5] in toggles:
            styles.add(toggles[kind[:-5]])
        elif kind.endswith("_close") and kind[:-6] in toggles:
            styles.discard(toggles[kind[:-6]])
        elif kind == "link_open":
            raw = str(child.attrGet("href") or "")
            href = safe_url(raw)
            unsafe = raw if href is None and raw and not _is_data_uri(raw) else None
        elif kind == "link_close":
            if unsafe:  # keep the target visible as text instead of a live link
                lines[-1].append(Span(f" ({unsafe})", frozenset(styles)))
            href = unsafe = None
        elif kind == "image":
            src = str(child.attrGet("src") or "")
            if _is_data_uri(src):  # an inline image: its bytes are no text to show
                src = ""
            alt = "".join(c.content for c in child.children or []) or src
            target = safe_url(src)
            lines[-1].append(Span(alt, frozenset(styles), target))
            if target is None and src and src != alt:
                lines[-1].append(Span(f" ({src})", frozenset(styles)))
        elif kind in ("softbreak", "hardbreak"):
            lines.append([])
        elif child.content:  # anything unforeseen stays visible as text
            lines[-1].append(Span(child.content, frozenset(styles), href))
    return lines


def _is_data_uri(url: str) -> bool:
    return url.lstrip()[:5].lower() == "data:"


def display_width(text: str) -> int:
    """Terminal/monospace columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table_lines(rows: list[list[list[Span]]]) -> list[Line]:
    """Small link-free tables become aligned code lines; others become bullet rows."""
    texts = [["".join(s.text for s in cell) for cell in row] for row in rows]
    has_links = any(s.href for row in rows for cell in row for s in cell)
    columns = max((len(r) for r in texts), default=0)
    widths = [
        max((display_width(r[c]) for r in texts if c < len(r)), default=0) for c in range(columns)
    ]
    if not has_links and sum(widths) + 3 * columns <= 60:
        out = []
        for index, row in enumerate(texts):
            cells = [cell + " " * (widths[c] - display_width(cell)) for c, cell in enumerate(row)]
            out.append(Line((Span(" | ".join(cells).rstrip()),), kind="code"))
            if index == 0:
                out.append(Line((Span("-+-".join("-" * w for w in widths)),), kind="code"))
        return out
    header, body = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
    out = []
    for row in body:
        spans: list[Span] = []
        for c, cell in enumerate(row):
            if spans:
                spans.append(Span(" · "))
            label = "".join(s.text for s in header[c]) if c < len(header) else ""
            if label:
                spans.append(Span(label + ": ", frozenset({"b"})))
            spans.extend(cell)
        out.append(Line(tuple(s for s in spans if s.text), BULLETS[0] + " "))
    return out
