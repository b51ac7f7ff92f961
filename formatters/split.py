"""Limit-aware packing of lines into chunks, shared by the Slack and Telegram formatters.

Chunks break at paragraph boundaries when they can, else at line boundaries; a single
line longer than the budget is cut between spans or at a break opportunity inside a span
(whitespace, punctuation, between CJK characters), and only as a last resort at a
character boundary that does not split a grapheme. Escaping happens after splitting, so an
entity such as ``&amp;`` can never be cut, and a link is only ever split into several
links to the same URL. Nothing is dropped: the concatenated chunks hold every character.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from formatters.lines import Line, Span

LineCost = Callable[[Line], int]
ChunkCost = Callable[[Sequence[Line]], int]
CharWeight = Callable[[str], int]

#: Spans longer than this many budgets are cut into runs before splitting (linear time).
CHOP_BUDGETS = 4
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}
_PUNCT_BREAK = set(",.;:!?)]}>-/|，。；：！？、）】》」』…—")


def pack(
    lines: Sequence[Line],
    budget: int,
    cost: ChunkCost,
    weight: CharWeight,
) -> list[list[Line]]:
    """Pack lines into chunks with ``cost(chunk) <= budget``, preferring paragraph breaks.

    ``cost`` measures a whole chunk exactly (it may include wrappers such as code fences);
    ``weight`` is the cost of one character of raw text, used to cut an overlong line.
    """
    chunks: list[list[Line]] = []
    current: list[Line] = []
    for paragraph in _paragraphs(lines):
        if current and cost([*current, *paragraph]) <= budget:
            current.extend(paragraph)
            continue
        if cost(paragraph) <= budget:
            if current:
                chunks.append(current)
            current = list(paragraph)
            continue
        for ln in paragraph:
            candidate = [*current, ln] if current else [_no_gap(ln)]
            if cost(candidate) <= budget:
                current = candidate
                continue
            if cost([_no_gap(ln)]) <= budget:
                if current:
                    chunks.append(current)
                current = [_no_gap(ln)]
                continue
            # Too long for any chunk: cut it, filling the room left in this chunk first.
            head = current

            def first_cost(piece: Line, head: list[Line] = head) -> int:
                return cost([*head, piece])

            alone: LineCost = lambda p: cost([_no_gap(p)])  # noqa: E731
            pieces = split_line(ln, budget, alone, weight, first_cost if head else None)
            if pieces[0].spans or pieces[0].prefix:
                head = [*head, pieces[0]]
            if head:
                chunks.append(head)
            chunks.extend([_no_gap(p)] for p in pieces[1:-1])
            current = [_no_gap(pieces[-1])] if len(pieces) > 1 else []
    if current:
        chunks.append(current)
    return [[_no_gap(c[0]), *c[1:]] for c in chunks if c]


def _paragraphs(lines: Sequence[Line]) -> list[list[Line]]:
    out: list[list[Line]] = []
    for ln in lines:
        if ln.gap or not out:
            out.append([])
        out[-1].append(ln)
    return out


def _no_gap(ln: Line) -> Line:
    return replace(ln, gap=False) if ln.gap else ln


def split_line(
    ln: Line,
    budget: int,
    cost: LineCost,
    weight: CharWeight,
    first_cost: LineCost | None = None,
) -> list[Line]:
    """Cut one line into pieces that each satisfy ``cost(piece) <= budget``.

    ``first_cost`` measures the first piece in context (the chunk it will join); if not
    even a character fits there, the first piece is empty (no spans, no prefix).
    """
    pieces: list[Line] = []
    current: list[Span] = []
    prefix = ln.prefix
    queue = deque(_chopped(ln.spans, budget))
    measure = first_cost or cost

    def flush() -> None:
        nonlocal current, prefix, measure
        if current or measure is cost:
            pieces.append(
                replace(ln, spans=tuple(current), prefix=prefix, gap=ln.gap and not pieces)
            )
            current, prefix = [], ""
        else:  # nothing fitted beside the chunk's existing lines
            pieces.append(replace(ln, spans=(), prefix="", gap=False))
        measure = cost

    while queue:
        span = queue.popleft()
        if measure(replace(ln, spans=(*current, span), prefix=prefix)) <= budget:
            current.append(span)
            continue
        # The cost of everything but this span's text (markers, link target, prefix),
        # with a little slack for the zero-width spaces neighbours may add.
        shell = replace(ln, spans=(*current, replace(span, text="x")), prefix=prefix)
        room = budget - (measure(shell) - 1) - (len(current) + 1) * 2
        if span.href and room < len(span.text) // 4 and not current and measure is cost:
            # The link target alone nearly fills the budget: keep its URL as text.
            queue.extendleft([Span(f" ({span.href})", span.styles), Span(span.text, span.styles)])
            continue
        cut = find_cut(span.text, room, weight)
        if cut <= 0:
            if current or measure is not cost:
                flush()
                queue.appendleft(span)
                continue
            cut = max(1, _safe_boundary(span.text, 1))  # always make progress
        head, tail = span.text[:cut], span.text[cut:]
        current.append(replace(span, text=head))
        flush()
        if tail:
            queue.appendleft(replace(span, text=tail))
    if current or not pieces:
        pieces.append(replace(ln, spans=tuple(current), prefix=prefix, gap=ln.gap and not pieces))
    return pieces


def _chopped(spans: Sequence[Span], budget: int) -> list[Span]:
    """Spans longer than a few budgets, cut into runs of that size beforehand.

    Each cut copies the rest of the span and measures it; on a 5-million-character line
    that made splitting quadratic. Runs of at most ``CHOP_BUDGETS * budget`` characters
    keep every copy and measurement small, so the whole line splits in linear time; the
    runs are adjacent spans with the same style and link, so the text is unchanged.
    """
    size = max(CHOP_BUDGETS * budget, 64)
    out: list[Span] = []
    for span in spans:
        text = span.text
        if len(text) <= size:
            out.append(span)
            continue
        start = 0
        while start < len(text):
            end = _safe_boundary(text, min(start + size, len(text)))
            out.append(replace(span, text=text[start:end]))
            start = end
    return out


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _safe_boundary(text: str, index: int) -> int:
    """Move ``index`` forward past combining marks, joiners and variation selectors."""
    while 0 < index < len(text) and (
        text[index] in _JOINERS
        or text[index - 1] == "\u200d"
        or unicodedata.combining(text[index])
        or 0x1F3FB <= ord(text[index]) <= 0x1F3FF
    ):
        index += 1
    return index


def find_cut(text: str, room: int, weight: CharWeight) -> int:
    """Where to cut ``text`` so the head weighs at most ``room``; 0 if nothing fits.

    Prefers whitespace/punctuation in the second half of the room, then a CJK boundary,
    then any whitespace, then any grapheme boundary.
    """
    used = 0
    fit = 0
    for index, ch in enumerate(text):
        used += weight(ch)
        if used > room:
            break
        fit = index + 1
    if fit >= len(text):
        return len(text)
    if fit == 0:
        return 0

    def soft(i: int) -> bool:
        return text[i - 1].isspace() or text[i - 1] in _PUNCT_BREAK

    for i in range(fit, max(fit // 2, 1) - 1, -1):
        if soft(i):
            return i
    for i in range(fit, 0, -1):
        if (_is_cjk(text[i - 1]) or _is_cjk(text[i])) and _safe_boundary(text, i) == i:
            return i
    for i in range(max(fit // 2, 1), 0, -1):
        if soft(i):
            return i
    for i in range(fit, 0, -1):
        if _safe_boundary(text, i) == i:
            return i
    return 0  # even the first grapheme does not fit
