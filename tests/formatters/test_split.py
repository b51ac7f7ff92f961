"""Limit-aware packing: paragraph breaks first, then lines, then safe cuts inside a line."""

from __future__ import annotations

from formatters.line_markup import telegram_len, to_mrkdwn, to_plain
from formatters.lines import Line, Span, link
from formatters.markdown import parse
from formatters.split import find_cut, pack


def _one(ch: str) -> int:
    return 1


def slack_cost(lines: list[Line]) -> int:
    return len(to_mrkdwn(lines))


def test_paragraphs_stay_together_when_they_fit() -> None:
    lines = parse("para one line\n\npara two line\n\npara three")
    chunks = pack(lines, 30, telegram_len, _one)
    assert [to_plain(c) for c in chunks] == ["para one line\n\npara two line", "para three"]
    assert all(not c[0].gap for c in chunks)


def test_a_long_paragraph_breaks_between_lines() -> None:
    lines = parse("- " + "a" * 20 + "\n- " + "b" * 20 + "\n- " + "c" * 20)
    chunks = pack(lines, 50, telegram_len, _one)
    assert [len(c) for c in chunks] == [2, 1]
    assert all(telegram_len(c) <= 50 for c in chunks)


def test_a_long_line_is_cut_at_spaces_and_nothing_is_lost() -> None:
    words = [f"word{i:03d}" for i in range(200)]
    lines = [Line((Span(" ".join(words)),), prefix="• ")]
    chunks = pack(lines, 100, telegram_len, _one)
    assert all(telegram_len(c) <= 100 for c in chunks)
    assert "".join(to_plain(c) for c in chunks) == "• " + " ".join(words)
    for chunk in chunks:  # every piece ends after a space or at the very end: no word cut
        text = to_plain(chunk)
        assert text.endswith(" ") or text.endswith("word199")


def test_cjk_is_cut_between_characters_preferring_punctuation() -> None:
    text = "这是一个很长的句子，" * 30
    chunks = pack([Line((Span(text),))], 95, telegram_len, _one)
    assert "".join(to_plain(c) for c in chunks) == text
    assert all(to_plain(c).endswith("，") for c in chunks)


def test_links_are_never_cut_unless_their_text_alone_is_too_long() -> None:
    spans = (
        Span("x" * 40 + " "),
        link("a link text", "https://example.com/p?a=1&b=2"),
        Span(" tail"),
    )
    chunks = pack([Line(spans)], 60, slack_cost, _one)
    rendered = [to_mrkdwn(c) for c in chunks]
    assert any("<https://example.com/p?a=1&amp;b=2|a link text>" in r for r in rendered)
    assert all(len(r) <= 60 for r in rendered)
    # A link whose text exceeds the budget becomes several links to the same target.
    long = Line((link("word " * 40, "https://e.com/x"),))
    pieces = [to_mrkdwn(c) for c in pack([long], 80, slack_cost, _one)]
    assert len(pieces) > 2 and all(
        p.startswith("<https://e.com/x|") and len(p) <= 80 for p in pieces
    )


def test_escaping_is_counted_and_entities_are_never_split() -> None:
    text = "&" * 100
    chunks = pack([Line((Span(text),))], 52, slack_cost, lambda ch: 5 if ch == "&" else 1)
    rendered = [to_mrkdwn(c) for c in chunks]
    assert all(len(r) <= 52 and r == "&amp;" * (len(r) // 5) for r in rendered)
    assert sum(len(r) // 5 for r in rendered) == 100


def test_overlong_line_first_fills_the_current_chunk() -> None:
    lines = [Line((Span("short"),)), Line((Span("y" * 250),))]
    chunks = pack(lines, 100, telegram_len, _one)
    assert to_plain(chunks[0]).startswith("short\nyyy")
    assert 95 <= telegram_len(chunks[0]) <= 100
    assert "".join(to_plain(c) for c in chunks).replace("\n", "") == "short" + "y" * 250


def test_find_cut_does_not_split_graphemes() -> None:
    family = "👨\u200d👩\u200d👧"
    cut = find_cut("a" + family + "b", 3, _one)
    assert cut in (1, len("a" + family))
    assert find_cut("e\u0301e\u0301", 3, _one) == 2  # never between e and its accent
    assert find_cut("e\u0301e\u0301", 1, _one) == 0
    assert find_cut("abc", 0, _one) == 0
    assert find_cut("abc", 10, _one) == 3


def test_splitting_a_huge_line_measures_each_character_a_bounded_number_of_times() -> None:
    """Linear work: the characters measured grow with the line, not with its square
    (before, every cut re-measured the whole rest of the line)."""
    measured = [0]

    def counting_cost(lines: list[Line]) -> int:
        size = telegram_len(lines)
        measured[0] += size
        return size

    for length in (100_000, 400_000):
        measured[0] = 0
        text = ("word " * (length // 5 + 1))[:length]
        chunks = pack([Line((Span(text),))], 1_000, counting_cost, _one)
        assert "".join(to_plain(c) for c in chunks) == text
        assert all(telegram_len(c) <= 1_000 for c in chunks)
        assert measured[0] < 40 * length
