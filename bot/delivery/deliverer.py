"""Delivering a digest to a channel exactly once: claim, post in order, record, complete.

Why this shape: several replicas and restarts may try the same delivery, so the ledger
claim decides who sends; each message is recorded the moment it is posted, so a crashed
run is resumed at its first unrecorded message (after its lease expires) and never starts
over; before re-posting a message whose fate is unknown (a crash, a dropped connection),
transports that can read the channel (Slack, file) look for it first.

Failures are never dropped: transient ones retry with capped, jittered exponential backoff
until the delivery window ends (then the row is released for a later run); permanent ones
deactivate the channel with the reason; both are logged and counted in ``bot.metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.archive import Claim, Kind, utcnow
from bot.delivery import addendum, backlog
from bot.delivery import snapshot as payload_snapshot
from bot.delivery.plan import DeliveryOptions, Plan, Planner, item_key
from bot.delivery.platform_state import PlatformStates
from bot.delivery.result import DeliveryResult, Outcome, settled_outcome
from bot.delivery.run import DeliveryRun
from bot.delivery.weekly import RenderWeekly, WeeklyPlanner
from bot.errors import (
    ConfigError,
    DeliveryError,
    DigestbotError,
    LostClaim,
    PermanentDeliveryError,
    PlatformUnavailable,
    WindowClosed,
)

if TYPE_CHECKING:
    from bot.archive import Ledger
    from bot.channels import Channel
    from bot.config import Settings
    from bot.delivery.transport import Transport
    from bot.query import IsoWeek, TagAliases

log = logging.getLogger("bot.delivery")


TransportLookup = Callable[[str], "Transport"] | Mapping[str, "Transport"]


class Deliverer:
    """Plans and performs deliveries for any channel through its platform's transport."""

    def __init__(
        self,
        archive: Any,
        transports: TransportLookup,
        *,
        templates: Any,
        aliases: TagAliases,
        owner: str,
        options: DeliveryOptions | None = None,
        ledger: Ledger | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        render_weekly: RenderWeekly | None = None,
        platforms: PlatformStates | None = None,
    ) -> None:
        self.archive = archive
        self._transports = transports
        self.templates = templates
        self.aliases = aliases
        self.owner = owner
        self.options = options or DeliveryOptions()
        self.ledger: Ledger = ledger if ledger is not None else archive.ledger
        self.clock = clock
        self.sleep = sleep
        self.platforms = platforms if platforms is not None else PlatformStates()
        self._held: set[str] = set()
        self.planner = Planner(
            archive,
            self.ledger,
            lambda platform, digest: self.transport(platform).render(digest, templates),
            aliases=aliases,
            clock=clock,
            max_age=self.options.max_age,
        )
        self.planner.max_future = self.options.max_future
        self.weekly = WeeklyPlanner(
            archive, render_weekly or _no_weekly, aliases=aliases, clock=clock
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        archive: Any,
        transports: TransportLookup,
        *,
        templates: Any,
        render_weekly: RenderWeekly | None = None,
        owner: str,
        options: DeliveryOptions | None = None,
        platforms: PlatformStates | None = None,
    ) -> Deliverer:
        """The deliverer `send` and `run` both use: the config's timings, the caller's
        templates and weekly renderer (delivery imports no formatter)."""
        return cls(
            archive,
            transports,
            templates=templates,
            aliases=archive.aliases,
            owner=owner,
            options=options or DeliveryOptions.from_settings(settings),
            render_weekly=render_weekly,
            platforms=platforms,
        )

    def transport(self, platform: str) -> Transport:
        if callable(self._transports):
            return self._transports(platform)
        try:
            return self._transports[platform]
        except KeyError:
            raise ConfigError(f"no transport for platform {platform!r}") from None

    def held(self, channel: Channel) -> DeliveryResult | None:
        """A chat the config does not allow now (``Transport.held``): nothing is planned,
        claimed or posted, one WARNING per chat says why, and it stays subscribed."""
        try:
            reason = self.transport(channel.platform).held(channel)
        except DigestbotError:
            return None  # no transport: ``deliver`` reports that itself
        chat = f"{channel.platform}:{channel.id}"
        if reason is None:
            self._held.discard(chat)  # allowed again: say so again if it is held later
            return None
        if chat not in self._held:
            self._held.add(chat)
            log.warning("delivery %s: %s", chat, reason)
        return DeliveryResult(channel, Outcome.HELD, error=reason)

    # -- planning ----------------------------------------------------------------------

    def plan(
        self, channel: Channel, *, date: dt.date | None = None, week: IsoWeek | None = None
    ) -> Plan | DeliveryResult:
        """The filtered digest and payloads for ``channel``, or the reason there are none;
        a weekly channel (or ``week``) gets its rollup's plan."""
        if week is not None or channel.kind == "weekly":
            return self.weekly.plan(channel, week=week)
        planned = self.planner.plan(channel, date=date)
        if isinstance(planned, Plan):
            return planned
        outcome = Outcome.NOTHING_NEW if planned.up_to_date else Outcome.NO_DIGEST
        return DeliveryResult(channel, outcome, planned.date, error=planned.reason)

    # -- delivering --------------------------------------------------------------------

    async def deliver_all(
        self,
        channels: Iterable[Channel],
        *,
        date: dt.date | None = None,
        deadline: dt.datetime | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
        week: IsoWeek | None = None,
    ) -> list[DeliveryResult]:
        """Deliver to many channels concurrently (bounded), results in channel order.

        Without ``date`` each channel first finishes its unfinished deliveries, oldest
        first (one result each), then gets its newest digest."""
        gate = asyncio.Semaphore(max(1, self.options.concurrency))

        async def one(channel: Channel) -> list[DeliveryResult]:
            async with gate:
                if date is None and week is None:
                    results = await self.deliver_due(channel, deadline=deadline)
                else:
                    results = [await self.deliver(channel, date=date, deadline=deadline, week=week)]
            if on_result is not None:
                for result in results:
                    on_result(result)
            return results

        done = await asyncio.gather(*(one(channel) for channel in channels))
        return [result for results in done for result in results]

    async def deliver_due(
        self,
        channel: Channel,
        *,
        deadline: dt.datetime | None = None,
        backlog_only: bool = False,
    ) -> list[DeliveryResult]:
        """Everything the channel is owed now, unfinished days first (``backlog``)."""
        return await backlog.deliver_due(
            self, channel, deadline=deadline, backlog_only=backlog_only
        )

    async def deliver_addenda(
        self, channel: Channel, *, deadline: dt.datetime | None = None
    ) -> list[DeliveryResult]:
        """Post the items added to a day after it was delivered (see ``addendum``)."""
        try:
            return await addendum.deliver_addenda(self, channel, deadline=deadline)
        except DigestbotError as exc:
            log.warning("delivery %s: cannot check for an addendum: %s", channel.key, exc)
            return []

    async def deliver(
        self,
        channel: Channel,
        *,
        date: dt.date | None = None,
        deadline: dt.datetime | None = None,
        week: IsoWeek | None = None,
    ) -> DeliveryResult:
        """Deliver the channel's digest (or ``date``'s), or for a weekly channel (or with
        ``week``) its rollup; never raises for delivery trouble."""
        try:
            result = await self._deliver(
                channel, date, deadline or self.clock() + self.options.window, week
            )
        except DigestbotError as exc:  # a bad topic, a missing token, the archive away
            result = DeliveryResult(channel, Outcome.FAILED, date, error=str(exc))
        except Exception as exc:  # a bug must not stop the other channels; it is logged
            log.exception("delivery %s: unexpected error", channel.key)
            result = DeliveryResult(
                channel, Outcome.FAILED, date, error=f"{type(exc).__name__}: {exc}"
            )
        metrics.DELIVERIES.labels(channel.platform, result.outcome.name.lower()).inc()
        if result.outcome is Outcome.DELIVERED:
            metrics.LAST_DELIVERY.labels(channel.platform, channel.id).set_to_current_time()
        level = logging.ERROR if not result.ok else logging.INFO
        log.log(level, "%s", result.line(), extra=result.fields())
        return result

    async def _deliver(
        self,
        channel: Channel,
        date: dt.date | None,
        deadline: dt.datetime,
        week: IsoWeek | None = None,
    ) -> DeliveryResult:
        held = self.held(channel)
        if held is not None:
            return held
        planned = await asyncio.to_thread(self.plan, channel, date=date, week=week)
        if isinstance(planned, DeliveryResult):
            return planned
        plan = planned
        transport = self.transport(channel.platform)
        paused = await self.platforms.usable(channel.platform, transport.check)
        if paused is not None:
            return DeliveryResult(channel, Outcome.PAUSED, plan.digest_date, error=paused)
        claim = await asyncio.to_thread(
            self.ledger.claim,
            channel.platform,
            channel.id,
            plan.digest_date,
            self.owner,
            self.options.lease,
            kind=Kind(plan.kind),
        )
        if claim is None:
            return await self._not_claimed(plan)
        try:
            plan = await self._pin(plan, claim)
        except LostClaim as exc:
            return DeliveryResult(channel, Outcome.BUSY, plan.digest_date, error=str(exc))
        if plan.empty and not plan.payloads:
            reason = f"no item of {plan.total_items} matches the topics {list(channel.topics)}"
            await asyncio.to_thread(self.ledger.skip, claim.delivery_id, reason, owner=claim.owner)
            return DeliveryResult(
                channel, Outcome.SKIPPED, plan.digest_date, error=reason, plan=plan
            )
        run = DeliveryRun(
            plan,
            claim,
            deadline,
            ledger=self.ledger,
            transport=self.transport(channel.platform),
            options=self.options,
            clock=self.clock,
            sleep=self.sleep,
            backoff=self.backoff,
            subscriptions=getattr(self.archive, "subscriptions", None),
        )
        try:
            await run.send_all()
        except PermanentDeliveryError as exc:
            return await run.deactivate(exc)
        except PlatformUnavailable as exc:
            await run.release(str(exc))
            if transport.shared_credentials:
                self.platforms.down(channel.platform, str(exc))
            else:
                self.platforms.refused(channel.key, str(exc))
            return run.result(Outcome.PAUSED, str(exc))
        except LostClaim as exc:
            return run.result(Outcome.BUSY, str(exc))
        except (WindowClosed, DeliveryError, DigestbotError) as exc:
            await run.release(str(exc))
            return run.result(Outcome.FAILED, str(exc))
        except asyncio.CancelledError:
            # Shutting down: free the row now so another replica or the next run resumes it.
            with contextlib.suppress(LostClaim):
                self.ledger.fail(
                    claim.delivery_id, "interrupted by shutdown", permanent=False, owner=claim.owner
                )
            raise
        except Exception as exc:
            await run.release(f"{type(exc).__name__}: {exc}")
            raise
        try:
            await asyncio.to_thread(
                self.ledger.record_items,
                claim.delivery_id,
                [item_key(item) for item in plan.digest.items],
            )
            await asyncio.to_thread(
                self.ledger.complete, claim.delivery_id, len(plan.payloads), owner=claim.owner
            )
        except LostClaim as exc:
            return run.result(Outcome.BUSY, str(exc))
        if run.posted:
            self.platforms.up(channel.platform)
        self.platforms.accepted(channel.key)
        return run.result(Outcome.DELIVERED)

    async def _pin(self, plan: Plan, claim: Claim) -> Plan:
        """Deliver what this delivery started with, even if the digest was edited since.

        The first claim stores the rendered payloads; a resume whose fresh rendering differs
        posts the stored ones, so recorded message indices still mean the same messages.
        """
        transport = self.transport(plan.channel.platform)
        fresh = payload_snapshot.encode(transport, plan.payloads)
        if claim.snapshot is None:
            if fresh is not None and not plan.empty:
                await asyncio.to_thread(
                    self.ledger.save_snapshot, claim.delivery_id, fresh, owner=claim.owner
                )
            return plan
        if fresh is not None and fresh["fingerprint"] == claim.snapshot.get("fingerprint"):
            return plan
        stored = payload_snapshot.decode(transport, claim.snapshot)
        log.warning(
            "delivery %s %s: the digest changed after this delivery started; finishing the "
            "%d messages it started with (the archive has the new version)",
            plan.channel.key,
            plan.digest_date,
            len(stored),
        )
        return dataclasses.replace(plan, payloads=stored)

    async def _not_claimed(self, plan: Plan) -> DeliveryResult:
        record = await asyncio.to_thread(
            self.ledger.status,
            plan.channel.platform,
            plan.channel.id,
            plan.digest_date,
            kind=Kind(plan.kind),
        )
        settled = settled_outcome(record)
        if settled is not None:
            outcome, error = settled
        else:
            outcome, error = Outcome.BUSY, None
            if record is not None:
                error = f"claimed by {record.owner}"
                if record.lease_until is not None:
                    error += f" until {record.lease_until.isoformat(timespec='seconds')}"
        total = (record.message_count or 0) if record else 0
        return DeliveryResult(plan.channel, outcome, plan.digest_date, total=total, error=error)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Capped exponential backoff with jitter; never shorter than the platform's hint."""
        ceiling = min(self.options.retry_cap, self.options.retry_base * 2 ** max(0, attempt - 1))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)


def _no_weekly(platform: str, rollup: Any) -> list[Any]:
    raise ConfigError("this deliverer has no weekly rollup rendering (use from_settings)")
