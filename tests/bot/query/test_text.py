"""The one tokenizer (``words``) and the free-word rule it serves: a one-word term matches
exactly when it is among the text's words, which is the boundary rule stated as a set."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.query import fold, is_word, term_matches, words


def test_words_are_maximal_runs_of_ascii_letters_and_digits() -> None:
    text = fold("GPT-4 和 RL训练 (QAT) Starlink ÄB https://x.io/a_b\n2026年")
    assert words(text) == {
        "gpt",
        "4",
        "rl",
        "qat",
        "starlink",
        "b",
        "https",
        "x",
        "io",
        "a",
        "2026",
    }


@pytest.mark.parametrize(
    ("term", "one"),
    [("rl", True), ("2026", True), ("k2", True), ("gpt-4", False), ("强化", False),
     ("rl 框架", False), ("", False), ("ä", False)],
)  # fmt: skip
def test_is_word(term: str, one: bool) -> None:
    assert is_word(term) is one


def test_a_word_term_matches_whole_words_only() -> None:
    text = fold("Starlink 发射；RL训练；(QAT)")
    assert term_matches("rl", text) and term_matches("qat", text)
    assert not term_matches("link", text) and not term_matches("star", text)


_ALPHABET = "ab1 -_.(训\n"


@pytest.mark.slow
@given(text=st.text(alphabet=_ALPHABET, max_size=30), term=st.text(alphabet="ab1", min_size=1))
def test_the_word_set_equals_the_boundary_rule(text: str, term: str) -> None:
    boundary = re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text) is not None
    assert (term in words(text)) is boundary
    assert term_matches(term, text) is boundary
