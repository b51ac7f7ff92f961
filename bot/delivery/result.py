"""What one delivery attempt ended in: an outcome per channel, printable as one log line."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.archive import Status

if TYPE_CHECKING:
    from bot.archive import DeliveryRecord
    from bot.channels import Channel
    from bot.delivery.plan import Plan


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    SKIPPED = "skipped"
    ALREADY = "already delivered"
    BUSY = "in progress elsewhere"
    NO_DIGEST = "no digest"
    NOTHING_NEW = "nothing new"
    FAILED = "failed"
    DEACTIVATED = "deactivated"
    PAUSED = "paused: platform unavailable"
    HELD = "held: the config does not allow this chat now"
    DRY_RUN = "dry run"


#: Outcomes that mean something went wrong (non-zero exit of ``digestbot send``).
FAILURES = frozenset({Outcome.FAILED, Outcome.DEACTIVATED, Outcome.PAUSED})
#: No digest to deliver (yet): ``run`` waits for a late file after these.
WAITING = frozenset({Outcome.NO_DIGEST, Outcome.NOTHING_NEW})


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

    def fields(self) -> dict[str, object]:
        """The delivery line's structured fields (JSON logs: ``log_format: json``)."""
        return {
            "channel": self.channel.key,
            "platform": self.channel.platform,
            "date": self.digest_date.isoformat() if self.digest_date else None,
            "outcome": self.outcome.value,
            "posted": self.posted,
            "total": self.total,
        }

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


def settled_outcome(record: DeliveryRecord | None) -> tuple[Outcome, str | None] | None:
    """What a ledger row that is already settled means for this run, with its note; None
    while the row is open (in progress, or released for a retry) or missing."""
    if record is None:
        return None
    if record.status is Status.DONE:
        return Outcome.ALREADY, None
    if record.status is Status.SKIPPED:
        return Outcome.SKIPPED, record.error
    if record.status is Status.FAILED:
        return Outcome.FAILED, f"failed earlier: {record.error}"
    if record.status is Status.GIVEN_UP:
        return Outcome.FAILED, f"given up: {record.error} (retry with --retry)"
    return None
