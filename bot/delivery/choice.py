"""Which digest a channel gets next: unfinished ones first, then the newest new one.

The rules, and why:

- A delivery that started and did not finish (a crash, a release after the window, a
  paused platform) is finished first, oldest first, as long as it is within ``max_age``:
  a newer digest must not abandon an older, half-posted one. Older ones are *stale*: the
  deliverer gives them up loudly (log, metric, ``/healthz``, ``subscriptions list``).
- Otherwise the newest archived date with no ledger row for this channel, within
  ``max_age``, newer than every date the channel already has a row for. This is by date,
  never by "the last delivered date" alone: dates more than ``max_future`` (a day) ahead of
  the channel's today are ignored everywhere, so a typo like next year's date cannot hide real days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.archive import DeliveryRecord, Ledger
    from bot.channels import Channel
    from bot.config import Settings

#: A digest may be dated up to this far ahead of the channel's today (time zones, early runs).
FUTURE_TOLERANCE = dt.timedelta(days=1)


class HasDates(Protocol):
    def dates(self) -> list[dt.date]: ...


@dataclass(frozen=True)
class Choice:
    """The next date for a channel (None: nothing), whether it resumes an unfinished
    delivery, and the unfinished ones too old to finish (to be given up)."""

    date: dt.date | None = None
    resume: bool = False
    stale: tuple[DeliveryRecord, ...] = field(default_factory=tuple)


def local_today(channel: Channel, now: dt.datetime) -> dt.date:
    """The channel's calendar date: 'today' is where the readers are."""
    return now.astimezone(ZoneInfo(channel.timezone)).date()


def horizon(channel: Channel, now: dt.datetime, ahead: dt.timedelta = FUTURE_TOLERANCE) -> dt.date:
    """The latest digest date a channel may get now (``max_future`` after its today)."""
    return local_today(channel, now) + ahead


def ingest_horizon(settings: Settings) -> dt.date:
    """The latest digest date ingest accepts now: ``max_future`` (a day) after today in
    the easternmost timezone configured (further ahead is a typo hiding the real days)."""
    now = dt.datetime.now(dt.UTC)
    zones = {settings.timezone, *(c.timezone for c in settings.channels if c.timezone)}
    today = max(now.astimezone(ZoneInfo(zone)).date() for zone in zones)
    return today + settings.max_future


def choose(
    archive: HasDates,
    ledger: Ledger,
    channel: Channel,
    *,
    now: dt.datetime,
    max_age: dt.timedelta,
    max_future: dt.timedelta = FUTURE_TOLERANCE,
) -> Choice:
    """The channel's next digest date by the rules above."""
    cutoff = (now.astimezone(ZoneInfo(channel.timezone)) - max_age).date()
    latest = horizon(channel, now, max_future)
    stale: list[DeliveryRecord] = []
    for record in ledger.unfinished(channel.platform, channel.id):
        if record.digest_date > latest:
            continue
        if record.digest_date < cutoff:
            stale.append(record)
            continue
        return Choice(record.digest_date, resume=True, stale=tuple(stale))
    handled = {d for d in ledger.dates_with_rows(channel.platform, channel.id) if d <= latest}
    newest_handled = max(handled, default=None)
    fresh = [
        d
        for d in archive.dates()
        if cutoff <= d <= latest
        and d not in handled
        and (newest_handled is None or d > newest_handled)
    ]
    return Choice(max(fresh) if fresh else None, stale=tuple(stale))
