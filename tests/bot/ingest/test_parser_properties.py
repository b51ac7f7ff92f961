"""Property test: mangled digests never crash the parser, and every complaint is located.

The reference digest is damaged at random (lines deleted, duplicated, shuffled, random
unicode injected, the text truncated, heading levels changed, BOM/CRLF added). Whatever
comes out, the parser either returns a result or raises ParseError about the date, every
Problem points at a line of the file, and items whose heading line survived intact (and
is not contested by another heading with the same rank) are still returned.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.errors import ParseError
from bot.ingest import parse_text
from tests.conftest import REFERENCE_DIGEST, ROOT

#: Shrunk failures, kept as explicit examples: the title repeated, a group heading with a
#: label line, the title line lost (each once made an intact item a section of another),
#: and a control character between a lone CR and a LF (it shifted every later line).
SAMPLES = ROOT / "tests" / "data" / "digests"
REPEATED_TITLE = (SAMPLES / "repeated-title-2026-02-03.md").read_text(encoding="utf-8")
LABELLED_GROUP = (SAMPLES / "labelled-group-2026-02-03.md").read_text(encoding="utf-8")
TITLE_LINE_LOST = (SAMPLES / "title-line-lost-2026-02-03.md").read_text(encoding="utf-8")
LONE_CR = "# AI 每日情报 | 2026-02-03\r\x05\n\n### 1. [A] Title\n**来源**: x\n"
LINES = REFERENCE_DIGEST.read_text(encoding="utf-8").split("\n")
HEADINGS = {
    int(match[1]): line for line in LINES if (match := re.match(r"^### (\d+)\.", line)) is not None
}
# No fences, HTML or indented-code openers: those legitimately swallow the headings after
# them, which would make "intact heading" ill-defined. Newlines and \r stay in.
NOISE = st.text(
    alphabet=st.characters(exclude_characters="`~<", exclude_categories=("Cs",)), max_size=12
)

#: Subprocesses, crashes, replicas or property tests: outside the fast inner loop.
pytestmark = pytest.mark.slow
FALLBACK = dt.date(2026, 2, 3)
# Items may be headings of any level, so a rival is a heading of any level.
RIVAL = re.compile(r"^ {0,3}#{1,6}(?!#)(.*)$")
OPS = ("delete", "duplicate", "shuffle", "inject", "levels", "truncate")


@st.composite
def mangled(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for op in draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=10)):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[at : at + draw(st.integers(1, 4))]
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "shuffle":
            chunk = lines[at : at + 8]
            lines[at : at + 8] = draw(st.permutations(chunk))
        elif op == "inject":
            col = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:col] + draw(NOISE) + lines[at][col:]
        elif op == "levels":
            heads = [i for i, line in enumerate(lines) if line.startswith("#")]
            if heads:
                i = draw(st.sampled_from(heads))
                lines[i] = "#" * draw(st.integers(1, 6)) + lines[i].lstrip("#")
        elif op == "truncate":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


#: The control characters the parser's entry removes (``bot.ingest.limits``): a heading
#: line with one before its ``#`` is still a heading.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _normalized_lines(text: str) -> list[str]:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _intact_ranks(lines: list[str]) -> dict[int, str]:
    """Ranks whose original heading line is present and not contested by another heading."""
    intact: dict[int, str] = {}
    for rank, heading in HEADINGS.items():
        contested = [
            line
            for line in lines
            if (m := RIVAL.match(line)) and re.match(rf"{rank}(\D|$)", m[1].strip())
        ]
        if heading in lines and all(line == heading for line in contested):
            intact[rank] = heading
    return intact


@settings(
    max_examples=int(os.environ.get("PARSER_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=st.one_of(mangled(), st.text(max_size=400)), fallback=st.booleans())
@example(text=REPEATED_TITLE, fallback=False)
@example(text=LABELLED_GROUP, fallback=False)
@example(text=TITLE_LINE_LOST, fallback=False)
@example(text=LONE_CR, fallback=False)
@example(
    text="# AI 每日情报 | 2026-02-03\n\n\x1f### 3. [MIT/FAIR] pMF\n**来源**: 机器之心\n",
    fallback=False,
)
def test_mangled_digests_never_crash(text: str, fallback: bool) -> None:
    lines = _normalized_lines(text)
    try:
        result = parse_text(
            text, path="m.md", fallback_date=dt.date(2026, 2, 3) if fallback else None
        )
    except ParseError as exc:
        assert not fallback, "with a fallback date there is always a date"
        assert "date" in exc.message
        assert exc.path == "m.md" and 1 <= exc.line <= len(lines)
        return
    for problem in result.problems:
        assert problem.path == "m.md"
        assert 1 <= problem.line <= len(lines), problem
        assert problem.message
    ranks = [item.rank for item in result.digest.items]
    assert len(ranks) == len(set(ranks))
    for item in result.digest.items:
        assert item.line is not None
        assert CONTROLS.sub("", lines[item.line - 1]).lstrip(" ").startswith("#")
    # Every intact item heading is an item or a located problem. Its rank may differ: a
    # mangled file with more unnumbered items than numbered ones is read as unnumbered.
    by_line = {item.line: item for item in result.digest.items}
    problem_lines = {problem.line for problem in result.problems}
    for rank, heading in _intact_ranks(lines).items():
        at = {n for n, line in enumerate(lines, 1) if line == heading}
        items = [by_line[n] for n in at if n in by_line]
        assert items or at & problem_lines, f"item {rank} lost; its heading {heading!r} is intact"
        assert all(heading.endswith(item.title) for item in items)


def test_the_strategy_really_keeps_some_headings() -> None:
    """Guard against a vacuous property: the unmangled text has all 14 headings intact."""
    assert len(_intact_ranks(LINES)) == 14
