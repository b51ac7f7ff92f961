"""The plumbing both halves of the delivery ledger share: engine, clock, transactions.

Why a module of its own: claiming (``bot.archive.ledger``) and reading
(``bot.archive.ledger_reads``) are separate ideas that need the same row selection and the
same conversion of database errors into ``ArchiveError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from bot.archive.ledger_records import Kind, utcnow
from bot.archive.schema import deliveries, delivery_messages
from bot.errors import ArchiveError


def select_row(platform: str, channel_id: str, digest_date: dt.date, kind: Kind) -> Any:
    """The one ledger row of a (platform, channel, kind, day) delivery."""
    return select(deliveries).where(
        deliveries.c.platform == platform,
        deliveries.c.channel_id == channel_id,
        deliveries.c.digest_date == digest_date,
        deliveries.c.kind == Kind(kind).value,
    )


class LedgerBase:
    """The engine, the clock and short transactions with errors turned into ArchiveError."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    @staticmethod
    def _messages(conn: Connection, delivery_id: int) -> dict[int, str]:
        rows = conn.execute(
            select(delivery_messages.c.idx, delivery_messages.c.message_id)
            .where(delivery_messages.c.delivery_id == delivery_id)
            .order_by(delivery_messages.c.idx)
        )
        return {int(idx): str(message_id) for idx, message_id in rows}

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except OperationalError as exc:
            raise ArchiveError(f"delivery ledger: database unavailable: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise ArchiveError(f"delivery ledger: {exc}") from exc

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise ArchiveError(f"delivery ledger: database unavailable: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise ArchiveError(f"delivery ledger: {exc}") from exc
