"""Telegram HTML rendering: valid HTML within 4096 UTF-16 units, nothing lost or injected."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from bot.channels import Channel
from bot.chat import (
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    SearchReply,
    SubscriptionReply,
    actions,
)
from bot.models import Digest, Hit, Item, Section
from formatters import telegram
from formatters.payloads import TelegramMessage
from formatters.templates import Templates
from tests.fakes.telegram_validation import check_telegram_message, telegram_visible, utf16_len
from tests.formatters.coverage import expected_fragments, expected_links, missing, squash


def check_all(messages: list[TelegramMessage]) -> str:
    assert messages
    return "\n".join(check_telegram_message(m.model_dump()) for m in messages)


def test_reference_digest_headlines_then_details(reference: Digest, templates: Templates) -> None:
    messages = telegram.render_digest(reference, templates)
    check_all(messages)
    head = messages[0]
    assert head.text.startswith("<b>AI 每日情报 | 2026-02-03</b>\n共 14 条")
    assert not head.link_preview and head.reply_markup is None
    for item in reference.items:  # every headline: linked title, stars, summary
        assert f'<a href="{item.url}">{item.rank}. ' in head.text
        assert item.summary and squash(item.summary)[:20] in squash(telegram_visible(head.text))
    details = messages[1:]
    assert all("<blockquote expandable>" in m.text for m in details)
    assert all(not m.link_preview for m in messages)
    buttons = [b for m in details for row in m.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert [b["url"] for b in buttons] == [item.url for item in reference.items]


def test_every_item_fragment_and_link_appears(
    parsed_reference: Digest, templates: Templates
) -> None:
    messages = telegram.render_digest(parsed_reference, templates)
    text = check_all(messages)
    raw = "\n".join(m.text for m in messages)
    for item in parsed_reference.items:
        assert missing(expected_fragments(item), text) == [], item.rank
        for url in expected_links(item):
            assert html.escape(url) in raw, url


def test_hostile_content_is_inert(hostile: Digest, templates: Templates) -> None:
    messages = telegram.render_digest(hostile, templates)
    text = check_all(messages)  # the validator rejects any tag but Telegram's, and bad hrefs
    raw = "\n".join(m.text for m in messages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw and "<script" not in raw
    assert (
        '<a href="javascript' not in raw
        and '<a href="data' not in raw
        and '<a href="ftp' not in raw
    )
    for fragment in (
        "<!channel>",
        "<@U123>",
        "<#C1|x>",
        "<script>alert(1)</script>",
        "<already> &amp;",
    ):
        assert fragment in text
    assert "🧪🧬🚀" in text


def test_visible_length_counts_utf16_and_entities(templates: Templates) -> None:
    # 1,500 "<" are 6,000 characters of HTML but 1,500 visible units; emoji count two.
    body = "- " + "<" * 1500 + "\n- " + "🚀" * 1500 + "\n- " + "&" * 1500
    item = Item(rank=1, title="T", sections=[Section(kind="tech", heading="h", markdown=body)])
    messages = telegram.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="D", items=[item]), templates
    )
    text = check_all(messages)
    assert text.count("<") == 1500 and text.count("🚀") == 1500 and text.count("&") == 1500
    sizes = [utf16_len(telegram_visible(m.text)) for m in messages]
    assert max(sizes) <= 4096 and len(messages) >= 3


def test_long_section_splits_between_lines_and_reopens_the_quote(
    long_section: Digest, templates: Templates
) -> None:
    messages = telegram.render_digest(long_section, templates)
    check_all(messages)
    details = messages[1:]
    assert len(details) >= 2
    assert all(
        m.text.count("<blockquote expandable>") == m.text.count("</blockquote>") == 1
        for m in details
    )
    assert all("(续)" in m.text for m in details[1:])
    text = squash("".join(telegram_visible(m.text) for m in details))
    position = 0
    for fragment in expected_fragments(long_section.items[0])[2:]:
        found = text.find(fragment, position)
        assert found >= 0, fragment[:60]
        position = found + len(fragment)


def test_a_single_enormous_line_is_cut_without_losing_characters(templates: Templates) -> None:
    word = "supercalifragilistic" * 300  # 6,000 letters, no break opportunity at all
    item = Item(
        rank=1, title="T", summary="s", sections=[Section(kind="tech", heading="h", markdown=word)]
    )
    messages = telegram.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="D", items=[item]), templates
    )
    text = check_all(messages)
    assert word in text.replace("\n", "").replace("1. T (续)", "")


def test_unsafe_url_is_text_not_a_link_and_not_a_button(templates: Templates) -> None:
    item = Item(rank=1, title="T", url="javascript:alert(1)", summary="[x](data:text/html,hi)")
    messages = telegram.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="D", items=[item]), templates
    )
    check_all(messages)
    assert all("href" not in m.text and m.reply_markup is None for m in messages)


# --------------------------------------------------------------------------- replies


def _hit(rank: int) -> Hit:
    return Hit(
        rank=rank,
        title=f"Title {rank}",
        url=f"https://e.com/{rank}",
        date=dt.date(2026, 2, 3),
        stars=4,
    )


def _callbacks(messages: list[TelegramMessage]) -> list[str]:
    return [
        b["callback_data"]
        for m in messages
        if m.reply_markup
        for row in m.reply_markup["inline_keyboard"]
        for b in row
        if "callback_data" in b
    ]


def test_search_reply_keyboard(templates: Templates) -> None:
    reply = SearchReply(query="tag:RL", hits=[_hit(2), _hit(7)], total=5)
    messages = telegram.render_reply(reply, templates)
    text = check_all(messages)
    assert "tag:RL" in text and "Title 2" in text and "Title 7" in text
    assert _callbacks(messages) == [
        "d:2026-02-03:2",
        "d:2026-02-03:7",
        actions.encode_more("tag:RL", 2),
    ]
    last = telegram.render_reply(SearchReply(query="q", hits=[_hit(1)], total=1), templates)
    assert _callbacks(last) == ["d:2026-02-03:1"]
    empty = telegram.render_reply(SearchReply(query="<b>", hits=[], total=0), templates)
    assert "<b>" in check_all(empty)


@pytest.mark.parametrize("capped", [False, True])
def test_capped_total_shows_a_plus(templates: Templates, capped: bool) -> None:
    reply = SearchReply(query="q", hits=[_hit(1)], total=1000, total_capped=capped)
    text = check_all(telegram.render_reply(reply, templates))
    assert ("共 1000+ 条" in text) is capped
    assert ("共 1000 条" in text) is not capped


def test_digest_and_detail_replies(reference: Digest, templates: Templates) -> None:
    messages = telegram.render_reply(DigestReply(digest=reference), templates)
    check_all(messages)
    assert len(_callbacks(messages)) == 14
    hit = Hit(**reference.items[1].model_dump(), date=reference.date)
    detail = telegram.render_reply(ItemDetailReply(hit=hit), templates)
    text = check_all(detail)
    assert missing(expected_fragments(hit), text) == []
    assert detail[0].link_preview is True  # a single item: the preview helps


def test_text_replies(templates: Templates, templates_en: Templates) -> None:
    for language in (templates, templates_en):
        text = check_all(telegram.render_reply(HelpReply(), language))
        assert "/ai subscribe" in text and "stars:4" in text
    sub = Channel(
        "slack",
        "C1",
        "0 9 * * *",
        "Asia/Shanghai",
        (
            "tag:Agent",
            "org:<x>",
        ),
    )
    text = check_all(
        telegram.render_reply(SubscriptionReply(action="listed", subscription=sub), templates)
    )
    assert "tag:Agent" in text and "org:<x>" in text and "每天 09:00" in text
    text = check_all(
        telegram.render_reply(ErrorReply(message="bad <term>", example="/ai stars:4"), templates)
    )
    assert "bad <term>" in text and "/ai stars:4" in text
    assert "a & b" in check_all(telegram.render_reply(NoticeReply(message="a & b"), templates))


def test_empty_digest_renders_a_notice(templates: Templates) -> None:
    digest = Digest(date=dt.date(2026, 2, 3), title="D", items=[])
    text = check_all(telegram.render_digest(digest, templates))
    assert "没有条目" in text


def test_huge_title_and_summary_still_split_sensibly(templates: Templates) -> None:
    item = Item(
        rank=1,
        title="T" * 5000,
        summary="s " * 3000,
        sections=[Section(kind="tech", heading="h", markdown="- line\n" * 1500)],
    )
    messages = telegram.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="D", items=[item]), templates
    )
    text = check_all(messages)
    # Clipped (title 300, summary 1,000, sections 10,000 characters), ending with a link
    # to the source, so one item is a few messages, not dozens.
    assert "T" * 300 in text and "T" * 301 not in text
    assert 1000 < text.count("line") < 1500
    assert templates.label("original") in text
    assert len(messages) <= 5
