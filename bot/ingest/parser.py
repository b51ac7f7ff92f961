"""Digest markdown → ``Digest`` models, on markdown-it-py's token stream.

Structure comes from block tokens and their line maps: the ``#`` title, the item headings
and categories ``bot.ingest.layout`` finds, and the sections under each item. An item's
body is read by ``bot.ingest.body``, single values by ``fields``, ``dates``, ``ratings``
and ``headings``. A broken item becomes a located ``Problem`` and is counted as dropped;
everything else is still returned, because one bad line must not cost a day's digest.

Inline parsing is done lazily, only for the tokens a field needs (headings, item bodies,
resources sections): section bodies are kept as source lines, so tokenising their inline
markup would be wasted work (it is most of markdown-it's cost).
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

from bot.errors import FieldError, HeadingError, ParseError
from bot.ingest.body import read_body
from bot.ingest.contract import parse_contract
from bot.ingest.dates import (
    date_in_name,
    find_date,
    front_matter,
    header_date,
    parse_time,
)
from bot.ingest.fields import (
    LabelledValue,
    find_url,
    parse_tags,
    resources_in,
    section_kind,
)
from bot.ingest.formats import DEFAULT_OPTIONS, ParseOptions
from bot.ingest.headings import parse_item_heading, split_orgs
from bot.ingest.layout import Heading, plan_layout, title_index
from bot.ingest.limits import bound_text, file_too_big, read_capped
from bot.ingest.ratings import Rating, parse_rating
from bot.ingest.repeats import drop_repeats, failed_summary
from bot.models import Digest, Item, ParseResult, Problem, Resource, Section

__all__ = ["file_sha256", "parse_bytes", "parse_file", "parse_text"]

_MD = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def parse_text(
    text: str,
    path: str = "<string>",
    fallback_date: dt.date | None = None,
    options: ParseOptions = DEFAULT_OPTIONS,
) -> ParseResult:
    """Parse one digest's text. Raises ParseError only when no date can be found at all."""
    text, cuts = bound_text(text, path)
    result = _DigestParser(text, path, fallback_date, options).parse()
    if cuts:
        result.problems[:] = sorted([*cuts, *result.problems], key=lambda p: p.line)
    return result


def parse_bytes(
    data: bytes,
    path: str,
    fallback_date: dt.date | None = None,
    options: ParseOptions = DEFAULT_OPTIONS,
) -> ParseResult:
    """Decode UTF-8 (a BOM is fine) and parse; undecodable bytes are a located ParseError.

    A ``*.json`` file is the contract JSON (``digestbot parse --json``), read as it is.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(path, line, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if path.lower().endswith(".json"):
        return parse_contract(text, path)
    return parse_text(text, path, fallback_date, options)


def parse_file(path: str | Path, options: ParseOptions = DEFAULT_OPTIONS) -> ParseResult:
    """Parse a digest file; a date in its name is the date if the text has none."""
    try:
        data, truncated = read_capped(path)
    except OSError as exc:
        raise ParseError(str(path), 1, f"cannot read file: {exc.strerror or exc}") from exc
    result = parse_bytes(data, str(path), date_in_name(Path(path).name), options)
    if truncated:
        result.problems.append(file_too_big(str(path), data))
    return result


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes that are read (at most ``MAX_FILE_BYTES``): the
    archive's key for "has this file changed?"."""
    return hashlib.sha256(read_capped(path)[0]).hexdigest()


def _is_atx(tok: Token) -> bool:
    return tok.type == "heading_open" and tok.level == 0 and tok.markup.startswith("#")


class _DigestParser:
    """One parse of one text: the token stream, its source lines and the problems found."""

    def __init__(
        self, text: str, path: str, fallback_date: dt.date | None, options: ParseOptions
    ) -> None:
        # Normalise exactly as markdown-it does, so token line maps index our lines.
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        self.text = text.replace("\x00", "\ufffd")
        self.lines = self.text.split("\n")
        # Front matter is blanked (not cut), so line numbers stay the file's own.
        skip, self.front = front_matter(self.lines)
        if skip:
            self.text = "\n" * skip + "\n".join(self.lines[skip:])
        self.path = path
        self.fallback_date = fallback_date
        self.options = options
        self.env: dict[str, Any] = {}
        self.tokens = _MD.parse(self.text, self.env)
        self.problems: list[Problem] = []
        self.dropped = 0
        self.date: dt.date | None = None

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

    def block_source(self, block: list[Token]) -> tuple[int, str]:
        first, last = block[0].map or (0, 0)
        return first, self.source(first, last)

    def drop(self, line: int, message: str) -> None:
        """An item heading that does not become an item: a located problem, counted."""
        self.dropped += 1
        self.problem(line, f"{message}; this item is skipped")

    # -- structure -----------------------------------------------------------------------

    def parse(self) -> ParseResult:
        title, self.date = self.header()
        layout = plan_layout(self.tokens, self.options.labels, self.options.layout)
        headings = layout.headings
        items: list[Item] = []
        first_seen: dict[tuple[str | None, int], int] = {}
        for position, heading in enumerate(layout.items, start=1):
            stop = self.item_end(heading, headings, layout.items[position:])
            item = self.item(heading, stop, layout.numbered, position)
            if item is None:
                continue
            key = (item.category, item.rank)
            if key in first_seen:
                self.drop(
                    heading.line,
                    f"duplicate item rank {item.rank} (first at line {first_seen[key]})",
                )
                continue
            first_seen[key] = heading.line
            items.append(item)
        items = drop_repeats(items)
        if len({item.rank for item in items}) < len(items):
            # Numbering restarts in each category: the position in the file is the rank.
            items = [item.model_copy(update={"rank": pos}) for pos, item in enumerate(items, 1)]
        return ParseResult(
            digest=Digest(date=self.date, title=title, items=items),
            problems=self.problems,
            dropped=self.dropped,
        )

    def item_end(self, heading: Heading, headings: list[Heading], later: list[Heading]) -> int:
        """Token index where an item ends: the next item, the next heading at its level or
        above, or (after the last item) a closing ``---`` followed only by a footer."""
        ends = [h.index for h in headings if h.index > heading.index and h.level <= heading.level]
        if later:
            ends.append(later[0].index)
        if ends:
            return min(ends)
        stop = len(self.tokens)
        breaks = [
            idx
            for idx in range(heading.index, stop)
            if self.tokens[idx].type == "hr" and self.tokens[idx].level == 0
        ]
        if (
            breaks
            and all(h.index < breaks[-1] for h in headings if h.index > heading.index)
            and _footer_like(self.tokens[breaks[-1] + 1 :])
        ):
            return breaks[-1]
        return stop

    def header(self) -> tuple[str, dt.date]:
        """Title and date: the ``#`` title, front matter, a date line above the items, or
        (last) the file name."""
        line, title, date, complaint = 1, self.front.get("title", ""), None, None
        idx = title_index(self.tokens)
        if idx is not None:
            line = (self.tokens[idx].map or [0])[0] + 1
            title, date, complaint = header_date(self.tokens[idx + 1].content)
        if date is None and "date" in self.front:
            date = find_date(self.front["date"])
        if date is None and complaint is None:
            date = self.date_above_items()
        if date is None and complaint:
            if self.fallback_date is None:
                raise ParseError(self.path, line, complaint)
            self.problem(line, f"{complaint}; using {self.fallback_date} from the file name")
        if date is None:
            date = self.fallback_date
        if date is None:
            raise ParseError(
                self.path,
                line,
                "no date in the header (expected '# Title | YYYY-MM-DD') "
                "and no YYYY-MM-DD in the file name",
            )
        return title, date

    def date_above_items(self) -> dt.date | None:
        """A date written in a line under the title (``2026年6月15日（周日）``)."""
        headings = 0
        for tok in self.tokens:
            if tok.type == "heading_open":
                headings += 1
                if headings > 2:
                    return None
            elif tok.type == "inline" and tok.level <= 2 and len(tok.content) < 200:
                found = find_date(tok.content)
                if found is not None:
                    return found
        return None

    def item(self, heading: Heading, stop: int, numbered: bool, position: int) -> Item | None:
        """One item spanning ``tokens[heading.index:stop]``; None (and a problem) if broken."""
        try:
            parsed = parse_item_heading(
                heading.content, numbered=numbered, brackets=self.options.brackets
            )
        except HeadingError as exc:
            self.drop(heading.line, str(exc))
            return None
        rank = parsed.rank if parsed.rank is not None else position
        below = [
            pos
            for pos in range(heading.index + 3, stop)
            if self.tokens[pos].type == "heading_open" and self.tokens[pos].level == 0
        ]
        top = min((self.tokens[pos].tag for pos in below), default="")
        sections_at = [pos for pos in below if self.tokens[pos].tag == top]
        body = read_body(
            list(self.blocks(heading.index + 3, sections_at[0] if sections_at else stop)),
            self.children,
            self.block_source,
            self.options.labels,
        )
        fields: dict[str, Any] = {"summary": body.summary}
        sections: list[Section] = []
        for value in body.values:
            self.field(value, fields, rank, sections)
        leftovers = "\n\n".join(text for _, text in body.kept if text)
        if leftovers:
            sections.insert(0, Section(kind="other", heading="", markdown=leftovers))
        resources: list[Resource] = []
        for num, pos in enumerate(sections_at):
            end = sections_at[num + 1] if num + 1 < len(sections_at) else stop
            kind, title = section_kind(self.tokens[pos + 1].content)
            first = (self.tokens[pos].map or [0, 0])[1]
            sections.append(
                Section(kind=kind, heading=title, markdown=self.source(first, self.end_line(end)))
            )
            if kind == "resources":
                resources.extend(self.resources(pos + 3, end))
        rating: Rating | None = fields.pop("rating", None) or parsed.rating
        failed = failed_summary(fields.get("summary"))
        if failed:
            fields["summary"], rating = None, None  # placeholders are not data
        unique: dict[str, Resource] = {}
        for res in resources:
            unique.setdefault(res.url, res)
        source_url = fields.pop("source_url", None)
        return Item(
            rank=rank,
            title=parsed.title,
            orgs=fields.pop("orgs", None) or parsed.orgs,
            category=fields.pop("category", None) or heading.category or parsed.label,
            url=fields.pop("url", None) or parsed.url or source_url,
            stars=rating.stars if rating else None,
            score=rating.score if rating else None,
            score_scale=rating.scale if rating else None,
            pipeline_failed=failed,
            sections=sections,
            resources=list(unique.values()),
            line=heading.line,
            **fields,
        )

    def field(
        self, value: LabelledValue, fields: dict[str, Any], rank: int, sections: list[Section]
    ) -> None:
        """Store one field value; a malformed one is reported where it stands and left null."""
        key = value.key
        if key == "insight" and value.text:
            sections.append(Section(kind="insight", heading=value.label, markdown=value.text))
            return
        if fields.get(key) is not None or (not value.text and not value.hrefs):
            return
        try:
            if key == "source":
                fields["source"] = value.text.strip("[]【】 ") or None
                if value.hrefs:
                    fields["source_url"] = value.hrefs[0]
            elif key == "published_at":
                fields[key] = parse_time(value.text, self.date)
            elif key == "rating":
                fields[key] = parse_rating(value.text)
            elif key == "tags":
                fields[key] = parse_tags(value.text, value.codes)
            elif key == "url":
                fields[key] = find_url(value)
            elif key == "summary":
                fields[key] = value.text
            elif key == "orgs":
                fields[key] = split_orgs(value.text.strip("[]【】"))
            elif key == "category":
                fields[key] = value.text.strip("[]【】 ") or None
        except FieldError as exc:
            self.problem(value.line_offset + 1, f"item {rank}: {value.label}: {exc}")

    def resources(self, start: int, stop: int) -> list[Resource]:
        found: list[Resource] = []
        for tok in self.tokens[start:stop]:
            # Only lines that can hold a link are worth tokenising.
            if tok.type == "inline" and ("://" in tok.content or "]" in tok.content):
                found.extend(resources_in(self.children(tok)))
        return found


def _footer_like(tokens: list[Token]) -> bool:
    """A few paragraphs or raw HTML after the last ``---``: a generator's footer."""
    blocks = [tok for tok in tokens if tok.level == 0 and tok.nesting >= 0]
    kinds = {tok.type for tok in blocks}
    return bool(blocks) and len(blocks) <= 6 and kinds <= {"paragraph_open", "html_block"}
