"""Archive search on SQLite (FTS5 trigram + LIKE) and PostgreSQL (pg_trgm), and its
equivalence with the in-memory ``Query.matches``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive, PlanLimits
from bot.ingest import file_sha256, parse_file
from bot.models import Digest, Item
from bot.query import KEYS, fold, item_search_text, parse_query
from bot.query import words as text_words
from tests.conftest import DATA, REFERENCE_DIGEST

DAY = dt.date(2026, 2, 3)
NEXT = dt.date(2026, 2, 4)
FILES = [REFERENCE_DIGEST, DATA / "query_2026-02-04.md"]

Key = tuple[dt.date, int]


@pytest.fixture(scope="module")
def digests() -> list[Digest]:
    return [parse_file(path).digest for path in FILES]


@pytest.fixture
def archive(
    db_url: str, digests: list[Digest], request: pytest.FixtureRequest
) -> Iterator[Archive]:
    # Tests that ask for ``plan`` run once with the default limits and once with tiny ones.
    limits = request.getfixturevalue("plan") if "plan" in request.fixturenames else None
    archive = Archive(db_url, plan_limits=limits)
    archive.create_schema()
    for path, digest in zip(FILES, digests, strict=True):
        archive.store(digest, path=str(path), sha256=file_sha256(path))
    yield archive
    archive.close()


def found(archive: Archive, text: str, **paging: int) -> list[Key]:
    query = parse_query(text, today=NEXT)
    return [(hit.date, hit.rank) for hit in archive.search(query, limit=1000, **paging)]


def on(day: dt.date, *ranks: int) -> list[Key]:
    return [(day, rank) for rank in ranks]


def expected(archive: Archive, digests: list[Digest], text: str) -> list[Key]:
    """What ``Query.matches`` says, in the archive's order (newest, stars, rank)."""
    query = parse_query(text, today=NEXT)
    matching = [
        (d.date, item.stars or 0, item.rank)
        for d in digests
        for item in d.items
        if query.matches(item, d.date, archive.aliases)
    ]
    matching.sort(key=lambda m: (-m[0].toordinal(), -m[1], m[2]))
    return [(date, rank) for date, _, rank in matching]


def test_issue_examples(archive: Archive) -> None:
    assert found(archive, "tag:RL date:2026-02-03") == on(DAY, 2, 7)
    assert found(archive, "QAT") == on(DAY, 2)
    assert found(archive, "source:量子位 date:2026-02-03") == on(DAY, 7, 8, 12, 13, 14)


def test_tags_match_through_aliases(archive: Archive, digests: list[Digest]) -> None:
    tagged = {"AI Agent", "智能体", "Agent", "Agents"}
    agent = [(d.date, i.rank) for d in digests for i in d.items if tagged & set(i.tags)]
    assert sorted(found(archive, "tag:Agent")) == sorted(agent)
    assert found(archive, "tag:agent") == found(archive, "tag:智能体")
    assert found(archive, "tag:agent") == found(archive, "tag:AGENTS")
    # [Reinforcement Learning] on the second day, [强化学习] on the first.
    assert found(archive, "tag:强化学习") == on(NEXT, 1) + on(DAY, 2, 7)
    assert found(archive, "tag:推理") == on(DAY, 1)  # [推理加速] is another topic


def test_ordering_is_newest_then_stars_then_rank(archive: Archive) -> None:
    hits = archive.search(parse_query("", today=NEXT), limit=1000)
    keys = [(-h.date.toordinal(), -(h.stars or 0), h.rank) for h in hits]
    assert keys == sorted(keys) and len(hits) == 18
    # Item 2 of the second day has no stars: it comes after the 2-star item 3.
    assert [h.rank for h in hits if h.date == NEXT] == [1, 4, 3, 2]


def test_or_and_negation_for_every_key(
    archive: Archive, digests: list[Digest], plan: PlanLimits
) -> None:
    everything = set(found(archive, ""))
    for text in [
        "tag:RL",
        "tag:RL tag:MoE",
        "source:量子位",
        "source:新智元 source:机器之心",
        "org:openai",
        "org:xai org:google",
        "date:2026-02-04",
        "since:2026-02-04",
        "until:2026-02-03",
        "stars:4",
        "强化",
        "qat",
    ]:
        positive = set(found(archive, text))
        assert positive, text
        assert positive == set(expected(archive, digests, text)), text
        negated = " ".join("-" + term for term in text.split())
        assert set(found(archive, negated)) == everything - positive, negated
        assert archive.count(parse_query(text, today=NEXT)) == len(positive)
        assert archive.count(parse_query(negated, today=NEXT)) == len(everything - positive)


def test_source_ignores_spacing_and_org_is_substring(archive: Archive) -> None:
    # The second day's item 3 spells its source "新 智 元".
    assert on(NEXT, 3) == [k for k in found(archive, "source:新智元") if k[0] == NEXT]
    assert found(archive, "source:新智") == []
    assert found(archive, 'org:"google deep"') == on(NEXT, 1)
    assert found(archive, "org:XAI") == on(NEXT, 4) + on(DAY, 9, 12)


def test_stars_and_date_ranges(archive: Archive) -> None:
    assert found(archive, "stars:5 since:2026-02-04") == on(NEXT, 1)
    assert found(archive, "stars:2 date:today") == on(NEXT, 1, 4, 3)
    assert found(archive, "date:yesterday stars:5") == on(DAY, 1, 2, 3)
    assert found(archive, "since:2026-02-05") == []
    assert len(found(archive, "until:2026-02-03")) == 14


def test_free_text_substrings_in_chinese_and_english(archive: Archive) -> None:
    # Two-character Chinese words use the LIKE fallback; longer ones the trigram index.
    assert len("强化") < PlanLimits().fts_min_chars
    assert found(archive, "强化 date:today") == on(NEXT, 1, 2)
    assert found(archive, "智能体集群") == on(DAY, 7, 11)
    assert found(archive, '"context learning"') == on(NEXT, 1) + on(DAY, 1)  # "Context  Learning"
    assert found(archive, "ａｇｅｎｔ date:today") == on(NEXT, 2)  # full-width in the text
    assert found(archive, "rl-framework") == on(NEXT, 1)  # resource URL
    assert found(archive, "qat int4 -显存") == []
    assert found(archive, "zzzz不存在") == []


@pytest.mark.parametrize(
    "text", ["%", "100%", "a_b", "_b", "a%c", "/", "\\", "%%", "*", "?", "[a]", "a*c"]
)
def test_like_wildcards_are_literal(
    archive: Archive, digests: list[Digest], plan: PlanLimits, text: str
) -> None:
    result = found(archive, text)
    assert result == expected(archive, digests, text)
    assert len(result) < len(found(archive, ""))
    if text == "a_b":
        assert result == on(NEXT, 1)  # not item 3's "aXbXc"
    if text == "a%c":
        assert result == []


def test_ascii_words_match_whole_words_and_cjk_substrings(
    archive: Archive, plan: PlanLimits
) -> None:
    """``RL`` is a word: not the "rl" in "Starlink"; Chinese keeps substring matching."""
    assert found(archive, "Starlink date:today") == on(NEXT, 4)
    assert (NEXT, 4) not in found(archive, "RL")
    assert (NEXT, 1) in found(archive, "RL")  # "RL 框架", "(RL)"-like neighbours count
    assert found(archive, "link date:today") == []  # only inside "Starlink" and URLs' words
    assert found(archive, "强化 date:today") == on(NEXT, 1, 2)  # inside 强化学习, 强化效果
    assert found(archive, "aXbXc") == on(NEXT, 3)
    assert found(archive, "aXb") == []


def test_category_key(archive: Archive, plan: PlanLimits) -> None:
    assert found(archive, "category:学术研究") == on(NEXT, 1, 2)
    assert found(archive, "category:产品动态") == on(NEXT, 4, 3)
    assert len(found(archive, "-category:学术研究")) == 14 + 2


def test_paging_and_count(archive: Archive, plan: PlanLimits) -> None:
    query = parse_query("since:2026-02-01", today=NEXT)
    every = archive.search(query, limit=1000)
    assert archive.count(query) == len(every) == 18
    pages = [archive.search(query, limit=5, offset=o) for o in range(0, 20, 5)]
    assert [len(p) for p in pages] == [5, 5, 5, 3]
    assert [h for page in pages for h in page] == every
    assert archive.search(query, limit=5, offset=100) == []
    assert archive.count(parse_query("tag:RL", today=NEXT)) == 3


@pytest.mark.parametrize(
    "text",
    ["", "tag:RL", "-tag:RL", "source:量子位", "-source:量子位", "强化", "-强化", "qat",
     "模型 tag:MoE", "tag:LLM source:量子位 模型", "org:openai", "since:2026-02-04"],
)  # fmt: skip
def test_capped_count_is_exact_below_the_cap_and_the_cap_above(
    archive: Archive, plan: PlanLimits, text: str
) -> None:
    query = parse_query(text, today=NEXT)
    total = len(found(archive, text))
    assert archive.count(query) == total
    for cap in sorted({1, 2, max(1, total - 1), max(1, total), total + 1, 1000}):
        assert archive.count(query, cap=cap) == min(total, cap), (text, cap)


def test_count_cap_must_be_positive(archive: Archive) -> None:
    with pytest.raises(ValueError, match="cap"):
        archive.count(parse_query("tag:RL", today=NEXT), cap=0)


# -- property: SQL search == in-memory matching ------------------------------------------------


def _vocabulary(digests: list[Digest]) -> dict[str, list[str]]:
    items = [item for d in digests for item in d.items]
    words: list[str] = []
    whole: set[str] = set()
    for item in items:
        text = item_search_text(item)
        for size in (1, 2, 3, 5):
            words += [text[i : i + size] for i in range(0, len(text) - size, 97)]
        whole |= text_words(text)
    # Whole words (answered from the word index), some as people type them.
    words += sorted(whole)[::7] + [w.upper() for w in sorted(whole)[3::29]]
    return {
        "tag": sorted({t for i in items for t in i.tags} | {"RL", "Agent", "agents", "LLM"}),
        "source": sorted({i.source for i in items if i.source} | {"量子"}),
        "org": sorted({o[:n] for i in items for o in i.orgs for n in (2, len(o))}),
        "date": ["2026-02-03", "2026-02-04", "today", "yesterday"],
        "since": ["2026-02-03", "2026-02-04"],
        "until": ["2026-02-03", "2026-02-04"],
        "stars": ["1", "2", "3", "4", "5"],
        "category": ["学术研究", "产品 动态", "研究", "none"],
        "text": sorted(
            {w.strip() for w in words if fold(w.strip())}
            | {"%", "_", "a_b", "*", "a*c", "[a", "?", "RL", "rl 框架", "starlink", "link"}
        ),
    }


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def query_texts(draw: st.DrawFn, vocabulary: dict[str, list[str]]) -> str:
    terms = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from([*KEYS, "text", "text"]))
        value = _quote(draw(st.sampled_from(vocabulary[key])))
        sign = "-" if draw(st.integers(0, 3)) == 0 else ""
        terms.append(f"{sign}{value}" if key == "text" else f"{sign}{key}:{value}")
    return " ".join(terms)


#: SQLite plan limits small enough that the two sample days take every branch of
#: ``bot.archive.sqlite_plan.SqlitePlan`` (window, index sets, intersections, sorting by id,
#: walking newest first, trigram prefixes and their fallback to a scan).
TINY_PLAN = PlanLimits(
    window_rows=8,
    window_text=6,
    narrow_cap=3,
    text_set_cap=5,
    probe_enough=1,
    sort_at_most=2,
    count_at_most=3,
    max_prefix_trigrams=2,
)


@pytest.fixture(params=[PlanLimits(), TINY_PLAN], ids=["default plan", "tiny plan"])
def plan(request: pytest.FixtureRequest) -> PlanLimits:
    return request.param


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_search_equals_in_memory_matching(
    archive: Archive, digests: list[Digest], plan: PlanLimits, data: st.DataObject
) -> None:
    text = data.draw(query_texts(_vocabulary(digests)), label="query")
    everything = expected(archive, digests, text)
    assert found(archive, text) == everything
    query = parse_query(text, today=NEXT)
    page = [(h.date, h.rank) for h in archive.search(query, limit=2)]
    assert page == everything[:2]
    page = [(h.date, h.rank) for h in archive.search(query, limit=2, offset=1)]
    assert page == everything[1:3]
    assert archive.count(query) == len(everything)
    assert archive.count(query, cap=3) == min(len(everything), 3)


@pytest.mark.parametrize(
    "text",
    [
        "模型 tag:MoE",  # a common word left to per-row tests, a rare tag from its index
        "模型 强化 -tag:RL",
        "tag:LLM source:量子位 模型",
        "source:机器之心 source:量子位 智能体",
        "org:openai 模型 stars:2",
    ],
)
def test_plans_agree_with_memory(
    archive: Archive, digests: list[Digest], plan: PlanLimits, text: str
) -> None:
    everything = expected(archive, digests, text)
    query = parse_query(text, today=NEXT)
    for limit, offset in [(1, 0), (2, 0), (2, 1), (1000, 0)]:
        page = archive.search(query, limit=limit, offset=offset)
        assert [(h.date, h.rank) for h in page] == everything[offset : offset + limit]
    assert archive.count(query) == len(everything)


def test_hits_carry_every_field(archive: Archive, digests: list[Digest]) -> None:
    by_key = {(d.date, i.rank): i for d in digests for i in d.items}
    for hit in archive.search(parse_query("", today=NEXT), limit=1000):
        original: Item = by_key[(hit.date, hit.rank)]
        assert Item(**hit.model_dump(exclude={"date"}), line=hit.line) == original


@pytest.mark.parametrize(
    "build",
    [
        lambda n: " ".join(f"tag:T{n}x{i}" for i in range(n)),
        lambda n: " ".join(f"-word{i}" for i in range(n)),
        lambda n: " ".join(f"-source:s{i} -org:o{i}" for i in range(n // 2)),
    ],
)
def test_the_largest_query_allowed_runs_on_both_databases(
    archive: Archive, digests: list[Digest], build: Any
) -> None:
    """MAX_TERMS terms of any shape stay under SQLite's expression limits (999 terms
    answered "archive not reachable"); one more is a query error naming the term."""
    from bot.errors import QueryError
    from bot.query.language import MAX_TERMS

    text = build(MAX_TERMS)
    assert found(archive, text) == expected(archive, digests, text)
    archive.count(parse_query(text, today=NEXT))
    with pytest.raises(QueryError, match=f"at most {MAX_TERMS}") as caught:
        parse_query(" ".join(["x"] * 999), today=NEXT)  # 999 terms in 1,997 characters
    assert caught.value.term == "x"
