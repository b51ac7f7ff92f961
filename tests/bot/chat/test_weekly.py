"""``/ai week``, ``/ai trends`` and ``/ai schedule weekly`` through the command core, on a
real archive (SQLite and PostgreSQL) of a week of digests."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.archive import Archive
from bot.channels import delivery_jobs, load_channels
from bot.chat import (
    CommandCore,
    CommandRequest,
    ErrorReply,
    SubscriptionReply,
    TrendsReply,
    WeekReply,
)
from bot.config import Settings

NOW = dt.datetime(2026, 2, 9, 9, 0, tzinfo=dt.UTC)  # Monday of 2026-W07, in Shanghai too


@pytest.fixture
def core(week_archive: Archive) -> CommandCore:
    return CommandCore(week_archive, Settings(language="en"), clock=lambda: NOW)


def ask(core: CommandCore, text: str, channel: str = "C1") -> object:
    return core.handle(CommandRequest("slack", channel, "U1", None, text)).reply


def test_week_this_last_and_named(core: CommandCore) -> None:
    this = ask(core, "week")
    assert isinstance(this, WeekReply) and this.rollup.week == "2026-W07" and this.rollup.empty
    last = ask(core, "week last")
    named = ask(core, "week 2026-W06")
    assert isinstance(last, WeekReply) and isinstance(named, WeekReply)
    assert last.rollup == named.rollup and len(last.rollup.hits) == 10
    agent = ask(core, "week last tag:Agent -org:Meta")
    assert isinstance(agent, WeekReply)
    assert [h.title for h in agent.rollup.hits] == [
        "Agent SDK 发布",
        "代码 Agent 评测",
        "多智能体协作训练",
    ]


def test_a_subscribed_channels_rollup_holds_only_its_topics(core: CommandCore) -> None:
    assert isinstance(ask(core, "subscribe tag:多模态", channel="C9"), SubscriptionReply)
    reply = ask(core, "week last", channel="C9")
    assert isinstance(reply, WeekReply)
    assert [h.title for h in reply.rollup.hits] == ["Gemini 多模态更新", "世界模型 Marble"]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("week 2026-W54", "'2026-W54' is not an ISO week"),
        ("trends since:2026-02-10 until:2026-02-01", "since:2026-02-10 is after until"),
        ("trends tag:", "tag:"),
        ("schedule weekly fri 25:00", "'25:00'"),
    ],
)
def test_bad_input_is_named(core: CommandCore, text: str, complaint: str) -> None:
    if text.startswith("schedule"):
        ask(core, "subscribe")
    reply = ask(core, text)
    assert isinstance(reply, ErrorReply) and complaint in reply.message, reply


def test_trends_names_tags_and_counts_the_period(core: CommandCore) -> None:
    reply = ask(core, "trends tag:强化学习 since:2026-02-02 until:2026-02-08")
    assert isinstance(reply, TrendsReply) and reply.channel_id == "C1"
    [series] = reply.trends.series
    assert (series.tag, series.counts, series.previous) == ("强化学习", [5], 2)
    top = ask(core, "trends")
    assert isinstance(top, TrendsReply) and len(top.trends.series) == 5 and not top.trends.named


def test_schedule_weekly_turns_the_rollup_on_and_off(core: CommandCore) -> None:
    ask(core, "subscribe")
    reply = ask(core, "schedule weekly fri 17:30 Europe/Berlin")
    assert isinstance(reply, SubscriptionReply) and reply.action == "scheduled_weekly"
    assert (reply.digest, reply.weekly_schedule, reply.timezone) == (
        "both",
        "30 17 * * fri",
        "Europe/Berlin",
    )
    jobs = delivery_jobs(load_channels(core.settings, core.archive.subscriptions))
    assert [(j.key, j.schedule) for j in jobs] == [
        ("slack:C1", "0 9 * * *"),
        ("slack:C1/weekly", "30 17 * * fri"),
    ]
    ask(core, "schedule weekly only sat 10:00")
    jobs = delivery_jobs(load_channels(core.settings, core.archive.subscriptions))
    assert [(j.key, j.schedule) for j in jobs] == [("slack:C1/weekly", "0 10 * * sat")]
    off = ask(core, "schedule weekly off")
    assert isinstance(off, SubscriptionReply) and off.digest == "daily"
    jobs = delivery_jobs(load_channels(core.settings, core.archive.subscriptions))
    assert [j.key for j in jobs] == ["slack:C1"]
