"""Crontab expressions as users write them, turned into APScheduler 3 triggers.

Crontab numbers the days of the week 0-7 from Sunday; APScheduler 3.x numbers them from
Monday (its documented "historical mistake"). So ``30 8 * * 1-5`` would silently deliver
Tuesday to Saturday. Every cron string in digestbot goes through here, where day numbers
are rewritten as names, which both agree on.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

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
