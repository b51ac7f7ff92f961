"""The delivery ledger's rows as the rest of the code sees them: a claim, a record, a state.

Plain values, apart from the ledger's SQL (``bot.archive.ledger``), so the deliverer and
the CLI can read a row's meaning without knowing how it is stored.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    """A delivery row's state; ``RETRY`` is a released claim anyone may take again."""

    CLAIMED = "claimed"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    RETRY = "retry"


#: States that end a delivery for good: a claim on such a row is refused.
FINAL = frozenset({Status.DONE, Status.SKIPPED, Status.FAILED})


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


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
