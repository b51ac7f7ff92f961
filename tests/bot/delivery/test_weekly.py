"""Scheduled weekly rollups on the real service: APScheduler, the ledger, the fake Slack.

The week's digests are the sample week (tests/data/week, ISO week 2026-W06) re-dated onto
the current ISO week, so the rollup the scheduler fires "now" has items to post.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from bot.archive import Kind
from bot.channels import Channel
from bot.config import load_settings
from bot.delivery import Outcome
from bot.delivery.weekly import WeeklyPlanner
from bot.query import IsoWeek, TagAliases
from bot.runtime import Service
from tests.fakes import FakeSlack
from tests.support.delivery_kit import fast_timings, write_config

SAMPLE_WEEK = IsoWeek(2026, 6)


def this_week_sources(source: Path, target: Path) -> IsoWeek:
    """The sample week's seven files, re-dated Monday..Sunday of the current ISO week."""
    week = IsoWeek.of(dt.datetime.now(dt.UTC).date())
    target.mkdir()
    for old, new in zip(SAMPLE_WEEK.days(), week.days(), strict=True):
        text = (source / f"{old.isoformat()}.md").read_text(encoding="utf-8")
        (target / f"{new.isoformat()}.md").write_text(
            text.replace(old.isoformat(), new.isoformat()), encoding="utf-8"
        )
    return week


def fired_minutes_ago(minutes: int, *, weekly: bool = False) -> str:
    """A cron (UTC) that fired ``minutes`` ago: daily, or on that weekday only."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    day = moment.strftime("%a").lower() if weekly else "*"
    return f"{moment.minute} {moment.hour} * * {day}"


@pytest.fixture
def make_service(
    tmp_path: Path,
    fake_slack: FakeSlack,
    services: list[Service],
    week_dir: Path,
) -> Callable[[], Service]:
    this_week_sources(week_dir, tmp_path / "digests")
    channels: list[dict[str, Any]] = [
        {
            "platform": "slack",
            "id": "C_BOTH",
            "digest": "both",
            "weekly_schedule": fired_minutes_ago(5, weekly=True),
        },
        {
            "platform": "slack",
            "id": "C_WEEKLY",
            "digest": "weekly",
            "weekly_schedule": fired_minutes_ago(5, weekly=True),
            "topics": ["tag:RL"],
        },
    ]
    config = write_config(
        tmp_path,
        channels=channels,
        sources=["digests/*.md"],
        slack_url=fake_slack.api_url,
        # The sample week is re-dated to this week, days ahead of today included.
        extra={
            "schedule": fired_minutes_ago(5),
            "wait_for_digest": "0s",
            "sources_settle": "0s",
            "max_future": "7d",
        },
        timings=fast_timings(),
    )

    def make() -> Service:
        service = Service(load_settings(config, environ={}), listeners=False)
        services.append(service)
        return service

    return make


async def results(service: Service, count: int) -> list[Any]:
    """The service's delivery results once ``count`` of them are in (bounded wait)."""
    for _ in range(400):
        if len(service.results) >= count:
            break
        await asyncio.sleep(0.025)
    return sorted(service.results, key=lambda r: r.channel.key)


def parents(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        m for m in fake.messages(channel) if not m.get("thread_ts") or m["thread_ts"] == m["ts"]
    ]


async def test_digest_both_gets_the_daily_digest_and_the_rollup_each_exactly_once(
    make_service: Callable[[], Service], fake_slack: FakeSlack
) -> None:
    week = IsoWeek.of(dt.datetime.now(dt.UTC).date())
    service = make_service()
    await service.start()
    jobs = {"slack:C_BOTH", "slack:C_BOTH/weekly", "slack:C_WEEKLY/weekly"}
    assert set(service.scheduler.next_runs()) == jobs
    first = await results(service, 3)
    await service.stop()
    assert [(r.channel.key, r.outcome) for r in first] == [
        ("slack:C_BOTH", Outcome.DELIVERED),
        ("slack:C_BOTH/weekly", Outcome.DELIVERED),
        ("slack:C_WEEKLY/weekly", Outcome.DELIVERED),
    ]
    daily, weekly, rl_only = first
    assert daily.digest_date == week.sunday  # the newest digest
    assert weekly.digest_date == rl_only.digest_date == week.monday
    both = fake_slack.messages("C_BOTH")
    titles = [m["text"] for m in parents(fake_slack, "C_BOTH")]
    assert len(titles) == 2 and sum("每周精选" in t for t in titles) == 1
    # The rollup: a parent and one thread reply per picked item (10 of 15, 2 repeats dropped).
    assert len(both) == daily.total + weekly.total and weekly.total == 11
    # Only RL items (aliases folded: RL, 强化学习, Reinforcement Learning) for the channel
    # whose topic is tag:RL, the reprint of Monday's R2 dropped; and no daily digest there.
    assert rl_only.total == 1 + 4 and len(fake_slack.messages("C_WEEKLY")) == 5
    ledger = service.archive.ledger
    record = ledger.status("slack", "C_BOTH", week.monday, kind=Kind.WEEKLY)
    assert record is not None and record.status.value == "done" and record.message_count == 11

    # A restart catches every run up again (still within the grace period): the daily digest
    # finds nothing newer than Sunday's, and the ledger makes the rollups no-ops.
    again = make_service()
    await again.start()
    second = await results(again, 3)
    await again.stop()
    assert [(r.channel.key, r.outcome) for r in second] == [
        ("slack:C_BOTH", Outcome.NOTHING_NEW),
        ("slack:C_BOTH/weekly", Outcome.ALREADY),
        ("slack:C_WEEKLY/weekly", Outcome.ALREADY),
    ]
    assert len(fake_slack.messages("C_BOTH")) == len(both)
    assert len(fake_slack.messages("C_WEEKLY")) == 5


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Sunday 23:30 Shanghai, on time: the week that is ending.
        (dt.datetime(2026, 2, 8, 15, 30, tzinfo=dt.UTC), IsoWeek(2026, 6)),
        # Caught up 40 minutes late, past midnight: still that week, not the new one.
        (dt.datetime(2026, 2, 8, 16, 10, tzinfo=dt.UTC), IsoWeek(2026, 6)),
        # Wednesday: the last scheduled rollup was the Sunday before.
        (dt.datetime(2026, 2, 11, 4, 0, tzinfo=dt.UTC), IsoWeek(2026, 6)),
    ],
)
def test_a_scheduled_rollup_covers_the_week_of_its_scheduled_moment(
    now: dt.datetime, expected: IsoWeek
) -> None:
    channel = Channel(
        "slack", "C1", "0 9 * * *", "Asia/Shanghai", weekly_schedule="30 23 * * sun"
    ).as_weekly()
    planner = WeeklyPlanner(
        cast(Any, None), lambda platform, rollup: [], aliases=TagAliases(), clock=lambda: now
    )
    assert planner.week_for(channel) == expected
