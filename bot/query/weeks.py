"""ISO weeks (``2026-W06``): the unit of weekly rollups, their ledger key and trend buckets.

Why its own type: the CLI (``--week 2026-W06``), chat (``/ai week last``), the scheduler
(the week a Friday rollup belongs to) and the trend counts must agree on where a week
starts (Monday) and ends (Sunday), and on how it is written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.errors import QueryError

_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO-8601 week, Monday to Sunday."""

    year: int
    week: int

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W06`` (or ``2026W6``); a QueryError names the text otherwise."""
        match = _WEEK.match(text)
        if match:
            year, week = int(match[1]), int(match[2])
            try:
                dt.date.fromisocalendar(year, week, 1)
            except ValueError:
                pass
            else:
                return cls(year, week)
        raise QueryError(f"'{text}' is not an ISO week: use YYYY-Www, e.g. 2026-W06", term=text)

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 7)

    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=n) for n in range(7)]

    def shift(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + dt.timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def weeks_between(first: dt.date, last: dt.date) -> list[IsoWeek]:
    """Every ISO week that overlaps [first, last], oldest first."""
    if last < first:
        return []
    out = [IsoWeek.of(first)]
    while out[-1].sunday < last:
        out.append(out[-1].shift(1))
    return out
