"""What the deliverer's helper steps (``backlog``, ``addendum``) use of the ``Deliverer``.

Why a Protocol: the deliverer calls those modules, so naming its class there would make an
import cycle; this states exactly what they may touch instead, and the ``Deliverer``
satisfies it structurally (``tests/bot/delivery/test_host.py`` checks both directions).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.archive import Ledger
    from bot.channels import Channel
    from bot.delivery.plan import DeliveryOptions, Planner
    from bot.delivery.result import DeliveryResult
    from bot.delivery.transport import Transport


class DeliveryHost(Protocol):
    """The calling deliverer, as the backlog and addendum steps see it."""

    ledger: Ledger
    planner: Planner
    options: DeliveryOptions
    templates: Any
    """Whatever the transports' ``render`` takes (formatters' ``Templates``)."""
    clock: Callable[[], dt.datetime]

    def transport(self, platform: str) -> Transport:
        """The platform's transport."""
        ...

    def held(self, channel: Channel) -> DeliveryResult | None:
        """The result for a chat the config does not allow now, or None."""
        ...

    async def deliver(
        self,
        channel: Channel,
        *,
        date: dt.date | None = None,
        deadline: dt.datetime | None = None,
    ) -> DeliveryResult:
        """One delivery of ``channel`` (its newest digest, or ``date``'s)."""
        ...

    async def deliver_addenda(
        self, channel: Channel, *, deadline: dt.datetime | None = None
    ) -> list[DeliveryResult]:
        """The addenda of ``channel``'s recent days."""
        ...
