"""The weekly plan, beside the daily one: which week a channel's rollup covers, and what
it posts.

A rollup fired by the scheduler covers the ISO week of its scheduled moment in the
channel's timezone (Friday 17:00 → that week so far), not of the moment it ran: a Sunday
23:30 rollup caught up after midnight is still the finished week's. ``send --week`` names
the week. The plan is an
ordinary ``Plan`` of kind ``weekly`` keyed by the week's Monday, so the deliverer claims,
posts, records and resumes it exactly like a daily digest, through the same ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.archive import Kind, Rollup, select_rollup
from bot.delivery.plan import Plan, local_today, topic_queries
from bot.delivery.scheduler import cron_trigger, last_fire_within
from bot.models import Digest
from bot.query import IsoWeek

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.channels import Channel
    from bot.query import TagAliases

RenderWeekly = Callable[[str, Rollup], list[Any]]
#: How far back a rollup's scheduled moment is looked for (a weekly schedule fires within).
LOOKBACK = dt.timedelta(days=7, minutes=1)


class WeeklyPlanner:
    """Picks each channel's rollup (its topics applied) and renders it for its platform."""

    def __init__(
        self,
        archive: Archive,
        render: RenderWeekly,
        *,
        aliases: TagAliases,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.archive = archive
        self.render = render
        self.aliases = aliases
        self.clock = clock

    def week_for(self, channel: Channel) -> IsoWeek:
        """The ISO week of the channel's latest scheduled rollup (its own timezone), or of
        now when it has none within a week."""
        now = self.clock()
        fired = last_fire_within(cron_trigger(channel), now, LOOKBACK)
        return IsoWeek.of(local_today(channel, fired or now))

    def plan(self, channel: Channel, *, week: IsoWeek | None = None) -> Plan:
        week = week or self.week_for(channel)
        today = local_today(channel, self.clock())
        rollup = select_rollup(
            self.archive,
            week,
            topics=topic_queries(channel, today=today),
            aliases=self.aliases,
        )
        payloads = self.render(channel.platform, rollup) if not rollup.empty else []
        digest = Digest(date=week.monday, title=rollup.week, items=list(rollup.hits))
        # ``send --week`` names a daily channel: the rollup is still its weekly delivery,
        # and transports key their reconciliation on ``channel.kind``.
        return Plan(
            channel if channel.kind == "weekly" else channel.as_weekly(),
            week.monday,
            digest,
            rollup.considered,
            payloads,
            kind=Kind.WEEKLY,
        )
