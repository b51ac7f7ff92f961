"""Feishu cards for the weekly rollup, the trends chart card, and every card's post fallback.

Every payload is read back through the fake platform's own validators
(``tests.fakes.feishu_validation``): the 20 KB body, 200 elements per card, markup, links
and mentions as Feishu would show them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive, Rollup, count_trends, select_rollup
from bot.chat import TrendsReply
from bot.ingest import ingest_paths, parse_file
from bot.models import Digest, Hit, Item, Section
from bot.query import IsoWeek, parse_query
from formatters import feishu, feishu_replies
from formatters import rollup as weekly
from formatters.payloads import ChartImage, RobotMessage
from formatters.templates import Templates
from tests.fakes.feishu_validation import validate_feishu_message
from tests.fakes.png import check_png
from tests.formatters.test_rollup import hostile_rollup

DATA = Path(__file__).resolve().parent.parent / "data"
HOSTILE = Item(
    rank=1,
    title='<at user_id="all">全体</at> @所有人 [x](javascript:alert(1))',
    url="javascript:alert(1)",
    summary='@all <at user_id="all"></at> & <b>bold</b>',
    stars=3,
    tags=["RL", "<at>"],
    sections=[
        Section(kind="tech", heading="核心", markdown="- [js](javascript:x) @所有人 <at id=all>")
    ],
)


@pytest.fixture
def week_rollup(sqlite_url: str, week_dir: Path) -> Iterator[Rollup]:
    archive = Archive(sqlite_url)
    archive.create_schema()
    ingest_paths(archive, [str(week_dir)], workers=1)
    yield select_rollup(archive, IsoWeek(2026, 6))
    archive.close()


def read(messages: list[RobotMessage]) -> list[dict[str, Any]]:
    """Each card, and each card's fallback posts, as the fake Feishu shows them."""
    return [validate_feishu_message(m.body) for m in messages]


def fallbacks(messages: list[RobotMessage]) -> list[dict[str, Any]]:
    posts = [post for m in messages for post in m.fallback]
    texts = [feishu.text_fallback(post) for post in posts]
    return [validate_feishu_message(body) for body in (*posts, *texts)]


def test_the_weeks_rollup_has_every_item_in_order_with_panels_within_20_kb(
    week_rollup: Rollup,
) -> None:
    templates = Templates("zh")
    messages = feishu.render_rollup(week_rollup, templates)
    assert all(feishu.body_size(m.body) <= 19_800 for m in messages)
    shown = read(messages)
    text = "\n".join(m["text"] for m in shown)
    hits = weekly.shown_hits(week_rollup)
    assert len(hits) == 10
    # Every selected item, numbered 1..10 through the week, in display order.
    positions = [text.index(f"{hit.rank}. ") for hit in hits]
    assert positions == sorted(positions)
    for hit in hits:
        assert hit.title in text, hit.title
    links = [link for m in shown for link in m["links"]]
    firsts = [links.index(hit.url) for hit in hits]
    assert firsts == sorted(firsts)
    # Each item's details are one click away, in a collapsed panel of its own.
    with_details = [hit for hit in hits if hit.sections]
    assert sum(m["panels"] for m in shown) >= len(with_details) > 0
    assert all(
        e["expanded"] is False
        for m in messages
        for e in m.body["card"]["body"]["elements"]
        if e["tag"] == "collapsible_panel"
    )
    # Day headings, Monday first, each just before its first item.
    monday, sunday = text.index("周一 02-02"), text.index("周日 02-08")
    assert monday < text.index(hits[0].title) and monday < sunday < text.index(hits[-1].title)
    assert all(not m["mentions"] for m in shown)


def test_the_rollup_fallback_posts_carry_the_same_items(week_rollup: Rollup) -> None:
    messages = feishu.render_rollup(week_rollup, Templates("en"))
    posts = [validate_feishu_message(p) for m in messages for p in m.fallback]
    assert all(set(m.fallback[0]["content"]["post"]) == {"en_us"} for m in messages)
    text = "\n".join(p["text"] for p in posts)
    links = [link for p in posts for link in p["links"]]
    hits = weekly.shown_hits(week_rollup)
    assert [text.index(hit.title) for hit in hits] == sorted(text.index(h.title) for h in hits)
    assert all(hit.url in links for hit in hits)


def test_a_hostile_rollup_is_inert_in_cards_and_fallbacks() -> None:
    rollup = hostile_rollup()
    rollup.days[0].hits.insert(0, Hit(**HOSTILE.model_dump(), date=dt.date(2026, 2, 4)))
    messages = feishu.render_rollup(rollup, Templates("zh"))
    for seen in (read(messages), fallbacks(messages)):
        assert all(not m["mentions"] for m in seen), [m["mentions"] for m in seen]
        assert all(link.startswith("https://") for m in seen for link in m["links"])
        shown = "\n".join(m["text"] for m in seen).replace("\u200b", "")
        for fragment in ('<at user_id="all">', "@所有人", "@all", "javascript:alert(1)"):
            assert fragment in shown, fragment  # readable, as text


def test_many_small_items_respect_the_200_element_limit() -> None:
    items = [
        Item(
            rank=n,
            title=f"Item {n}",
            url=f"https://example.com/{n}",
            summary="s",
            sections=[Section(kind="tech", heading="H", markdown="short")],
        )
        for n in range(1, 121)
    ]
    digest = Digest(date=dt.date(2026, 2, 3), title="D", items=items)
    messages = feishu.render_digest(digest, Templates("en"))
    counts = [feishu.element_count(m.body["card"]) for m in messages]
    assert max(counts) <= feishu.ELEMENT_LIMIT < sum(counts)  # the limit split the cards
    shown = read(messages)  # the fake refuses a card over 200 elements
    links = [link for m in shown for link in m["links"]]
    assert [links.index(f"https://example.com/{n}") for n in range(1, 121)] == sorted(
        links.index(f"https://example.com/{n}") for n in range(1, 121)
    )


def test_the_reference_digest_fallback_has_every_item_and_stays_within_limits() -> None:
    digest = parse_file(DATA.parent.parent / "examples" / "digests" / "2026-02-03.md").digest
    messages = feishu.render_digest(digest, Templates("zh"))
    seen = fallbacks(messages)
    links = {link for m in seen for link in m["links"]}
    text = "\n".join(m["text"] for m in seen)
    for item in digest.items:
        assert item.url in links or item.url in text, item.rank
    assert all(feishu.body_size(p) <= feishu.BODY_LIMIT for m in messages for p in m.fallback)


def test_hostile_digest_posts_are_inert() -> None:
    digest = Digest(date=dt.date(2026, 2, 5), title='<at user_id="all">', items=[HOSTILE])
    posts = [p for m in feishu.render_digest(digest, Templates("zh")) for p in m.fallback]
    assert "<at" not in str(posts)
    elements = [e for p in posts for para in p["content"]["post"]["zh_cn"]["content"] for e in para]
    assert all(e["href"].startswith("https://") for e in elements if e["tag"] == "a")
    for seen in fallbacks(feishu.render_digest(digest, Templates("zh"))):
        assert not seen["mentions"]


def test_a_trends_reply_is_a_chart_then_a_card_the_chart_joins(
    sqlite_url: str, week_dir: Path
) -> None:
    archive = Archive(sqlite_url)
    archive.create_schema()
    ingest_paths(archive, [str(week_dir)], workers=1)
    try:
        today = dt.date(2026, 2, 9)
        query = parse_query("tag:RL tag:Agent since:2026-01-26", today=today)
        trends = count_trends(archive, query, today=today)
    finally:
        archive.close()
    items = feishu_replies.render_reply(TrendsReply(trends=trends), Templates("en"))
    chart, card = items[0], items[1]
    assert isinstance(chart, ChartImage) and isinstance(card, dict)
    assert check_png(chart.png)
    joined = feishu.with_image(card, "img_v2_test", chart)
    shown = validate_feishu_message({"msg_type": "interactive", "card": joined})
    assert shown["images"] == ["img_v2_test"]
    assert joined["body"]["elements"][0]["alt"]["content"].startswith(chart.title)
    assert "RL" in shown["text"] and "Agent" in shown["text"]
    assert "chart is" not in shown["text"]  # the picture is in the card itself


def test_an_empty_week_is_one_card_saying_so() -> None:
    empty = Rollup(
        week="2026-W06", start=dt.date(2026, 2, 2), end=dt.date(2026, 2, 8), days=[], considered=0
    )
    [message] = feishu.render_rollup(empty, Templates("en"))
    shown = validate_feishu_message(message.body)
    assert "2026-W06" in shown["title"] and shown["panels"] == 0
    assert [validate_feishu_message(p)["text"] for p in message.fallback]


def test_a_cards_text_is_readable_and_inert() -> None:
    digest = Digest(date=dt.date(2026, 2, 5), title="D", items=[HOSTILE])
    for message in feishu.render_digest(digest, Templates("zh")):
        body = {"msg_type": "text", "content": feishu.card_text(message.body["card"])}
        shown = validate_feishu_message(body)
        assert not shown["mentions"]
        plain = shown["text"].replace("\u200b", "")
        assert '<at user_id="all">全体</at>' in plain and "[x](javascript:alert(1))" in plain
        assert "&#" not in plain and "**" not in plain
