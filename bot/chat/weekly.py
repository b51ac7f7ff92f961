"""The weekly commands: ``/ai week [last|YYYY-Www] [QUERY]`` and ``/ai trends [QUERY]``.

Read-only, like search: they answer from the archive with domain replies (a rollup, tag
counts) that the formatters render; the trends chart itself is drawn by the formatters.
A channel's rollup holds only the items matching its topics, as the scheduled one does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.archive import DEFAULT_TOP, count_trends, select_rollup
from bot.chat.grammar import normalize_text
from bot.chat.replies import TrendsReply, WeekReply
from bot.errors import CommandError, QueryError
from bot.query import IsoWeek, parse_query

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.channels import Channel
    from bot.chat.request import CommandRequest

WEEK_EXAMPLE = "/ai week last tag:Agent"
TRENDS_EXAMPLE = "/ai trends tag:RL tag:Agent since:2026-01-01"
#: Words that mean "the week before this one".
LAST_WEEK = frozenset({"last", "previous", "prev", "上周"})


class WeeklyCommands:
    """Answers ``week`` and ``trends`` for the chat a request comes from.

    ``effective(request)`` gives the chat's settings (topics), ``today(request)`` its
    calendar date in its own timezone: "this week" is the readers' week.
    """

    def __init__(
        self,
        archive: Archive,
        effective: Callable[[CommandRequest], Channel],
        today: Callable[[CommandRequest], dt.date],
    ) -> None:
        self.archive = archive
        self._effective = effective
        self._today = today

    def week(self, request: CommandRequest, args: str) -> WeekReply:
        """This week so far, ``last`` week or an ISO week, optionally narrowed by a query."""
        today = self._today(request)
        week = IsoWeek.of(today)
        first, _, rest = normalize_text(args).partition(" ")
        if first.lower() in LAST_WEEK:
            week, args = week.shift(-1), rest
        elif first[:4].isdigit() and "w" in first.lower():
            try:
                week, args = IsoWeek.parse(first), rest
            except QueryError as exc:
                raise CommandError(str(exc), example="/ai week 2026-W06") from exc
        query = parse_query(args, today=today)
        topics = [parse_query(topic, today=today) for topic in self._effective(request).topics]
        rollup = select_rollup(self.archive, week, query=query, topics=topics, limit=DEFAULT_TOP)
        return WeekReply(rollup=rollup)

    def trends(self, request: CommandRequest, args: str) -> TrendsReply:
        """Items per week for the named tags, or the period's five most frequent ones."""
        today = self._today(request)
        query = parse_query(args, today=today)
        trends = count_trends(self.archive, query, today=today)
        if trends.since > trends.until:
            raise CommandError(
                f"since:{trends.since} is after until:{trends.until}.", example=TRENDS_EXAMPLE
            )
        return TrendsReply(trends=trends, channel_id=request.channel_id)
