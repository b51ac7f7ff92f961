"""One claimed delivery in progress: posting in order, recording, retrying, keeping the lease.

The deliverer decides *whether* to send; this is the part that talks to a transport
message by message. The exactly-once rules are in both docstrings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.delivery.result import DeliveryResult, Outcome
from bot.errors import (
    DeliveryError,
    LostClaim,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
    WindowClosed,
)

if TYPE_CHECKING:
    from bot.archive import Claim, Ledger, SubscriptionStore
    from bot.delivery.plan import DeliveryOptions, Plan
    from bot.delivery.transport import Transport

log = logging.getLogger("bot.delivery")


class DeliveryRun:
    """One claimed delivery in progress: its lease, progress and retry bookkeeping."""

    def __init__(
        self,
        plan: Plan,
        claim: Claim,
        deadline: dt.datetime,
        *,
        ledger: Ledger,
        transport: Transport,
        options: DeliveryOptions,
        clock: Callable[[], dt.datetime],
        sleep: Callable[[float], Awaitable[Any]],
        backoff: Callable[[int, float | None], float],
        subscriptions: SubscriptionStore | None = None,
    ) -> None:
        self.plan = plan
        self.claim = claim
        self.deadline = deadline
        self.ledger = ledger
        self.transport = transport
        self.options = options
        self.clock = clock
        self.sleep = sleep
        self.backoff = backoff
        self.subscriptions = subscriptions
        self.channel = plan.channel
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
                self.ledger.record,
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
                delay = self.backoff(attempt, exc.retry_after)
                if self.clock() + dt.timedelta(seconds=delay) > self.deadline:
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
                check_first = check_first or exc.maybe_posted
                await self._sleep(delay)
            except PermanentDeliveryError:
                metrics.DELIVERY_FAILURES.labels(platform, "permanent").inc()
                raise
            except PlatformUnavailable:
                metrics.DELIVERY_FAILURES.labels(platform, "platform").inc()
                raise
            except DeliveryError:
                metrics.DELIVERY_FAILURES.labels(platform, "rejected").inc()
                raise

    async def _sleep(self, seconds: float) -> None:
        """Sleep, renewing the lease on the way if the wait is long."""
        step = max(1.0, self.options.lease.total_seconds() / 3)
        while seconds > 0:
            chunk = min(seconds, step)
            await self.sleep(chunk)
            seconds -= chunk
            if seconds > 0:
                await self._keep_lease()

    async def _keep_lease(self) -> None:
        """Renew once half the lease is used: cheap, and a lost claim stops us at once."""
        lease = self.options.lease
        if self.clock() < self.lease_until - lease / 2:
            return
        renewed = await asyncio.to_thread(
            self.ledger.renew, self.claim.delivery_id, self.claim.owner, lease
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
                self.ledger.fail,
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
        if self.subscriptions is not None:
            await asyncio.to_thread(
                self.subscriptions.deactivate, self.channel.platform, self.channel.id, reason
            )
        log.error("delivery %s: permanent error, channel deactivated: %s", self.channel.key, reason)
        return self.result(Outcome.DEACTIVATED, reason)
