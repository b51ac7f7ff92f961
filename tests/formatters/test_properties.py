"""Property tests: arbitrary hostile text never yields an invalid payload or a live mention."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat import ErrorReply, SearchReply
from bot.models import Digest, Hit, Item, Section
from formatters import slack, telegram
from formatters.templates import Templates
from tests.fakes.slack_validation import (
    check_slack_message,
    live_mentions,
    slack_mrkdwn,
    slack_visible,
)
from tests.fakes.telegram_validation import check_telegram_message
from tests.formatters.coverage import squash

#: Subprocesses, crashes, replicas or property tests: outside the fast inner loop.
pytestmark = pytest.mark.slow

MENTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C1|x>",
    "<!subteam^S1>",
    "<b>",
    "</a>",
]
MARKUP = [
    *"<>&*_~`[]()|!#$\\-+.:/ \n",
    "**",
    "](",
    "](https://e.com)",
    "](javascript:x)",
    "&amp;",
]
WORDS = [
    "a",
    "Zed",
    "中文",
    "测试，",
    "🚀",
    "👨\u200d👩\u200d👧",
    "e\u0301",
    "https://e.com/x?a=1&b=2",
]

fragment = st.one_of(
    st.sampled_from(MENTIONS),
    st.sampled_from(MARKUP),
    st.sampled_from(WORDS),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
)
hostile_text = st.lists(fragment, min_size=1, max_size=40).map("".join)
long_text = st.lists(fragment, min_size=1, max_size=250).map("".join)

TEMPLATES = Templates("zh")


@st.composite
def items(draw: st.DrawFn) -> Item:
    return Item(
        rank=draw(st.integers(1, 99)),
        title=draw(hostile_text),
        orgs=draw(st.lists(hostile_text, max_size=2)),
        source=draw(st.none() | hostile_text),
        stars=draw(st.none() | st.integers(0, 12)),
        tags=draw(st.lists(hostile_text, max_size=4)),
        url=draw(
            st.sampled_from([None, "https://e.com/a?b=1&c=2", "javascript:alert(1)", "ftp://x/y"])
        ),
        summary=draw(st.none() | hostile_text),
        sections=[
            Section(kind="tech", heading=draw(hostile_text), markdown=draw(long_text)),
            Section(kind="other", heading="x", markdown=draw(hostile_text)),
        ],
    )


def _check_slack(messages: list) -> str:
    visible = []
    for message in messages:
        payload = message.model_dump()
        check_slack_message(payload)
        for text in slack_mrkdwn(payload):
            assert live_mentions(text) == [], text
            visible.append(slack_visible(text))
    return "\n".join(visible)


def _check_telegram(messages: list) -> str:
    return "\n".join(check_telegram_message(m.model_dump()) for m in messages)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items(), min_size=1, max_size=3), hostile_text)
def test_digests_always_render_valid_and_inert(batch: list[Item], title: str) -> None:
    digest = Digest(date=dt.date(2026, 2, 3), title=title, items=batch)
    slack_text = squash(_check_slack(slack.render_digest(digest, TEMPLATES)))
    telegram_text = squash(_check_telegram(telegram.render_digest(digest, TEMPLATES)))
    for item in batch:  # titles are plain text: every character of them arrives
        assert squash(item.title) in slack_text
        assert squash(item.title) in telegram_text


@settings(max_examples=40, deadline=None)
@given(hostile_text, st.lists(items(), min_size=0, max_size=3), hostile_text)
def test_replies_always_render_valid_and_inert(query: str, batch: list[Item], message: str) -> None:
    hits = [Hit(**item.model_dump(), date=dt.date(2026, 2, 3)) for item in batch]
    for reply in (
        SearchReply(query=query, hits=hits, total=len(hits) + 5),
        ErrorReply(message=message, example=query),
    ):
        _check_slack(slack.render_reply(reply, TEMPLATES))
        _check_telegram(telegram.render_reply(reply, TEMPLATES))
