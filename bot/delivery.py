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
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import metrics, payload_snapshot
from bot.archive.ledger import Claim, LostClaim, Status, utcnow
from bot.delivery_plan import DeliveryOptions, Plan, Planner
from bot.errors import (
    ConfigError,
    DeliveryError,
    DigestbotError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from bot.platforms.transport import maybe_posted, retry_after_of

if TYPE_CHECKING:
    from bot.archive.ledger import Ledger
    from bot.channels import Channel
    from bot.platforms.transport import Transport
    from bot.tags import TagAliases

log = logging.getLogger("bot.delivery")


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    SKIPPED = "skipped"
    ALREADY = "already delivered"
    BUSY = "in progress elsewhere"
    NO_DIGEST = "no digest"
    FAILED = "failed"
    DEACTIVATED = "deactivated"
    DRY_RUN = "dry run"


#: Outcomes that mean something went wrong (non-zero exit of ``digestbot send``).
FAILURES = frozenset({Outcome.FAILED, Outcome.DEACTIVATED})


@dataclass
class DeliveryResult:
    """What happened to one channel in one run (a row of the ``send`` summary table)."""

    channel: Channel
    outcome: Outcome
    digest_date: dt.date | None = None
    posted: int = 0
    total: int = 0
    reconciled: int = 0
    retries: int = 0
    error: str | None = None
    plan: Plan | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.outcome not in FAILURES

    def line(self) -> str:
        """The one log line per delivery."""
        date = self.digest_date.isoformat() if self.digest_date else "-"
        text = f"delivery {self.channel.key} {date}: {self.outcome.value}"
        if self.posted or self.outcome in FAILURES or self.outcome is Outcome.DELIVERED:
            text += f", {self.posted} posted of {self.total} messages"
        elif self.total:
            text += f", {self.total} messages"
        if self.reconciled:
            text += f", {self.reconciled} found already posted"
        if self.retries:
            text += f", {self.retries} retries"
        if self.error:
            text += f" ({self.error})"
        return text


class WindowClosed(DigestbotError):
    """Transient errors lasted until the delivery window ended."""


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
        self.planner = Planner(
            archive,
            self.ledger,
            lambda platform, digest: self.transport(platform).render(digest, templates),
            aliases=aliases,
            clock=clock,
        )

    def transport(self, platform: str) -> Transport:
        if callable(self._transports):
            return self._transports(platform)
        try:
            return self._transports[platform]
        except KeyError:
            raise ConfigError(f"no transport for platform {platform!r}") from None

    # -- planning ----------------------------------------------------------------------

    def choose_date(self, channel: Channel) -> dt.date | None:
        return self.planner.choose_date(channel, max_age=self.options.max_age)

    def plan(self, channel: Channel, *, date: dt.date | None = None) -> Plan | DeliveryResult:
        """The filtered digest and payloads for ``channel``, or the reason there are none."""
        planned = self.planner.plan(channel, date=date, max_age=self.options.max_age)
        if isinstance(planned, Plan):
            return planned
        return DeliveryResult(channel, Outcome.NO_DIGEST, planned.date, error=planned.reason)

    # -- delivering --------------------------------------------------------------------

    async def deliver_all(
        self,
        channels: Iterable[Channel],
        *,
        date: dt.date | None = None,
        deadline: dt.datetime | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
    ) -> list[DeliveryResult]:
        """Deliver to many channels concurrently (bounded), results in channel order."""
        gate = asyncio.Semaphore(max(1, self.options.concurrency))

        async def one(channel: Channel) -> DeliveryResult:
            async with gate:
                result = await self.deliver(channel, date=date, deadline=deadline)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(channel) for channel in channels)))

    async def deliver(
        self,
        channel: Channel,
        *,
        date: dt.date | None = None,
        deadline: dt.datetime | None = None,
    ) -> DeliveryResult:
        """Deliver the channel's digest (or ``date``'s); never raises for delivery trouble."""
        try:
            result = await self._deliver(
                channel, date, deadline or self.clock() + self.options.window
            )
        except DigestbotError as exc:  # a bad topic, a missing token, the archive away
            result = DeliveryResult(channel, Outcome.FAILED, date, error=str(exc))
        except Exception as exc:  # a bug must not stop the other channels; it is logged
            log.exception("delivery %s: unexpected error", channel.key)
            result = DeliveryResult(
                channel, Outcome.FAILED, date, error=f"{type(exc).__name__}: {exc}"
            )
        metrics.DELIVERIES.labels(channel.platform, result.outcome.name.lower()).inc()
        level = logging.ERROR if not result.ok else logging.INFO
        log.log(level, "%s", result.line())
        return result

    async def _deliver(
        self, channel: Channel, date: dt.date | None, deadline: dt.datetime
    ) -> DeliveryResult:
        planned = await asyncio.to_thread(self.plan, channel, date=date)
        if isinstance(planned, DeliveryResult):
            return planned
        plan = planned
        claim = await asyncio.to_thread(
            self.ledger.claim,
            channel.platform,
            channel.id,
            plan.digest_date,
            self.owner,
            self.options.lease,
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
        run = _Run(self, plan, claim, deadline)
        try:
            await run.send_all()
        except PermanentDeliveryError as exc:
            return await run.deactivate(exc)
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
                self.ledger.complete, claim.delivery_id, len(plan.payloads), owner=claim.owner
            )
        except LostClaim as exc:
            return run.result(Outcome.BUSY, str(exc))
        return run.result(Outcome.DELIVERED)

    async def _pin(self, plan: Plan, claim: Claim) -> Plan:
        """Deliver what this delivery started with, even if the digest was edited since.

        The first claim stores the rendered payloads; a resume whose fresh rendering differs
        posts the stored ones, so recorded message indices still mean the same messages.
        """
        fresh = payload_snapshot.encode(plan.payloads)
        if claim.snapshot is None:
            if fresh is not None and not plan.empty:
                await asyncio.to_thread(
                    self.ledger.save_snapshot, claim.delivery_id, fresh, owner=claim.owner
                )
            return plan
        if fresh is not None and fresh["fingerprint"] == claim.snapshot.get("fingerprint"):
            return plan
        stored = payload_snapshot.decode(claim.snapshot)
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
            self.ledger.status, plan.channel.platform, plan.channel.id, plan.digest_date
        )
        outcome, error = Outcome.BUSY, None
        if record is not None and record.status is Status.DONE:
            outcome = Outcome.ALREADY
        elif record is not None and record.status is Status.SKIPPED:
            outcome, error = Outcome.SKIPPED, record.error
        elif record is not None and record.status is Status.FAILED:
            outcome, error = Outcome.FAILED, f"failed earlier: {record.error}"
        elif record is not None:
            error = f"claimed by {record.owner}"
        total = (record.message_count or 0) if record else 0
        return DeliveryResult(plan.channel, outcome, plan.digest_date, total=total, error=error)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Capped exponential backoff with jitter; never shorter than the platform's hint."""
        ceiling = min(self.options.retry_cap, self.options.retry_base * 2 ** max(0, attempt - 1))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after or 0.0)


class _Run:
    """One claimed delivery in progress: its lease, progress and retry bookkeeping."""

    def __init__(self, owner: Deliverer, plan: Plan, claim: Claim, deadline: dt.datetime) -> None:
        self.d = owner
        self.plan = plan
        self.claim = claim
        self.deadline = deadline
        self.channel = plan.channel
        self.transport = owner.transport(plan.channel.platform)
        self.recorded = dict(claim.recorded)
        self.lease_until = claim.lease_until
        self.posted = 0
        self.reconciled = 0
        self.retries = 0

    def result(self, outcome: Outcome, error: str | None = None) -> DeliveryResult:
        return DeliveryResult(
            self.channel,
            outcome,
            self.plan.digest_date,
            posted=self.posted,
            total=len(self.plan.payloads),
            reconciled=self.reconciled,
            retries=self.retries,
            error=error,
            plan=self.plan,
        )

    async def send_all(self) -> None:
        if self.claim.resumed and self.recorded:
            log.info(
                "delivery %s %s: resuming at message %d of %d",
                self.channel.key,
                self.plan.digest_date,
                self.claim.first_unrecorded(),
                len(self.plan.payloads),
            )
        # After a crash, the first unrecorded message may be in the channel already.
        check_first = self.claim.resumed
        for index, payload in enumerate(self.plan.payloads):
            if index in self.recorded:
                continue
            message_id = await self._post(index, payload, check_first=check_first)
            check_first = False
            await asyncio.to_thread(
                self.d.ledger.record,
                self.claim.delivery_id,
                index,
                message_id,
                owner=self.claim.owner,
            )
            self.recorded[index] = message_id

    async def _post(self, index: int, payload: Any, *, check_first: bool) -> str:
        attempt = 0
        platform = self.channel.platform
        while True:
            await self._keep_lease()
            try:
                if check_first and self.transport.reconciles:
                    found = await self.transport.find_posted(
                        self.channel,
                        self.plan.digest_date,
                        index,
                        parent_id=self.recorded.get(0),
                        since=self.claim.created_at,
                    )
                    if found is not None:
                        log.info(
                            "delivery %s %s: message %d was already posted (%s); recorded it",
                            self.channel.key,
                            self.plan.digest_date,
                            index,
                            found,
                        )
                        self.reconciled += 1
                        return found
                    check_first = False
                message_id = await self.transport.send(
                    self.channel,
                    index,
                    payload,
                    digest_date=self.plan.digest_date,
                    parent_id=self.recorded.get(0),
                )
                self.posted += 1
                metrics.MESSAGES_POSTED.labels(platform).inc()
                return message_id
            except TransientDeliveryError as exc:
                attempt += 1
                self.retries += 1
                metrics.DELIVERY_FAILURES.labels(platform, "transient").inc()
                delay = self.d.backoff(attempt, retry_after_of(exc))
                if self.d.clock() + dt.timedelta(seconds=delay) > self.deadline:
                    raise WindowClosed(
                        f"gave up on message {index} after {attempt} attempts: {exc}"
                    ) from exc
                log.warning(
                    "delivery %s %s: message %d: %s; retry %d in %.1fs",
                    self.channel.key,
                    self.plan.digest_date,
                    index,
                    exc,
                    attempt,
                    delay,
                )
                check_first = check_first or maybe_posted(exc)
                await self._sleep(delay)
            except PermanentDeliveryError:
                metrics.DELIVERY_FAILURES.labels(platform, "permanent").inc()
                raise
            except DeliveryError:
                metrics.DELIVERY_FAILURES.labels(platform, "rejected").inc()
                raise

    async def _sleep(self, seconds: float) -> None:
        """Sleep, renewing the lease on the way if the wait is long."""
        step = max(1.0, self.d.options.lease.total_seconds() / 3)
        while seconds > 0:
            chunk = min(seconds, step)
            await self.d.sleep(chunk)
            seconds -= chunk
            if seconds > 0:
                await self._keep_lease()

    async def _keep_lease(self) -> None:
        """Renew once half the lease is used: cheap, and a lost claim stops us at once."""
        lease = self.d.options.lease
        if self.d.clock() < self.lease_until - lease / 2:
            return
        renewed = await asyncio.to_thread(
            self.d.ledger.renew, self.claim.delivery_id, self.claim.owner, lease
        )
        if renewed is None:
            raise LostClaim(f"lease lost to another sender after {self.posted} messages")
        self.lease_until = renewed

    async def release(self, error: str) -> None:
        """Free the row for a later run; a row another sender took over is left alone."""
        await self._fail(error, permanent=False)

    async def _fail(self, error: str, *, permanent: bool) -> None:
        try:
            await asyncio.to_thread(
                self.d.ledger.fail,
                self.claim.delivery_id,
                error,
                permanent=permanent,
                owner=self.claim.owner,
            )
        except LostClaim:
            log.warning("delivery %s: claim already taken over; not released", self.channel.key)

    async def deactivate(self, exc: PermanentDeliveryError) -> DeliveryResult:
        reason = str(exc)
        await self._fail(reason, permanent=True)
        subscriptions = getattr(self.d.archive, "subscriptions", None)
        if subscriptions is not None:
            await asyncio.to_thread(
                subscriptions.deactivate, self.channel.platform, self.channel.id, reason
            )
        log.error("delivery %s: permanent error, channel deactivated: %s", self.channel.key, reason)
        return self.result(Outcome.DEACTIVATED, reason)
