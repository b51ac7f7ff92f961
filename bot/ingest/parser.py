"""Digest markdown → ``Digest`` models, on markdown-it-py's token stream.

Structure comes from block tokens and their line maps: the ``#`` header, ``###`` items,
``####`` sections. Fields are read from inline tokens by ``bot.ingest.fields``. A broken
item becomes a located ``Problem`` and is skipped; everything else is still returned,
because one bad line must not cost a day's digest.

Inline parsing is done lazily, only for the tokens a field needs (headings, the metadata
block, resources sections): section bodies are kept as source lines, so tokenising their
inline markup would be wasted work (it is most of markdown-it's cost).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.errors import FieldError, ParseError
from bot.ingest.fields import (
    date_in_name,
    find_url,
    has_summary_label,
    header_date,
    labelled_values,
    parse_item_heading,
    parse_stars,
    parse_tags,
    parse_time,
    resources_in,
    section_kind,
    summary_text,
)
from bot.models import Digest, Item, ParseResult, Problem, Resource, Section

__all__ = ["file_sha256", "parse_bytes", "parse_file", "parse_text"]

_MD = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def parse_text(
    text: str, path: str = "<string>", fallback_date: dt.date | None = None
) -> ParseResult:
    """Parse one digest's text. Raises ParseError only when no date can be found at all."""
    return _DigestParser(text, path, fallback_date).parse()


def parse_bytes(data: bytes, path: str, fallback_date: dt.date | None = None) -> ParseResult:
    """Decode UTF-8 (a BOM is fine) and parse; undecodable bytes are a located ParseError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(path, line, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return parse_text(text, path, fallback_date)


def parse_file(path: str | Path) -> ParseResult:
    """Parse a digest file; a ``YYYY-MM-DD`` in its name is the date if the header has none."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(str(path), 1, f"cannot read file: {exc.strerror or exc}") from exc
    return parse_bytes(data, str(path), date_in_name(Path(path).name))


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes: the archive's key for "has this file changed?"."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _is_atx(tok: Token) -> bool:
    return tok.type == "heading_open" and tok.level == 0 and tok.markup.startswith("#")


class _DigestParser:
    """One parse of one text: the token stream, its source lines and the problems found."""

    def __init__(self, text: str, path: str, fallback_date: dt.date | None) -> None:
        # Normalise exactly as markdown-it does, so token line maps index our lines.
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        self.text = text.replace("\x00", "\ufffd")
        self.lines = self.text.split("\n")
        self.path = path
        self.fallback_date = fallback_date
        self.env: dict[str, Any] = {}
        self.tokens = _MD.parse(self.text, self.env)
        self.problems: list[Problem] = []

    # -- helpers -------------------------------------------------------------------------

    def problem(self, line: int, message: str) -> None:
        line = min(max(line, 1), max(len(self.lines), 1))
        self.problems.append(Problem(path=self.path, line=line, message=message))

    def children(self, tok: Token) -> list[Token]:
        """Inline children, tokenised on first use (the core inline rule is disabled)."""
        if not tok.children:
            tok.children = []
            _MD.inline.parse(tok.content, _MD, self.env, tok.children)
        return tok.children

    def end_line(self, stop: int) -> int:
        """First line not belonging to a range that ends at token index ``stop``."""
        if stop < len(self.tokens) and self.tokens[stop].map:
            return self.tokens[stop].map[0]
        return len(self.lines)

    def blocks(self, start: int, stop: int) -> Iterator[list[Token]]:
        """Top-level blocks of ``tokens[start:stop]``, each as its run of tokens."""
        idx = start
        while idx < stop:
            end = idx
            if self.tokens[idx].nesting == 1:
                depth = 1
                while depth and end + 1 < stop:
                    end += 1
                    depth += self.tokens[end].nesting
            yield self.tokens[idx : end + 1]
            idx = end + 1

    def source(self, first: int, last: int) -> str:
        """Source lines ``[first, last)`` without surrounding blank lines or a closing ``---``."""
        lines = self.lines[first:last]
        while lines and (not lines[-1].strip() or _THEMATIC_BREAK.match(lines[-1])):
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        return "\n".join(lines)

    # -- structure -----------------------------------------------------------------------

    def parse(self) -> ParseResult:
        date, title = self.header()
        items: list[Item] = []
        first_seen: dict[int, int] = {}
        bounds = [
            idx
            for idx, tok in enumerate(self.tokens)
            if _is_atx(tok) and tok.tag in ("h1", "h2", "h3")
        ]
        for pos, idx in enumerate(bounds):
            if self.tokens[idx].tag != "h3":
                continue
            stop = bounds[pos + 1] if pos + 1 < len(bounds) else len(self.tokens)
            item = self.item(idx, stop)
            if item is None:
                continue
            if item.rank in first_seen:
                self.problem(
                    item.line or 1,
                    f"duplicate item rank {item.rank} (first at line {first_seen[item.rank]});"
                    " this item is skipped",
                )
                continue
            first_seen[item.rank] = item.line or 1
            items.append(item)
        return ParseResult(
            digest=Digest(date=date, title=title, items=items), problems=self.problems
        )

    def header(self) -> tuple[dt.date, str]:
        """Date and title from ``# Title | YYYY-MM-DD`` (date falls back to the file name)."""
        line, title, date = 1, "", None
        for idx, tok in enumerate(self.tokens):
            if tok.type == "heading_open" and tok.tag == "h1" and tok.level == 0:
                line = (tok.map or [0])[0] + 1
                title, date, complaint = header_date(self.tokens[idx + 1].content)
                if complaint:
                    if self.fallback_date is None:
                        raise ParseError(self.path, line, complaint)
                    self.problem(
                        line, f"{complaint}; using {self.fallback_date} from the file name"
                    )
                break
        if date is None:
            date = self.fallback_date
        if date is None:
            raise ParseError(
                self.path,
                line,
                "no date in the header (expected '# Title | YYYY-MM-DD') "
                "and no YYYY-MM-DD in the file name",
            )
        return date, title

    def item(self, idx: int, stop: int) -> Item | None:
        """One ``###`` item spanning ``tokens[idx:stop]``; None (and a problem) if broken."""
        heading = self.tokens[idx]
        line = (heading.map or [0])[0] + 1
        try:
            parsed = parse_item_heading(self.tokens[idx + 1].content)
        except FieldError as exc:
            self.problem(line, f"{exc}; this item is skipped")
            return None
        sections_at = [
            pos
            for pos in range(idx + 3, stop)
            if _is_atx(self.tokens[pos]) and self.tokens[pos].tag == "h4"
        ]
        fields: dict[str, Any] = {}
        leftovers = self.preamble(
            idx + 3, sections_at[0] if sections_at else stop, fields, parsed.rank
        )
        sections: list[Section] = []
        resources: list[Resource] = []
        if leftovers:
            sections.append(Section(kind="other", heading="", markdown=leftovers))
        for num, pos in enumerate(sections_at):
            end = sections_at[num + 1] if num + 1 < len(sections_at) else stop
            kind, title = section_kind(self.tokens[pos + 1].content)
            first = (self.tokens[pos].map or [0, 0])[1]
            sections.append(
                Section(kind=kind, heading=title, markdown=self.source(first, self.end_line(end)))
            )
            if kind == "resources":
                resources.extend(self.resources(pos + 3, end))
        unique: dict[str, Resource] = {}
        for res in resources:
            unique.setdefault(res.url, res)
        return Item(
            rank=parsed.rank,
            title=parsed.title,
            orgs=parsed.orgs,
            sections=sections,
            resources=list(unique.values()),
            line=line,
            **fields,
        )

    def preamble(self, start: int, stop: int, fields: dict[str, Any], rank: int) -> str:
        """Read metadata and the summary between an item heading and its first section.

        Fills ``fields``; returns the markdown of any other blocks found there, so that
        free text an author put before the sections is kept rather than dropped.
        """
        kept: list[tuple[int, str]] = []
        quotes: list[list[Token]] = []
        for block in self.blocks(start, stop):
            if block[0].type == "hr":
                continue
            if block[0].type == "blockquote_open":
                quotes.append(block)
                continue
            values = [v for tok in block if tok.type == "inline" for v in self.metadata(tok)]
            for value, line in values:
                self.field(value, line, fields, rank)
            if not values:
                kept.append(self.block_source(block))
        chosen: list[Token] | None = None
        for block in quotes:
            inline = next((tok for tok in block if tok.type == "inline"), None)
            if inline is not None and chosen is None:
                text = None
                if has_summary_label(inline.content):
                    text = summary_text(self.children(inline), inline.content)
                if text is not None:
                    fields["summary"], chosen = text, block
        if chosen is None:
            for block in quotes:
                inline = next((tok for tok in block if tok.type == "inline"), None)
                if inline is not None:
                    fields["summary"] = inline.content.lstrip("🎯 ").strip() or None
                    chosen = block
                    break
        kept.extend(self.block_source(block) for block in quotes if block is not chosen)
        return "\n\n".join(text for _, text in sorted(kept) if text)

    def block_source(self, block: list[Token]) -> tuple[int, str]:
        first, last = block[0].map or (0, 0)
        return first, self.source(first, last)

    def metadata(self, inline: Token) -> list[tuple[Any, int]]:
        if "**" not in inline.content and "__" not in inline.content:
            return []  # labels are bold: nothing to tokenise
        start = (inline.map or [0])[0] + 1
        return [(v, start + v.line_offset) for v in labelled_values(self.children(inline))]

    def field(self, value: Any, line: int, fields: dict[str, Any], rank: int) -> None:
        """Store one metadata value; a malformed one is reported and left null."""
        if value.key in fields or (not value.text and not value.hrefs):
            return
        try:
            if value.key == "source":
                fields["source"] = value.text
            elif value.key == "published_at":
                fields["published_at"] = parse_time(value.text)
            elif value.key == "stars":
                fields["stars"] = parse_stars(value.text)
            elif value.key == "tags":
                fields["tags"] = parse_tags(value.text)
            elif value.key == "url":
                fields["url"] = find_url(value)
        except FieldError as exc:
            self.problem(line, f"item {rank}: {value.label}: {exc}")

    def resources(self, start: int, stop: int) -> list[Resource]:
        found: list[Resource] = []
        for tok in self.tokens[start:stop]:
            # Only lines that can hold a link are worth tokenising.
            if tok.type == "inline" and ("://" in tok.content or "]" in tok.content):
                found.extend(resources_in(self.children(tok)))
        return found
