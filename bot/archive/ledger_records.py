"""The delivery ledger's values: row states, kinds, claims and rows as read back.

Kept apart from the ``Ledger`` operations (``bot.archive.ledger``) so that code which only
inspects outcomes (the CLI, ``/healthz``, the deliverer) reads small, plain types.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FINAL",
    "UNFINISHED",
    "Claim",
    "DeliveryRecord",
    "Kind",
    "Status",
    "aware",
    "record_of",
    "utcnow",
]


class Status(enum.StrEnum):
    """A delivery row's state; ``RETRY`` is a released claim anyone may take again."""

    CLAIMED = "claimed"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"
    GIVEN_UP = "given_up"
    """Not finished within ``max_age``: reported, and left for ``send --date D --retry``."""


class Kind(enum.StrEnum):
    """What a row delivers: one day's digest, or the weekly rollup of the ISO week whose
    Monday is the row's ``digest_date``. Rows written before kinds existed are daily."""

    DAILY = "daily"
    WEEKLY = "weekly"


#: States that end a delivery for good: a claim on such a row is refused.
FINAL = frozenset({Status.DONE, Status.SKIPPED, Status.FAILED, Status.GIVEN_UP})
#: States of a delivery that started and has not finished yet.
UNFINISHED = frozenset({Status.CLAIMED, Status.RETRY})


@dataclass(frozen=True)
class Claim:
    """The right to send one digest to one channel until ``lease_until``.

    ``recorded`` holds the messages an earlier (crashed) run already posted, so the sender
    resumes at the first index not in it; ``resumed`` says whether such a run existed.
    """

    delivery_id: int
    platform: str
    channel_id: str
    digest_date: dt.date
    owner: str
    lease_until: dt.datetime
    created_at: dt.datetime
    attempts: int = 1
    resumed: bool = False
    recorded: dict[int, str] = field(default_factory=dict)
    snapshot: dict[str, Any] | None = None
    """The payloads this delivery started with (see ``save_snapshot``), if saved."""
    kind: Kind = Kind.DAILY

    def first_unrecorded(self) -> int:
        """Index of the first message that still has to be posted."""
        index = 0
        while index in self.recorded:
            index += 1
        return index


@dataclass(frozen=True)
class DeliveryRecord:
    """A ledger row as read back, with its recorded messages."""

    delivery_id: int
    platform: str
    channel_id: str
    digest_date: dt.date
    status: Status
    owner: str | None
    lease_until: dt.datetime | None
    message_count: int | None
    attempts: int
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    messages: dict[int, str] = field(default_factory=dict)
    kind: Kind = Kind.DAILY
    snapshot: dict[str, Any] | None = None
    """The payloads the delivery started with (addenda extend them)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def record_of(row: Any, messages: dict[int, str]) -> DeliveryRecord:
    """A ``deliveries`` row and its messages as a ``DeliveryRecord``."""
    return DeliveryRecord(
        delivery_id=row.id,
        platform=row.platform,
        channel_id=row.channel_id,
        digest_date=row.digest_date,
        status=Status(row.status),
        owner=row.owner,
        lease_until=aware(row.lease_until),
        message_count=row.message_count,
        attempts=int(row.attempts or 0),
        error=row.error,
        created_at=aware(row.created_at) or utcnow(),
        updated_at=aware(row.updated_at) or utcnow(),
        messages=messages,
        kind=Kind(row.kind or Kind.DAILY.value),
        snapshot=row.snapshot,
    )
