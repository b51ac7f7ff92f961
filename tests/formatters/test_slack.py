"""Slack Block Kit rendering: limits, threading, coverage of every item, no live mentions."""

from __future__ import annotations

import datetime as dt
import itertools

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
from bot.models import Digest, Hit, Item, Resource, Section
from formatters import slack
from formatters.payloads import SlackMessage
from formatters.templates import Templates
from tests.fakes.slack_validation import (
    check_slack_message,
    live_mentions,
    slack_mrkdwn,
    slack_visible,
)
from tests.formatters.coverage import expected_fragments, expected_links, missing, squash


def visible(messages: list[SlackMessage]) -> str:
    return "\n".join(slack_visible(t) for m in messages for t in slack_mrkdwn(m.model_dump())[1:])


def check_all(messages: list[SlackMessage]) -> None:
    assert messages
    for message in messages:
        payload = message.model_dump()
        check_slack_message(payload)
        assert payload["text"].strip(), "every message has a notification fallback"
        for text in slack_mrkdwn(payload):
            assert live_mentions(text) == [], text


def test_reference_digest_is_a_parent_and_thread_replies(
    reference: Digest, templates: Templates
) -> None:
    messages = slack.render_digest(reference, templates)
    check_all(messages)
    parent, replies = messages[0], messages[1:]
    assert not parent.in_thread and all(m.in_thread for m in replies)
    assert parent.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "AI 每日情报 | 2026-02-03", "emoji": True},
    }
    assert "14" in parent.blocks[1]["elements"][0]["text"]
    assert "AI 每日情报" in parent.text and "14" in parent.text
    # One headline section per item, each linked to the item url, with its tags in context.
    headlines = [b for b in parent.blocks if b["type"] == "section"]
    assert len(headlines) == 14
    for item, block in zip(reference.items, headlines, strict=True):
        assert block["text"]["text"].startswith(f"*<{item.url}|{item.rank}. ")
        assert "🌟" * item.stars in block["text"]["text"]
        assert item.summary and squash(item.summary)[:20] in squash(
            slack_visible(block["text"]["text"])
        )
    contexts = [b for b in parent.blocks[2:] if b["type"] == "context"]
    assert contexts[0]["elements"][0]["text"] == "🏷 " + " · ".join(reference.items[0].tags)
    # Each item's details follow in its own thread message(s), in order.
    titles = [m.text for m in replies]
    assert titles[0].startswith("1. [腾讯混元/复旦] CL-bench")
    assert len(replies) == 14


def test_every_item_fragment_and_link_appears(
    parsed_reference: Digest, templates: Templates
) -> None:
    messages = slack.render_digest(parsed_reference, templates)
    check_all(messages)
    text = visible(messages)
    raw = "\n".join(t for m in messages for t in slack_mrkdwn(m.model_dump()))
    assert len(parsed_reference.items) == 14
    for item in parsed_reference.items:
        assert missing(expected_fragments(item), text) == [], item.rank
        assert f"<{item.url}|" in raw
        for url in expected_links(item):  # a link, or a bare URL that Slack auto-links
            assert url.replace("&", "&amp;") in raw, url


def test_hostile_content_is_inert(hostile: Digest, templates: Templates) -> None:
    messages = slack.render_digest(hostile, templates)
    check_all(messages)
    raw = "\n".join(t for m in messages for t in slack_mrkdwn(m.model_dump()))
    assert "&lt;!channel&gt;" in raw and "&lt;@U123&gt;" in raw and "&lt;#C1|x&gt;" in raw
    assert "&lt;!subteam^S1&gt;" in raw and "&lt;script&gt;" in raw
    # Non-http(s) targets are never links (live_mentions flags any other <...>), only text.
    assert "<javascript" not in raw and "<data:" not in raw and "<ftp:" not in raw
    assert "(ftp://example.com/x)" in raw
    # The reader still sees every character of it.
    text = visible(messages)
    for fragment in (
        "<!channel>",
        "<@U123>",
        "<#C1|x>",
        "<script>alert(1)</script>",
        "<already> &amp;",
    ):
        assert fragment in text


def test_header_plain_text_is_not_escaped_and_long_titles_fall_back(templates: Templates) -> None:
    digest = Digest(date=dt.date(2026, 2, 3), title="A & B <x> " + "长" * 200, items=[])
    messages = slack.render_digest(digest, templates)
    check_all(messages)
    assert messages[0].blocks[0]["type"] == "section"  # 150 is the header limit
    assert "A &amp; B &lt;x&gt;" in messages[0].blocks[0]["text"]["text"]
    short = slack.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="A & B", items=[]), templates
    )
    assert short[0].blocks[0]["text"]["text"] == "A & B | 2026-02-03"


def test_long_section_splits_without_losing_a_character(
    long_section: Digest, templates: Templates
) -> None:
    messages = slack.render_digest(long_section, templates)
    check_all(messages)
    item = long_section.items[0]
    details = [m for m in messages if m.in_thread]
    sections = [b for m in details for b in m.blocks if b["type"] == "section"]
    assert len(sections) >= 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    # Every line and word of the section arrives, in order.
    text = squash(visible(details))
    position = 0
    for fragment in expected_fragments(item)[2:]:
        found = text.find(fragment, position)
        assert found >= 0, fragment[:60]
        position = found + len(fragment)
    # No word is cut: at every boundary between blocks, the two sides are not both letters.
    for left, right in itertools.pairwise(sections):
        end, start = (
            slack_visible(left["text"]["text"])[-1],
            slack_visible(right["text"]["text"])[0],
        )
        assert not (end.isascii() and end.isalnum() and start.isascii() and start.isalnum())


def test_many_items_split_the_parent_into_thread_continuations(templates: Templates) -> None:
    items = [
        Item(rank=i, title=f"Item {i}", url=f"https://e.com/{i}", tags=["t"]) for i in range(1, 61)
    ]
    messages = slack.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="Big", items=items), templates
    )
    check_all(messages)
    headline_messages = [m for m in messages if any(b["type"] == "context" for b in m.blocks[1:])]
    assert len(headline_messages) >= 3
    assert not messages[0].in_thread and all(m.in_thread for m in messages[1:])
    shown = [
        t for m in messages for b in m.blocks if b["type"] == "section" for t in [b["text"]["text"]]
    ]
    for i in range(1, 61):
        assert any(f"|{i}. Item {i}>" in t for t in shown)


def test_unsafe_item_url_is_not_linked(templates: Templates) -> None:
    item = Item(rank=1, title="T", url="javascript:alert(1)", summary="s")
    messages = slack.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="D", items=[item]), templates
    )
    check_all(messages)
    assert all("javascript" not in t for m in messages for t in slack_mrkdwn(m.model_dump()))


# --------------------------------------------------------------------------- replies


def _hit(rank: int, **kw: object) -> Hit:
    data: dict[str, object] = {
        "rank": rank,
        "title": f"Title {rank}",
        "url": f"https://example.com/{rank}",
        "date": dt.date(2026, 2, 3),
        "stars": 4,
        "tags": ["RL", "Agent"],
        "source": "量子位",
    }
    data.update(kw)
    return Hit.model_validate(data)


def _buttons(messages: list[SlackMessage]) -> list[dict[str, object]]:
    found = []
    for m in messages:
        for b in m.blocks:
            if "accessory" in b:
                found.append(b["accessory"])
            found += [e for e in b.get("elements", []) if e.get("type") == "button"]
    return found


def test_search_reply_has_details_and_more_buttons(templates: Templates) -> None:
    reply = SearchReply(query="tag:RL", hits=[_hit(2), _hit(7)], total=5, offset=0, limit=2)
    messages = slack.render_reply(reply, templates)
    check_all(messages)
    buttons = _buttons(messages)
    details = [b for b in buttons if b["action_id"] == actions.DETAILS]
    assert [b["value"] for b in details] == ["d:2026-02-03:2", "d:2026-02-03:7"]
    more = [b for b in buttons if b["action_id"] == actions.MORE]
    assert [b["value"] for b in more] == [actions.encode_more("tag:RL", 2)]
    assert "tag:RL" in messages[0].text
    text = visible(messages)
    assert "Title 2" in text and "Title 7" in text and "2026-02-03" in text and "RL" in text


@pytest.mark.parametrize("capped", [False, True])
def test_capped_total_shows_a_plus(templates_en: Templates, capped: bool) -> None:
    reply = SearchReply(query="q", hits=[_hit(1), _hit(2)], total=1000, total_capped=capped)
    messages = slack.render_reply(reply, templates_en)
    check_all(messages)
    plus = "+" if capped else ""
    assert f"1000{plus} results, showing 1–2" in visible(messages)
    more = [b for b in _buttons(messages) if b["action_id"] == actions.MORE]
    assert [b["text"]["text"] for b in more] == [f"More (2/1000{plus})"]


def test_search_reply_without_more(templates: Templates) -> None:
    last_page = SearchReply(query="x", hits=[_hit(1)], total=3, offset=2)
    assert not [
        b
        for b in _buttons(slack.render_reply(last_page, templates))
        if b["action_id"] == actions.MORE
    ]
    # Slack button values hold 2,000 characters: an 80-character query keeps its button,
    # one past the limit loses it (the fake refuses longer values).
    long = SearchReply(query="x" * 80, hits=[_hit(1)], total=9)
    messages = slack.render_reply(long, templates)
    check_all(messages)
    [button] = [b for b in _buttons(messages) if b["action_id"] == actions.MORE]
    assert actions.decode(button["value"]) == actions.MoreAction("x" * 80, 1)
    too_long = SearchReply(query="x" * 2000, hits=[_hit(1)], total=9)
    messages = slack.render_reply(too_long, templates)
    check_all(messages)
    assert not [b for b in _buttons(messages) if b["action_id"] == actions.MORE]


def test_search_reply_with_many_hits_respects_block_limit(templates: Templates) -> None:
    reply = SearchReply(query="q", hits=[_hit(i) for i in range(1, 81)], total=200, limit=80)
    messages = slack.render_reply(reply, templates)
    check_all(messages)
    assert len(messages) >= 2
    assert len([b for b in _buttons(messages) if b["action_id"] == actions.DETAILS]) == 80


def test_empty_search_reply(templates: Templates) -> None:
    messages = slack.render_reply(SearchReply(query="<!here>", hits=[], total=0), templates)
    check_all(messages)
    assert "没有找到" in visible(messages) and "<!here>" in visible(messages)


def test_digest_and_detail_replies(reference: Digest, templates: Templates) -> None:
    messages = slack.render_reply(DigestReply(digest=reference), templates)
    check_all(messages)
    assert not any(m.in_thread for m in messages)
    details = [b for b in _buttons(messages) if b["action_id"] == actions.DETAILS]
    assert len(details) == 14
    hit = Hit(**reference.items[6].model_dump(), date=reference.date)
    detail = slack.render_reply(ItemDetailReply(hit=hit), templates)
    check_all(detail)
    assert missing(expected_fragments(hit), visible(detail)) == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_help_lists_every_command_and_query_key(language: str) -> None:
    messages = slack.render_reply(HelpReply(), Templates(language))  # type: ignore[arg-type]
    check_all(messages)
    text = visible(messages)
    for command in (
        "/ai today", "/ai latest", "/ai help", "/ai subscribe", "/ai unsubscribe",
        "/ai subscriptions", "/ai schedule HH:MM", "tag:", "source:", "org:", "date:",
        "since:", "until:", "stars:",
    ):  # fmt: skip
        assert command in text, command


def test_subscription_error_and_notice_replies(
    templates: Templates, templates_en: Templates
) -> None:
    sub = Channel("slack", "C1", "0 9 * * *", "Asia/Shanghai", ("tag:Agent",))
    reply = SubscriptionReply(
        action="subscribed",
        subscription=sub,
        topic="tag:Agent",
        schedule="30 8 * * 1-5",
        timezone="Europe/Berlin",
    )
    text = visible(slack.render_reply(reply, templates_en))
    assert (
        "tag:Agent" in text and "08:30" in text and "Weekdays" in text and "Europe/Berlin" in text
    )
    gone = visible(slack.render_reply(SubscriptionReply(action="unsubscribed"), templates))
    assert "退订" in gone
    error = slack.render_reply(
        ErrorReply(message="unknown key 'foo:'", example="/ai tag:RL"), templates
    )
    check_all(error)
    assert "unknown key 'foo:'" in visible(error) and "/ai tag:RL" in visible(error)
    notice = slack.render_reply(NoticeReply(message="<!channel> done & dusted"), templates)
    check_all(notice)
    assert "&lt;!channel&gt; done &amp; dusted" in notice[0].blocks[0]["text"]["text"]


def test_resources_not_shown_by_sections_are_listed_once(templates: Templates) -> None:
    item = Item(
        rank=1,
        title="T",
        sections=[
            Section(kind="tech", heading="核心技术", markdown="- see [paper](https://a.org/p)")
        ],
        resources=[
            Resource(title="paper", url="https://a.org/p"),
            Resource(url="https://b.org/code"),
        ],
    )
    messages = slack.render_digest(
        Digest(date=dt.date(2026, 2, 3), title="D", items=[item]), templates
    )
    raw = "\n".join(t for m in messages for t in slack_mrkdwn(m.model_dump()))
    assert raw.count("<https://a.org/p|") == 1
    assert raw.count("<https://b.org/code|https://b.org/code>") == 1


def test_empty_digest_renders_a_notice(templates: Templates) -> None:
    messages = slack.render_digest(Digest(date=dt.date(2026, 2, 3), title="D", items=[]), templates)
    check_all(messages)
    assert len(messages) == 1 and "没有条目" in visible(messages)
