"""Crontab expressions as users write them, turned into APScheduler 3 triggers.

Crontab numbers the days of the week 0-7 from Sunday; APScheduler 3.x numbers them from
Monday (its documented "historical mistake"). So ``30 8 * * 1-5`` would silently deliver
Tuesday to Saturday. Every cron string in digestbot goes through here, where day numbers
are rewritten as names, which both agree on.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAY_RANGE = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\d+))?$")


def crontab_days_to_names(field: str) -> str:
    """Rewrite crontab day numbers (0/7 = Sunday) as names; raise ValueError if out of range.

    Numeric ranges are expanded (``0-5`` → ``sun,mon,…,fri``) because a range of names
    that wraps past Sunday means nothing to APScheduler.
    """
    names: list[str] = []
    for part in field.lower().split(","):
        if part.startswith("*/"):
            part = "0-6" + part[1:]  # every Nth day counted from Sunday, as crontab does
        match = _DAY_RANGE.match(part)
        if not match:
            names.append(part)
            continue
        first = int(match[1])
        last = int(match[2]) if match[2] else first
        step = int(match[3]) if match[3] else 1
        if first > 7 or last > 7 or first > last or step < 1:
            raise ValueError(f"day of week '{part}' is out of range (0-7 from Sunday, or mon..sun)")
        names.extend(_DAY_NAMES[number] for number in range(first, last + 1, step))
    unique = list(dict.fromkeys(names))
    return "*" if set(unique) >= set(_DAY_NAMES) else ",".join(unique)


def normalize_crontab(expr: str) -> str:
    """The same 5-field expression with its day-of-week field in names."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    fields[4] = crontab_days_to_names(fields[4])
    return " ".join(fields)


def cron_trigger(expr: str, timezone: str | None = None) -> CronTrigger:
    """An APScheduler trigger for a standard crontab expression; ValueError if invalid."""
    zone = ZoneInfo(timezone) if timezone else None
    return CronTrigger.from_crontab(normalize_crontab(expr), timezone=zone)


# -- time zones and human schedules (config and ``/ai schedule`` read them alike) ----------

_HHMM = re.compile(r"^([01]?\d|2[0-3])[:：.]([0-5]\d)$")
NAMED_DAYS = {
    "daily": "*",
    "everyday": "*",
    "weekdays": "mon-fri",
    "workdays": "mon-fri",
    "weekends": "sat,sun",
    "weekend": "sat,sun",
}


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def check_timezone(value: str | None) -> str | None:
    """Reject unknown IANA zone names at load time rather than at 09:00, with a suggestion."""
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown timezone {value!r} (use an IANA name like Asia/Shanghai){_zone_hint(value)}"
        ) from exc
    return value


@dataclass(frozen=True)
class ScheduleSpec:
    """A validated delivery time: a 5-field cron (day names, not numbers) and maybe a zone."""

    cron: str
    timezone: str | None


def parse_schedule(text: str) -> ScheduleSpec:
    """``HH:MM [daily|weekdays|weekends|DAYS] [TZ]`` or ``M H DOM MON DOW [TZ]``.

    ValueError names the part that is wrong; chat and config wrap it in their own error.
    """
    parts = text.split()
    if not parts:
        raise ValueError("Tell me when to deliver: a time like 08:30.")
    match = _HHMM.match(parts[0])
    if match:
        hour, minute = int(match[1]), int(match[2])
        rest = parts[1:]
        days = "*"
        if rest and not _looks_like_zone(rest[0]):
            days = _days_field(rest.pop(0))
        cron = f"{minute} {hour} * * {days}"
    elif len(parts) >= 5:
        fields, rest = parts[:5], parts[5:]
        fields[4] = _day_names(fields[4])
        cron = " ".join(fields)
    else:
        raise ValueError(
            f"'{parts[0]}' is not a time: use HH:MM (24-hour) or a 5-field cron expression."
        )
    try:
        check_fires_sensibly(cron)
    except ValueError as exc:
        raise ValueError(f"'{cron}' is not a valid schedule: {exc}.") from exc
    timezone = None
    if rest:
        timezone = rest.pop(0)
        try:
            check_timezone(timezone)
        except ValueError as exc:
            raise ValueError(
                f"Unknown timezone '{timezone}': use an IANA name like Asia/Shanghai or "
                f"Europe/Berlin.{_zone_hint(timezone)}"
            ) from exc
    if rest:
        raise ValueError(f"Unexpected '{' '.join(rest)}' after the schedule.")
    return ScheduleSpec(cron=cron, timezone=timezone)


def _zone_hint(name: str) -> str:
    """`` — did you mean 'Asia/Shanghai'?`` for a near miss (case or a typo)."""
    zones = _zones()
    close = difflib.get_close_matches(name.lower(), list(zones), n=1, cutoff=0.6)
    return f" — did you mean {zones[close[0]]!r}?" if close else ""


def _looks_like_zone(token: str) -> bool:
    return "/" in token or token.upper() == "UTC"


def _day_names(field: str) -> str:
    try:
        return crontab_days_to_names(field)
    except ValueError as exc:
        raise ValueError(f"{str(exc).capitalize()}.") from exc


def _days_field(token: str) -> str:
    lowered = token.lower()
    if lowered in NAMED_DAYS:
        return NAMED_DAYS[lowered]
    field = _day_names(lowered)
    try:
        cron_trigger(f"0 0 * * {field}")
    except ValueError as exc:
        raise ValueError(
            f"'{token}' is not a set of days: use daily, weekdays, weekends or e.g. mon,wed,fri."
        ) from exc
    return field


#: Schedules firing more often than this are refused: one digest a day, not a flood.
MIN_GAP_SECONDS = 3600
#: How many future fire times are looked at for that.
_SAMPLES = 30


def check_fires_sensibly(expr: str, timezone: str | None = None) -> None:
    """ValueError unless ``expr`` fires at all and at most once an hour.

    ``0 9 31 2 *`` (February 31st) never fires: the channel would silently get nothing;
    ``* * * * *`` fires every minute. Both are mistakes worth naming at load."""
    trigger = cron_trigger(expr, timezone)
    now = dt.datetime.now(ZoneInfo(timezone) if timezone else dt.UTC)
    fire = trigger.get_next_fire_time(None, now)
    if fire is None:
        raise ValueError("it never fires (no such date); check the day and month fields")
    for _ in range(_SAMPLES):
        following = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
        if following is None:
            return
        if (following - fire).total_seconds() < MIN_GAP_SECONDS:
            raise ValueError("it fires more than once an hour; a digest is daily (e.g. 0 9 * * *)")
        fire = following
