"""Ledger kinds: a day's digest and a week's rollup keyed by the same Monday are separate
deliveries, each claimed once; rows written without a kind are daily."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from bot.archive.engine import make_engine
from bot.archive.ledger import Kind, Ledger
from bot.archive.schema import deliveries, metadata

MONDAY = dt.date(2026, 2, 2)
LEASE = dt.timedelta(minutes=10)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_daily_and_weekly_rows_of_one_monday_are_separate_claims(engine: Engine) -> None:
    ledger = Ledger(engine)
    daily = ledger.claim("slack", "C1", MONDAY, "a", LEASE)
    weekly = ledger.claim("slack", "C1", MONDAY, "a", LEASE, kind=Kind.WEEKLY)
    assert daily is not None and weekly is not None
    assert daily.delivery_id != weekly.delivery_id and weekly.kind is Kind.WEEKLY
    # Each is claimed once: a second sender gets nothing while the lease is live.
    assert ledger.claim("slack", "C1", MONDAY, "b", LEASE, kind=Kind.WEEKLY) is None
    ledger.complete(weekly.delivery_id, 3, owner="a")
    assert ledger.claim("slack", "C1", MONDAY, "b", LEASE, kind=Kind.WEEKLY) is None
    record = ledger.status("slack", "C1", MONDAY, kind=Kind.WEEKLY)
    assert record is not None and record.status.value == "done" and record.kind is Kind.WEEKLY
    # A weekly row never counts as "the last digest delivered" for the daily plan.
    assert ledger.last_delivered_date("slack", "C1") is None
    assert ledger.last_delivered_date("slack", "C1", kind=Kind.WEEKLY) == MONDAY


def test_rows_inserted_without_a_kind_are_daily(engine: Engine) -> None:
    now = dt.datetime(2026, 2, 3, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                platform="slack",
                channel_id="C1",
                digest_date=MONDAY,
                status="done",
                attempts=1,
                created_at=now,
                updated_at=now,
            )
        )
        assert conn.execute(select(deliveries.c.kind)).scalar_one() == "daily"
    ledger = Ledger(engine)
    assert ledger.last_delivered_date("slack", "C1") == MONDAY
    assert ledger.claim("slack", "C1", MONDAY, "a", LEASE) is None  # already done
