"""The line model between markdown and platform markup: ``Line``s of styled ``Span``s.

Every formatter builds lines and every splitter packs them into messages. A line never
carries open formatting into the next one, so any run of lines serialises on its own to
valid markup (``formatters.line_markup``); lines hold raw text, so escaping happens once,
at serialisation. The model has no dependencies of its own beyond URL vetting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from formatters.escape import safe_url

Style = Literal["b", "i", "s", "code"]
LineKind = Literal["text", "code", "quote"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with one set of styles; ``href`` is None or an already safe URL."""

    text: str
    styles: frozenset[str] = frozenset()
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One output line. ``prefix`` is plain text (bullets, indentation); ``gap`` asks for a
    blank line before it (a paragraph boundary, the preferred place to split)."""

    spans: tuple[Span, ...]
    prefix: str = ""
    kind: LineKind = "text"
    gap: bool = False

    @property
    def text(self) -> str:
        return self.prefix + "".join(span.text for span in self.spans)


def line(*parts: str | Span, gap: bool = False, kind: LineKind = "text") -> Line:
    """Build a line from strings (plain) and spans: the formatters' shorthand."""
    spans = tuple(Span(part) if isinstance(part, str) else part for part in parts)
    return Line(tuple(span for span in spans if span.text), kind=kind, gap=gap)


def bold(text: str) -> Span:
    return Span(text, frozenset({"b"}))


def italic(text: str) -> Span:
    return Span(text, frozenset({"i"}))


def code(text: str) -> Span:
    return Span(text, frozenset({"code"}))


def link(text: str, url: str | None, styles: Iterable[str] = ()) -> Span:
    """A link span; an unsafe URL yields plain text (never a live link)."""
    return Span(text, frozenset(styles), safe_url(url))
