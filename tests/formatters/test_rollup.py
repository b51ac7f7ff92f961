"""Weekly rollup payloads: accepted by each platform's validators, numbered through the week,
details one click away (Slack thread, Telegram expandable quotes), hostile text escaped."""

from __future__ import annotations

import datetime as dt

from bot.archive import Rollup, RollupDay
from bot.models import Hit, Section
from formatters import slack, telegram
from formatters.templates import Templates
from formatters.weekly import render_weekly
from tests.fakes.slack_validation import check_slack_message
from tests.fakes.telegram_validation import check_telegram_message


def hostile_rollup() -> Rollup:
    hit = Hit(
        rank=7,
        title="<!channel> *bold* <b>x</b> & [link](javascript:alert(1))",
        url="javascript:alert(1)",
        summary="@all <script> & </blockquote>",
        stars=4,
        tags=["RL", "<tag>"],
        date=dt.date(2026, 2, 4),
        sections=[Section(kind="tech", heading="Tech", markdown="- <b>x</b> & </blockquote>")],
    )
    safe = hit.model_copy(update={"rank": 2, "title": "Safe", "url": "https://example.com/s"})
    return Rollup(
        week="2026-W06",
        start=dt.date(2026, 2, 2),
        end=dt.date(2026, 2, 8),
        days=[RollupDay(date=hit.date, hits=[hit, safe])],
        considered=2,
    )


def test_slack_rollup_is_valid_threaded_and_escaped() -> None:
    messages = slack.render_rollup(hostile_rollup(), Templates("en"), thread=True)
    for message in messages:
        check_slack_message(message.model_dump())
    assert not messages[0].in_thread and all(m.in_thread for m in messages[1:])
    parent = str(messages[0].blocks)
    assert "<!channel>" not in parent and "&lt;!channel&gt;" in parent
    assert "<javascript:" not in str([m.blocks for m in messages])  # shown, never linked
    assert "1. " in parent and "2. " in parent  # numbered through the rollup, not by rank 7


def test_telegram_rollup_is_valid_with_expandable_details() -> None:
    messages = telegram.render_rollup(hostile_rollup(), Templates("zh"))
    for message in messages:
        check_telegram_message(message.model_dump())
    assert "周三 02-04" in messages[0].text
    assert "<blockquote expandable>" in messages[1].text
    assert "<script>" not in "".join(m.text for m in messages)


def test_every_platform_renders_a_rollup_for_delivery() -> None:
    rollup = hostile_rollup()
    for platform in ("slack", "telegram", "console", "file"):
        assert render_weekly(platform, rollup, Templates("en"))
    head = render_weekly("file", rollup, Templates("en"))[0]
    assert head == {
        "kind": "rollup",
        "week": "2026-W06",
        "start": "2026-02-02",
        "end": "2026-02-08",
        "items": 2,
        "duplicates": 0,
    }
