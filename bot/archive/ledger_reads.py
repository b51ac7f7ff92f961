"""Reading the delivery ledger: one row, a channel's history, and what is unfinished.

Why apart from claiming: planning, ``/healthz``, ``subscriptions list`` and ``send
--dry-run`` only read; what they need to know is which deliveries started and have not
finished (to finish them first, oldest first) and which were given up (to say so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, func, select

from bot.archive.ledger_base import LedgerBase, select_row
from bot.archive.ledger_records import UNFINISHED, DeliveryRecord, Kind, Status, record_of
from bot.archive.schema import deliveries, delivery_items


class LedgerReads(LedgerBase):
    """The read side of the ledger."""

    def status(
        self, platform: str, channel_id: str, digest_date: dt.date, *, kind: Kind = Kind.DAILY
    ) -> DeliveryRecord | None:
        """The ledger row for one delivery, with its recorded messages, or None."""
        with self._connect() as conn:
            row = conn.execute(select_row(platform, channel_id, digest_date, kind)).one_or_none()
            if row is None:
                return None
            return record_of(row, self._messages(conn, row.id))

    def get(self, delivery_id: int) -> DeliveryRecord | None:
        with self._connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
            return record_of(row, self._messages(conn, row.id)) if row else None

    def messages(self, delivery_id: int) -> dict[int, str]:
        with self._connect() as conn:
            return self._messages(conn, delivery_id)

    def last_delivered_date(
        self,
        platform: str,
        channel_id: str,
        *,
        kind: Kind = Kind.DAILY,
        not_after: dt.date | None = None,
    ) -> dt.date | None:
        """Newest digest date (or rollup week's Monday) this channel has received or
        deliberately skipped; ``not_after`` ignores rows dated later (a digest dated in the
        future by mistake must not hide the real ones)."""
        stmt = select(func.max(deliveries.c.digest_date)).where(
            deliveries.c.platform == platform,
            deliveries.c.channel_id == channel_id,
            deliveries.c.kind == Kind(kind).value,
            deliveries.c.status.in_([Status.DONE.value, Status.SKIPPED.value]),
        )
        if not_after is not None:
            stmt = stmt.where(deliveries.c.digest_date <= not_after)
        with self._connect() as conn:
            return conn.execute(stmt).scalar()

    def dates_with_rows(
        self, platform: str, channel_id: str, *, kind: Kind = Kind.DAILY
    ) -> set[dt.date]:
        """Every date this channel has a ledger row of ``kind`` for, whatever its state."""
        stmt = select(deliveries.c.digest_date).where(
            deliveries.c.platform == platform,
            deliveries.c.channel_id == channel_id,
            deliveries.c.kind == Kind(kind).value,
        )
        with self._connect() as conn:
            return set(conn.execute(stmt).scalars())

    def unfinished(
        self,
        platform: str | None = None,
        channel_id: str | None = None,
        *,
        kind: Kind | None = Kind.DAILY,
    ) -> list[DeliveryRecord]:
        """Deliveries that started and have not finished (claimed or released), oldest
        first; ``kind=None``: of every kind."""
        return self._rows(platform, channel_id, UNFINISHED, kind=kind, oldest_first=True)

    def given_up(self, platform: str | None = None, limit: int = 100) -> list[DeliveryRecord]:
        """Deliveries that ended without reaching the channel (failed or given up)."""
        return self._rows(
            platform,
            None,
            {Status.FAILED, Status.GIVEN_UP},
            kind=None,
            oldest_first=False,
            limit=limit,
        )

    def item_keys(self, delivery_id: int) -> set[str]:
        """The items (by ``bot.delivery.plan.item_key``) a finished delivery carried."""
        stmt = select(delivery_items.c.item_key).where(delivery_items.c.delivery_id == delivery_id)
        with self._connect() as conn:
            return set(conn.execute(stmt).scalars())

    def history(
        self, platform: str | None = None, channel_id: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        """Recent ledger rows, newest digest first (for the CLI and /healthz)."""
        return self._rows(platform, channel_id, None, kind=None, oldest_first=False, limit=limit)

    def _rows(
        self,
        platform: str | None,
        channel_id: str | None,
        statuses: Iterable[Status] | None,
        *,
        kind: Kind | None,
        oldest_first: bool,
        limit: int = 1000,
    ) -> list[DeliveryRecord]:
        order = deliveries.c.digest_date if oldest_first else deliveries.c.digest_date.desc()
        stmt = select(deliveries).order_by(order, deliveries.c.id)
        conditions = []
        if platform:
            conditions.append(deliveries.c.platform == platform)
        if channel_id:
            conditions.append(deliveries.c.channel_id == channel_id)
        if kind is not None:
            conditions.append(deliveries.c.kind == Kind(kind).value)
        if statuses is not None:
            conditions.append(deliveries.c.status.in_(sorted(s.value for s in statuses)))
        if conditions:
            stmt = stmt.where(and_(*conditions))
        with self._connect() as conn:
            rows = conn.execute(stmt.limit(limit)).all()
            return [record_of(row, self._messages(conn, row.id)) for row in rows]
