"""The exactly-once delivery ledger: one row per (platform, channel, kind, digest date).

Why a ledger: replicas each schedule in memory, so several processes may try the same
delivery at the same moment, and any of them may crash half-way. The row's unique
constraint decides who sends; a lease lets a crashed sender's work be taken over; and each
posted message is recorded (index → platform message id) right after it is posted, so a
resumed delivery continues at the first unrecorded message and never starts over.

Every operation is a short transaction of portable SQL (no dialect-only upsert), so SQLite
and PostgreSQL behave identically. Lease times come from the caller's clock; replicas are
assumed to keep their clocks within a small fraction of the lease (NTP).

A row's ``kind`` says what it delivers: ``daily`` (one day's digest, keyed by its date) or
``weekly`` (the rollup of an ISO week, keyed by that week's Monday). The values a caller
reads back live in ``bot.archive.ledger_records``; the reads in ``bot.archive.ledger_reads``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, update
from sqlalchemy.exc import IntegrityError

from bot.archive.ledger_base import select_row
from bot.archive.ledger_reads import LedgerReads
from bot.archive.ledger_records import (
    FINAL,
    UNFINISHED,
    Claim,
    DeliveryRecord,
    Kind,
    Status,
    aware,
)
from bot.archive.schema import deliveries, delivery_items, delivery_messages
from bot.errors import ArchiveError, LostClaim


class Ledger(LedgerReads):
    """Claims, progress and outcomes of deliveries, shared by every replica via the archive.

    The reads (one row, history, unfinished, given up) come from ``LedgerReads``."""

    # -- claiming ---------------------------------------------------------------------------

    def claim(
        self,
        platform: str,
        channel_id: str,
        digest_date: dt.date,
        owner: str,
        lease: dt.timedelta,
        *,
        kind: Kind = Kind.DAILY,
    ) -> Claim | None:
        """Take the delivery, or None if it is finished or someone else holds a live lease.

        A new row is inserted with status ``claimed``; if the row exists (the unique
        constraint fires), an expired lease or a released (``retry``) row is taken over by
        a guarded UPDATE whose row count tells whether this caller won the race.
        """
        now = self.clock()
        lease_until = now + lease
        try:
            with self._begin() as conn:
                delivery_id = conn.execute(
                    insert(deliveries)
                    .values(
                        platform=platform,
                        channel_id=channel_id,
                        digest_date=digest_date,
                        kind=Kind(kind).value,
                        status=Status.CLAIMED.value,
                        owner=owner,
                        lease_until=lease_until,
                        attempts=1,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(deliveries.c.id)
                ).scalar_one()
            return Claim(
                delivery_id=delivery_id,
                platform=platform,
                channel_id=channel_id,
                digest_date=digest_date,
                owner=owner,
                lease_until=lease_until,
                created_at=now,
                kind=Kind(kind),
            )
        except IntegrityError:
            pass  # the row exists: another replica, or an earlier run of ours
        return self._take_over(
            (platform, channel_id, digest_date, Kind(kind)), owner, now, lease_until
        )

    def _take_over(
        self,
        key: tuple[str, str, dt.date, Kind],
        owner: str,
        now: dt.datetime,
        lease_until: dt.datetime,
    ) -> Claim | None:
        # Read outside the write transaction: on SQLite (WAL) a read that later upgrades to
        # a write fails at once if another writer committed in between; the guarded UPDATE
        # below is atomic on its own, so the read needs no lock.
        platform, channel_id, digest_date, kind = key
        with self._connect() as conn:
            row = conn.execute(select_row(platform, channel_id, digest_date, kind)).one_or_none()
        if row is None:  # deleted between our insert and this read: let the caller retry
            return None
        status = Status(row.status)
        if status in FINAL:
            return None
        held = aware(row.lease_until)
        if status is Status.CLAIMED and held is not None and held > now:
            return None
        with self._begin() as conn:
            taken = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == row.id,
                    deliveries.c.status == row.status,
                    or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now)
                    if status is Status.CLAIMED
                    else deliveries.c.status == Status.RETRY.value,
                    _same_owner_clause(row.owner),
                )
                .values(
                    status=Status.CLAIMED.value,
                    owner=owner,
                    lease_until=lease_until,
                    attempts=deliveries.c.attempts + 1,
                    updated_at=now,
                )
            ).rowcount
            if taken != 1:
                return None
            recorded = self._messages(conn, row.id)
        return Claim(
            delivery_id=row.id,
            platform=platform,
            channel_id=channel_id,
            digest_date=digest_date,
            owner=owner,
            lease_until=lease_until,
            created_at=aware(row.created_at) or now,
            attempts=int(row.attempts or 0) + 1,
            resumed=True,
            recorded=recorded,
            snapshot=row.snapshot,
            kind=kind,
        )

    def renew(self, delivery_id: int, owner: str, lease: dt.timedelta) -> dt.datetime | None:
        """Extend our lease (a heartbeat during long sends); None means the claim was lost."""
        now = self.clock()
        lease_until = now + lease
        with self._begin() as conn:
            count = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.owner == owner,
                    deliveries.c.status == Status.CLAIMED.value,
                )
                .values(lease_until=lease_until, updated_at=now)
            ).rowcount
        return lease_until if count == 1 else None

    # -- progress and outcomes ------------------------------------------------------------

    def save_snapshot(self, delivery_id: int, snapshot: dict[str, Any], *, owner: str) -> None:
        """Keep the payloads a delivery started with, so a resume posts the same messages."""
        with self._begin() as conn:
            self._check_owner(conn, delivery_id, owner, self.clock())
            conn.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(snapshot=snapshot)
            )

    def record(
        self, delivery_id: int, idx: int, message_id: str, *, owner: str | None = None
    ) -> None:
        """Remember that message ``idx`` was posted as ``message_id`` (idempotent).

        With ``owner``, raise LostClaim unless that owner still holds the claim."""
        now = self.clock()
        try:
            with self._begin() as conn:
                if owner is not None:
                    self._check_owner(conn, delivery_id, owner, now)
                conn.execute(
                    insert(delivery_messages).values(
                        delivery_id=delivery_id, idx=idx, message_id=str(message_id), posted_at=now
                    )
                )
        except IntegrityError:
            existing = self.messages(delivery_id).get(idx)
            if existing != str(message_id):
                raise ArchiveError(
                    f"delivery {delivery_id}: message {idx} already recorded as {existing!r}, "
                    f"not {message_id!r}"
                ) from None

    @staticmethod
    def _check_owner(conn: Connection, delivery_id: int, owner: str, now: dt.datetime) -> None:
        count = conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == delivery_id,
                deliveries.c.owner == owner,
                deliveries.c.status == Status.CLAIMED.value,
            )
            .values(updated_at=now)
        ).rowcount
        if count != 1:
            raise LostClaim(f"lease lost: delivery {delivery_id} is no longer held by {owner}")

    def complete(self, delivery_id: int, message_count: int, *, owner: str | None = None) -> None:
        """Mark the delivery done; the lease is dropped so nothing can take it over."""
        self._finish(delivery_id, Status.DONE, message_count=message_count, error=None, owner=owner)

    def skip(self, delivery_id: int, reason: str, *, owner: str | None = None) -> None:
        """Mark the delivery as deliberately empty (no item matched the channel's topics)."""
        self._finish(delivery_id, Status.SKIPPED, message_count=0, error=reason, owner=owner)

    def fail(
        self, delivery_id: int, error: str, *, permanent: bool, owner: str | None = None
    ) -> None:
        """Record a failure: permanent ends the delivery, otherwise the row is released
        (status ``retry``) for a later run to resume at its first unrecorded message."""
        status = Status.FAILED if permanent else Status.RETRY
        self._finish(delivery_id, status, message_count=None, error=error[:2000], owner=owner)

    def give_up(self, delivery_id: int, reason: str) -> bool:
        """End an unfinished delivery that ran out of ``max_age``; False if it moved on.

        Guarded by the unfinished states and an expired (or no) lease, so a live sender is
        never overruled."""
        now = self.clock()
        with self._begin() as conn:
            count = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.status.in_(sorted(s.value for s in UNFINISHED)),
                    or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until <= now),
                )
                .values(
                    status=Status.GIVEN_UP.value,
                    lease_until=None,
                    error=reason[:2000],
                    updated_at=now,
                )
            ).rowcount
        return count == 1

    def retry(
        self, platform: str, channel_id: str, digest_date: dt.date, *, kind: Kind = Kind.DAILY
    ) -> DeliveryRecord | None:
        """Make a failed or given-up delivery retryable again (``send --date D --retry``).

        Recorded messages stay: the retry resumes at the first unrecorded one. Returns the
        row as it was, or None if there is none."""
        record = self.status(platform, channel_id, digest_date, kind=kind)
        if record is None or record.status not in (Status.FAILED, Status.GIVEN_UP):
            return record
        with self._begin() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == record.delivery_id, deliveries.c.status == record.status)
                .values(status=Status.RETRY.value, lease_until=None, updated_at=self.clock())
            )
        return record

    def reopen(self, delivery_id: int, snapshot: dict[str, Any]) -> bool:
        """Reopen a finished delivery to post more messages after the ones it has (an addendum).

        The row goes back to ``retry`` with the longer snapshot; its recorded messages keep
        their indices, so only the new ones are posted. False if the row was not done."""
        with self._begin() as conn:
            count = conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.status.in_([Status.DONE.value, Status.SKIPPED.value]),
                )
                .values(
                    status=Status.RETRY.value,
                    snapshot=snapshot,
                    error=None,
                    updated_at=self.clock(),
                )
            ).rowcount
        return count == 1

    def record_items(self, delivery_id: int, keys: Iterable[str]) -> None:
        """Remember which items a delivery carries (so later additions become an addendum)."""
        rows = [{"delivery_id": delivery_id, "item_key": key} for key in sorted(set(keys))]
        with self._begin() as conn:
            conn.execute(delete(delivery_items).where(delivery_items.c.delivery_id == delivery_id))
            if rows:
                conn.execute(insert(delivery_items), rows)

    def _finish(
        self,
        delivery_id: int,
        status: Status,
        *,
        message_count: int | None,
        error: str | None,
        owner: str | None,
    ) -> None:
        """End or release the row; with ``owner``, only while that owner holds the claim."""
        values: dict[str, Any] = {
            "status": status.value,
            "lease_until": None,
            "error": error,
            "updated_at": self.clock(),
        }
        if message_count is not None:
            values["message_count"] = message_count
        where = [deliveries.c.id == delivery_id]
        if owner is not None:
            where += [deliveries.c.owner == owner, deliveries.c.status == Status.CLAIMED.value]
        with self._begin() as conn:
            count = conn.execute(update(deliveries).where(*where).values(**values)).rowcount
        if owner is not None and count != 1:
            raise LostClaim(f"lease lost: delivery {delivery_id} is no longer held by {owner}")


def _same_owner_clause(owner: str | None) -> Any:
    """Guard the takeover against a concurrent one: the owner must be the one we read."""
    return deliveries.c.owner.is_(None) if owner is None else deliveries.c.owner == owner
