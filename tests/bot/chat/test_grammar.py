"""The ``/ai`` argument grammar: verbs versus queries, and schedules validated by APScheduler."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.chat.grammar import (
    ParsedCommand,
    is_mutating,
    parse_command,
    parse_schedule,
    similar_verb,
)
from bot.errors import CommandError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ParsedCommand("help", "")),
        ("   ", ParsedCommand("help", "")),
        ("help", ParsedCommand("help", "")),
        ("HELP", ParsedCommand("help", "")),
        ("today", ParsedCommand("today", "")),
        ("subscribe tag:Agent", ParsedCommand("subscribe", "tag:Agent")),
        ("subscribe  list", ParsedCommand("subscriptions", "")),
        ("subscribe\u00a0tag:RL\n-tag:开源", ParsedCommand("subscribe", "tag:RL -tag:开源")),
        ("unsubscribe all", ParsedCommand("unsubscribe", "all")),
        ("schedule 08:30 weekdays", ParsedCommand("schedule", "08:30 weekdays")),
        ("tag:RL", ParsedCommand("search", "tag:RL")),
        ("强化学习 QAT", ParsedCommand("search", "强化学习 QAT")),
        ('"today is" news', ParsedCommand("search", '"today is" news')),
    ],
)
def test_parse_command_splits_verbs_and_queries(text: str, expected: ParsedCommand) -> None:
    assert parse_command(text) == expected


def test_only_changes_need_admin_rights() -> None:
    assert is_mutating("subscribe tag:RL")
    assert is_mutating("unsubscribe")
    assert is_mutating("schedule 09:00")
    assert not is_mutating("subscribe list")
    assert not is_mutating("subscriptions")
    assert not is_mutating("tag:RL")
    assert not is_mutating("")


def test_similar_verb_spots_typos_but_not_queries() -> None:
    assert similar_verb("subscibe tag:RL") == "subscribe"
    assert similar_verb("tody") == "today"
    assert similar_verb("tag:subscribe") is None
    assert similar_verb("QAT") is None


def _fires(cron: str, tz: str, start: dt.datetime) -> list[dt.datetime]:
    trigger = CronTrigger.from_crontab(cron, timezone=ZoneInfo(tz))
    fires, previous, now = [], None, start
    for _ in range(7):
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        fires.append(nxt)
        previous, now = nxt, nxt + dt.timedelta(seconds=1)
    return fires


def test_weekdays_means_monday_to_friday_in_the_given_zone() -> None:
    spec = parse_schedule("08:30 weekdays Europe/Berlin")
    assert spec.timezone == "Europe/Berlin"
    fires = _fires(spec.cron, "Europe/Berlin", dt.datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC")))
    assert [f.strftime("%a %H:%M") for f in fires[:5]] == [
        "Mon 08:30",
        "Tue 08:30",
        "Wed 08:30",
        "Thu 08:30",
        "Fri 08:30",
    ]
    assert fires[5].strftime("%a") == "Mon"


def test_crontab_day_numbers_keep_their_crontab_meaning() -> None:
    # Crontab: 1-5 is Monday..Friday and 0 is Sunday (APScheduler 3 alone would shift them).
    spec = parse_schedule("30 8 * * 1-5")
    fires = _fires(spec.cron, "UTC", dt.datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC")))
    assert {f.strftime("%a") for f in fires} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    sunday = parse_schedule("0 7 * * 0")
    assert (
        _fires(sunday.cron, "UTC", dt.datetime(2026, 2, 2, tzinfo=ZoneInfo("UTC")))[0].strftime(
            "%a"
        )
        == "Sun"
    )
    assert parse_schedule("0 7 * * 0-6").cron == "0 7 * * *"


@pytest.mark.parametrize(
    ("text", "cron", "tz"),
    [
        ("08:30", "30 8 * * *", None),
        ("8:05 daily", "5 8 * * *", None),
        ("23:59 weekends UTC", "59 23 * * sat,sun", "UTC"),
        ("07:00 mon,wed,fri Asia/Tokyo", "0 7 * * mon,wed,fri", "Asia/Tokyo"),
        ("9:00 Asia/Shanghai", "0 9 * * *", "Asia/Shanghai"),
        ("0 9 * * mon-fri America/New_York", "0 9 * * mon-fri", "America/New_York"),
    ],
)
def test_parse_schedule_accepts(text: str, cron: str, tz: str | None) -> None:
    spec = parse_schedule(text)
    assert (spec.cron, spec.timezone) == (cron, tz)
    CronTrigger.from_crontab(spec.cron)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "time like 08:30"),
        ("25:00", "'25:00'"),
        ("08:30 someday", "'someday'"),
        ("08:30 daily Mars/Olympus", "'Mars/Olympus'"),
        ("0 9 * * 9", "'9'"),
        ("0 61 * * *", "'0 61 * * *'"),
        ("08:30 daily UTC extra", "'extra'"),
    ],
)
def test_parse_schedule_errors_name_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_schedule(text)
    assert named in str(info.value)
    assert info.value.example and info.value.example.startswith("/ai schedule")


@pytest.mark.parametrize("text", ["0 9 31 2 *", "* * * * *", "*/10 9 * * *"])
def test_a_schedule_that_never_fires_or_fires_every_few_minutes_is_refused(text: str) -> None:
    with pytest.raises(CommandError, match=r"never fires|more than once an hour"):
        parse_schedule(text)
