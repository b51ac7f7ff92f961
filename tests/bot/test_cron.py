"""Crontab day numbers mean what crontab says, not what APScheduler 3 assumes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.cron import cron_trigger, crontab_days_to_names, normalize_crontab

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("0-7", "*"),
        ("1-5/2", "mon,wed,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("*/3", "sun,wed,sat"),
        ("mon-fri", "mon-fri"),
        ("*", "*"),
    ],
)
def test_day_numbers_become_names(field: str, names: str) -> None:
    assert crontab_days_to_names(field) == names


@pytest.mark.parametrize("field", ["8", "5-2", "1-5/0"])
def test_out_of_range_days_are_rejected(field: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        crontab_days_to_names(field)


def test_weekday_schedule_skips_the_weekend_in_its_timezone() -> None:
    trigger = cron_trigger("30 8 * * 1-5", "Asia/Shanghai")
    friday_noon = dt.datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
    assert trigger.get_next_fire_time(None, friday_noon) == dt.datetime(
        2026, 11, 30, 8, 30, tzinfo=SHANGHAI
    )


def test_sunday_is_zero() -> None:
    trigger = cron_trigger("0 9 * * 0", "UTC")
    saturday = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    fire = trigger.get_next_fire_time(None, saturday)
    assert fire is not None and fire.weekday() == 6


def test_field_count_is_checked() -> None:
    with pytest.raises(ValueError, match="expected 5"):
        normalize_crontab("0 9 * *")
