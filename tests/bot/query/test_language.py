"""The query language: parsing, errors, canonical text and in-memory matching."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import QueryError
from bot.ingest import parse_file
from bot.models import Item, Resource, Section
from bot.query import KEYS, TEXT, Clause, Query, TagAliases, fold, item_search_text, parse_query
from tests.conftest import REFERENCE_DIGEST

TODAY = dt.date(2026, 2, 4)
ALIASES = TagAliases.builtin()


def parse(text: str) -> Query:
    return parse_query(text, today=TODAY)


@pytest.fixture(scope="module")
def reference() -> list[Item]:
    return parse_file(REFERENCE_DIGEST).digest.items


def ranks(items: list[Item], text: str, date: dt.date = dt.date(2026, 2, 3)) -> list[int]:
    query = parse(text)
    return [item.rank for item in items if query.matches(item, date, ALIASES)]


# -- parsing ------------------------------------------------------------------------------


def test_terms_are_grouped_same_key_or_different_keys_and() -> None:
    query = parse('tag:RL source:量子位 tag:Agent -org:Google "context learning" QAT')
    assert query.clauses == (
        Clause("tag", ("Agent", "RL")),
        Clause("source", ("量子位",)),
        Clause("org", ("Google",), negated=True),
        Clause(TEXT, ("context learning",)),
        Clause(TEXT, ("QAT",)),
    )
    assert query.values("tag") == ["Agent", "RL"]


def test_equal_queries_compare_equal_whatever_the_order() -> None:
    assert parse("tag:A source:B tag:C foo") == parse("foo tag:C source:B tag:A tag:A")
    assert parse("") == Query() and Query().is_empty and not parse("x").is_empty


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        ("date:2026-02-03", Clause("date", (dt.date(2026, 2, 3),))),
        ("date:today", Clause("date", (TODAY,))),
        ("date:Yesterday", Clause("date", (TODAY - dt.timedelta(days=1),))),
        ("since:昨天", Clause("since", (TODAY - dt.timedelta(days=1),))),
        ("until:2026-02-01", Clause("until", (dt.date(2026, 2, 1),))),
        ("stars:4", Clause("stars", (4,))),
        ("stars:3+", Clause("stars", (3,))),
        ("TAG:rl", Clause("tag", ("rl",))),
        ("tag：强化学习", Clause("tag", ("强化学习",))),  # full-width colon
        ('tag:"Context Learning"', Clause("tag", ("Context Learning",))),
        ("tag:“Context Learning”", Clause("tag", ("Context Learning",))),
        ('source:"机器之心"', Clause("source", ("机器之心",))),
        ("-source:量子位", Clause("source", ("量子位",), negated=True)),
        ("－tag:RL", Clause("tag", ("RL",), negated=True)),  # full-width minus
        ('-"a b"', Clause(TEXT, ("a b",), negated=True)),
        ("https://github.com/sgl-project", Clause(TEXT, ("https://github.com/sgl-project",))),
        ("12:30", Clause(TEXT, ("12:30",))),
        ("注意：显存", Clause(TEXT, ("注意：显存",))),
        ('"tag:RL"', Clause(TEXT, ("tag:RL",))),
        ("称为「异形互联网」", Clause(TEXT, ("称为「异形互联网」",))),
        ("“非参数化”能力", Clause(TEXT, ("“非参数化”能力",))),
        ("「异形互联网」", Clause(TEXT, ("异形互联网",))),
        ("Kimi-K2", Clause(TEXT, ("Kimi-K2",))),
        ('"OR"', Clause(TEXT, ("OR",))),  # quoted, the word itself
        ("or", Clause(TEXT, ("or",))),
        ("category:学术研究", Clause("category", ("学术研究",))),
        ('tag:"Reinforcement Learning"', Clause("tag", ("Reinforcement Learning",))),
        ('"say \\"hi\\""', Clause(TEXT, ('say "hi"',))),
    ],
)
def test_single_terms(text: str, clause: Clause) -> None:
    assert parse(text).clauses == (clause,)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("tga:RL", ['unknown key "tga" in "tga:RL"', "valid keys: " + ", ".join(KEYS), "tag:"]),
        ("QAT sorce:量子位", ['unknown key "sorce" in "sorce:量子位"', "source:"]),
        ("since:2026-13-01", ['bad date "2026-13-01" in "since:2026-13-01"', "YYYY-MM-DD"]),
        ("date:2026-2-3", ['bad date "2026-2-3"', "today or yesterday"]),
        ("stars:x", ['bad value "x" in "stars:x"', "1 to 5"]),
        ("stars:0", ['bad value "0" in "stars:0"']),
        ("stars:6", ['bad value "6"']),
        ("tag:", ['empty value in "tag:"', "tag:RL", "valid keys"]),
        ('source:""', ["empty value in 'source:\"\"'"]),
        ('tag:"Context Learning', ["unbalanced quote", 'tag:"Context Learning', "valid keys"]),
        ('QAT "abc', ["unbalanced quote in '\"abc'"]),
        ("QAT - RL", ['nothing after "-"', "valid keys"]),
        ('""', ["empty phrase"]),
        ("tag:RL OR tag:Agent", ['"OR" is not an operator', "tag:RL tag:Agent", 'quote it: "OR"']),
        (
            "tag:Reinforcement Learning",
            ['a tag with a space needs quotes, write tag:"Reinforcement Learning"'],
        ),
        ("category:", ["empty value in", "category:学术研究"]),
    ],
)
def test_errors_name_the_bad_term(text: str, fragments: list[str]) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert info.value.term is not None and info.value.term in text


# -- canonical text -------------------------------------------------------------------------

VOCAB = ["RL", "强化学习", "Context Learning", "量子位", "机器之心", "a:b", '引号"', "-x", "x y"]
values = st.one_of(
    st.sampled_from(VOCAB),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=10),
)


@st.composite
def clauses(draw: st.DrawFn) -> Clause:
    key = draw(st.sampled_from([*KEYS, TEXT]))
    negated = draw(st.booleans())
    if key in ("date", "since", "until"):
        value: object = draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
    elif key == "stars":
        value = draw(st.integers(1, 5))
    else:
        value = draw(values.filter(lambda v: v.strip() and fold(v)))
        if key != TEXT:
            value = str(value).strip()
    return Clause(key, (value,), negated)  # type: ignore[arg-type]


@pytest.mark.slow
@given(st.lists(clauses(), max_size=6))
def test_text_round_trips(parts: list[Clause]) -> None:
    query = Query.of(parts)
    assert parse(str(query)) == query


@pytest.mark.slow
@given(st.text(max_size=40))
def test_parsing_any_text_fails_cleanly_or_round_trips(text: str) -> None:
    try:
        query = parse(text)
    except QueryError as exc:
        assert str(exc)
        return
    assert parse(str(query)) == query


# -- matching in memory ---------------------------------------------------------------------


def test_reference_digest_examples(reference: list[Item]) -> None:
    assert ranks(reference, "tag:RL") == [2, 7]
    assert ranks(reference, "QAT") == [2]
    assert ranks(reference, "source:量子位 date:2026-02-03") == [7, 8, 12, 13, 14]
    agent = [i.rank for i in reference if {"AI Agent", "智能体", "Agent"} & set(i.tags)]
    assert ranks(reference, "tag:Agent") == agent == [4, 5, 8, 10]


def test_tag_matching_goes_through_aliases(reference: list[Item]) -> None:
    assert ranks(reference, "tag:强化学习") == ranks(reference, "tag:reinforcement-learning")
    assert ranks(reference, "tag:ai编程") == [5, 6]  # [自动编程] and [AI 编程]
    assert ranks(reference, "tag:multimodal") == [7, 12]  # [原生多模态] and [多模态]
    assert ranks(reference, "tag:推理") == [1]  # not [推理加速]


def test_same_key_is_or_negation_excludes(reference: list[Item]) -> None:
    rl, moe = set(ranks(reference, "tag:RL")), set(ranks(reference, "tag:MoE"))
    assert set(ranks(reference, "tag:RL tag:MoE")) == rl | moe
    everything = {i.rank for i in reference}
    assert set(ranks(reference, "-tag:RL -tag:MoE")) == everything - rl - moe
    assert ranks(reference, "tag:RL -source:量子位") == [2]


def test_source_is_exact_org_is_substring(reference: list[Item]) -> None:
    assert ranks(reference, "source:量子") == []
    assert ranks(reference, "source:'量子位'") == []
    assert ranks(reference, "org:xai") == [9, 12]  # "SpaceX & xAI" and "xAI"
    assert ranks(reference, 'org:"moonshot ai"') == ranks(reference, "org:MoonshotAI") == [7]


def test_stars_dates_and_free_text(reference: list[Item]) -> None:
    expected = [i.rank for i in reference if (i.stars or 0) >= 4]
    assert ranks(reference, "stars:4") == expected
    assert ranks(reference, "-stars:4") == [i.rank for i in reference if i.rank not in expected]
    assert ranks(reference, "since:2026-02-03 until:2026-02-03") == [i.rank for i in reference]
    assert ranks(reference, "since:2026-02-04") == []
    assert ranks(reference, "date:yesterday") == [i.rank for i in reference]
    assert ranks(reference, "强化") == [i.rank for i in reference if "强化" in item_search_text(i)]
    assert ranks(reference, "qat 显存") == [2]
    assert ranks(reference, '"int4 qat"') == [2]


def test_ascii_words_match_whole_words_cjk_substrings() -> None:
    item = Item(
        rank=1,
        title="Starlink 卫星接入 (RL) 训练，强化学习与RL训练",
        category="学术 研究",
    )
    day = dt.date(2026, 2, 4)
    for text in ["RL", "starlink", "rl训练", "强化", "化学", "(rl)", "category:学术研究"]:
        assert parse(text).matches(item, day, ALIASES), text
    for text in ["link", "star", "R", "tarl", "category:研究", "-category:学术研究"]:
        assert not parse(text).matches(item, day, ALIASES), text
    no_category = Item(rank=2, title="x")
    assert parse("-category:学术研究").matches(no_category, day, ALIASES)


def test_free_text_is_case_width_and_space_insensitive() -> None:
    item = Item(
        rank=1,
        title="ＧＰＴ-5   Launch",
        sections=[Section(kind="tech", heading="h", markdown="Uses  `a_b`\nand 100%")],
        resources=[Resource(title="Repo", url="https://github.com/x/y")],
    )
    day = dt.date(2026, 2, 4)
    for text in ["gpt-5 launch", '"GPT-5 LAUNCH"', "a_b", "100%", "github.com/x"]:
        assert parse(text).matches(item, day, ALIASES), text
    for text in ["axb", '"launch uses"', "source:none", "tag:x", "stars:1"]:
        assert not parse(text).matches(item, day, ALIASES), text
    assert parse("-stars:1 -tag:x").matches(item, day, ALIASES)


def test_a_query_longer_than_the_cap_is_a_clear_error() -> None:
    from bot.query.language import MAX_QUERY_CHARS

    with pytest.raises(QueryError, match=r"at most 2,000") as caught:
        parse_query("tag:RL " + "x" * MAX_QUERY_CHARS, today=TODAY)
    assert caught.value.term is not None and caught.value.term.startswith("tag:RL")


def test_quote_heavy_text_tokenizes_the_same_at_any_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Quotes that open but never close a phrase used to rescan the rest of the text for
    each term; the closing positions are now indexed once (benchmarks/bench_huge.py)."""
    from bot.query import language

    monkeypatch.setattr(language, "MAX_QUERY_CHARS", 10**7)
    monkeypatch.setattr(language, "MAX_TERMS", 10**7)
    noisy = parse_query('"a"b ' * 20_000, today=TODAY)  # quotes inside words: content
    assert [clause.values for clause in noisy.clauses] == [('"a"b',)]
    phrases = parse_query('tag:"x y" ' * 20_000, today=TODAY)
    assert [clause.values for clause in phrases.clauses] == [("x y",)]
    escaped = parse_query(r'"a \"b\\" c', today=TODAY)
    assert [clause.values for clause in escaped.clauses] == [('a "b\\',), ("c",)]
