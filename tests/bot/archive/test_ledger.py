"""The delivery ledger on a real SQLite file and the real PostgreSQL: claims, leases, resume."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from bot.archive import Kind, Ledger, Status
from bot.archive.engine import make_engine
from bot.archive.schema import deliveries, metadata
from bot.errors import ArchiveError, LostClaim

DAY = dt.date(2026, 2, 3)
MONDAY_W06 = dt.date(2026, 2, 2)
LEASE = dt.timedelta(minutes=10)


class Clock:
    """A settable clock: lease expiry without sleeping."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 2, 3, 1, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(engine: Engine, clock: Clock) -> Ledger:
    return Ledger(engine, clock=clock)


def test_first_claim_wins_and_a_live_lease_refuses_others(ledger: Ledger) -> None:
    claim = ledger.claim("slack", "C1", DAY, "a", LEASE)
    assert claim is not None
    assert (claim.resumed, claim.recorded, claim.first_unrecorded()) == (False, {}, 0)
    assert ledger.claim("slack", "C1", DAY, "b", LEASE) is None
    # Other channels, platforms and days are separate rows.
    assert ledger.claim("slack", "C2", DAY, "b", LEASE) is not None
    assert ledger.claim("telegram", "C1", DAY, "b", LEASE) is not None
    assert ledger.claim("slack", "C1", DAY + dt.timedelta(days=1), "b", LEASE) is not None
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert (record.status, record.owner, record.attempts) == (Status.CLAIMED, "a", 1)


def test_a_completed_delivery_is_never_claimed_again(ledger: Ledger, clock: Clock) -> None:
    claim = ledger.claim("slack", "C1", DAY, "a", LEASE)
    assert claim is not None
    ledger.record(claim.delivery_id, 0, "100.1")
    ledger.record(claim.delivery_id, 1, "100.2")
    ledger.complete(claim.delivery_id, 2)
    clock.advance(days=3)  # long after any lease
    assert ledger.claim("slack", "C1", DAY, "a", LEASE) is None
    assert ledger.claim("slack", "C1", DAY, "b", LEASE) is None
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert (record.status, record.message_count, record.messages) == (
        Status.DONE,
        2,
        {0: "100.1", 1: "100.2"},
    )
    assert ledger.last_delivered_date("slack", "C1") == DAY
    assert ledger.last_delivered_date("slack", "C2") is None


def test_an_expired_lease_is_taken_over_with_the_recorded_messages(
    ledger: Ledger, clock: Clock
) -> None:
    first = ledger.claim("slack", "C1", DAY, "crashed", LEASE)
    assert first is not None
    ledger.record(first.delivery_id, 0, "100.1")
    ledger.record(first.delivery_id, 1, "100.2")
    clock.advance(minutes=9)
    assert ledger.claim("slack", "C1", DAY, "b", LEASE) is None  # not expired yet
    clock.advance(minutes=2)
    resumed = ledger.claim("slack", "C1", DAY, "b", LEASE)
    assert resumed is not None
    assert resumed.delivery_id == first.delivery_id
    assert resumed.resumed
    assert resumed.recorded == {0: "100.1", 1: "100.2"}
    assert resumed.first_unrecorded() == 2
    assert resumed.attempts == 2
    assert resumed.created_at == first.created_at
    # The crashed owner has lost its claim: its heartbeat says so.
    assert ledger.renew(first.delivery_id, "crashed", LEASE) is None
    assert ledger.renew(resumed.delivery_id, "b", LEASE) == clock.now + LEASE


def test_renewing_keeps_a_long_delivery_ours(ledger: Ledger, clock: Clock) -> None:
    claim = ledger.claim("slack", "C1", DAY, "a", LEASE)
    assert claim is not None
    for _ in range(3):
        clock.advance(minutes=8)
        assert ledger.renew(claim.delivery_id, "a", LEASE) is not None
        assert ledger.claim("slack", "C1", DAY, "b", LEASE) is None
    clock.advance(minutes=11)
    assert ledger.claim("slack", "C1", DAY, "b", LEASE) is not None


def test_a_transient_failure_releases_the_row_a_permanent_one_ends_it(ledger: Ledger) -> None:
    claim = ledger.claim("slack", "C1", DAY, "a", LEASE)
    assert claim is not None
    ledger.record(claim.delivery_id, 0, "100.1")
    ledger.fail(claim.delivery_id, "429 until the window closed", permanent=False)
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert (record.status, record.error, record.lease_until) == (
        Status.RETRY,
        "429 until the window closed",
        None,
    )
    assert ledger.last_delivered_date("slack", "C1") is None
    again = ledger.claim("slack", "C1", DAY, "b", LEASE)  # at once: no lease to wait out
    assert again is not None
    assert again.recorded == {0: "100.1"}
    ledger.fail(again.delivery_id, "channel_not_found", permanent=True)
    assert ledger.claim("slack", "C1", DAY, "c", LEASE) is None
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert record.status is Status.FAILED


def test_a_skipped_day_counts_as_received(ledger: Ledger) -> None:
    claim = ledger.claim("telegram", "-100", DAY, "a", LEASE)
    assert claim is not None
    ledger.skip(claim.delivery_id, "no item matches tag:Robotics")
    assert ledger.claim("telegram", "-100", DAY, "b", LEASE) is None
    assert ledger.last_delivered_date("telegram", "-100") == DAY
    record = ledger.status("telegram", "-100", DAY)
    assert record is not None
    assert (record.status, record.message_count, record.error) == (
        Status.SKIPPED,
        0,
        "no item matches tag:Robotics",
    )


def test_recording_is_idempotent_but_never_rewrites_a_message(ledger: Ledger) -> None:
    claim = ledger.claim("slack", "C1", DAY, "a", LEASE)
    assert claim is not None
    ledger.record(claim.delivery_id, 0, "100.1")
    ledger.record(claim.delivery_id, 0, "100.1")
    with pytest.raises(ArchiveError, match=r"already recorded as '100\.1'"):
        ledger.record(claim.delivery_id, 0, "999.9")
    assert ledger.messages(claim.delivery_id) == {0: "100.1"}


def test_history_lists_newest_digest_first(ledger: Ledger) -> None:
    for offset in range(3):
        claim = ledger.claim("slack", "C1", DAY + dt.timedelta(days=offset), "a", LEASE)
        assert claim is not None
        ledger.complete(claim.delivery_id, 0)
    dates = [r.digest_date for r in ledger.history("slack", "C1")]
    assert dates == [DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=1), DAY]
    assert ledger.history("telegram") == []


def _race(ledger: Ledger, owners: list[str]) -> list[str]:
    """Every owner claims the same row at the same moment; returns the winners."""
    barrier = threading.Barrier(len(owners))
    winners: list[str] = []
    errors: list[BaseException] = []

    def attempt(owner: str) -> None:
        try:
            barrier.wait()
            if ledger.claim("slack", "C1", DAY, owner, LEASE) is not None:
                winners.append(owner)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return winners


def test_concurrent_claims_have_exactly_one_winner(ledger: Ledger) -> None:
    winners = _race(ledger, [f"owner{i}" for i in range(8)])
    assert len(winners) == 1
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert record.owner == winners[0]


def test_concurrent_takeovers_of_an_expired_lease_have_exactly_one_winner(
    ledger: Ledger, clock: Clock
) -> None:
    assert ledger.claim("slack", "C1", DAY, "crashed", LEASE) is not None
    clock.advance(minutes=30)
    winners = _race(ledger, [f"owner{i}" for i in range(8)])
    assert len(winners) == 1
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert (record.owner, record.attempts) == (winners[0], 2)


def test_a_stale_sender_cannot_record_release_or_complete_a_taken_over_row(
    ledger: Ledger, clock: Clock
) -> None:
    a = ledger.claim("slack", "C1", DAY, "a", LEASE)
    assert a is not None
    ledger.record(a.delivery_id, 0, "1.0", owner="a")
    clock.advance(minutes=11)
    b = ledger.claim("slack", "C1", DAY, "b", LEASE)
    assert b is not None and b.first_unrecorded() == 1

    # A wakes up after its lease expired: every write it attempts is refused.
    with pytest.raises(LostClaim):
        ledger.record(a.delivery_id, 1, "2.0", owner="a")
    with pytest.raises(LostClaim):
        ledger.fail(a.delivery_id, "window closed", permanent=False, owner="a")
    with pytest.raises(LostClaim):
        ledger.complete(a.delivery_id, 3, owner="a")

    # So B's claim is intact: nobody else can take the row while B's lease is live.
    assert ledger.claim("slack", "C1", DAY, "c", LEASE) is None
    record = ledger.status("slack", "C1", DAY)
    assert record is not None
    assert (record.status, record.owner, record.messages) == (Status.CLAIMED, "b", {0: "1.0"})
    ledger.record(b.delivery_id, 1, "2.0", owner="b")
    ledger.complete(b.delivery_id, 2, owner="b")
    assert ledger.status("slack", "C1", DAY).status is Status.DONE  # type: ignore[union-attr]


# -- kinds: a Monday's digest and that week's rollup are two deliveries --------------------


def test_daily_and_weekly_rows_of_one_monday_are_separate_claims(engine: Engine) -> None:
    ledger = Ledger(engine)
    daily = ledger.claim("slack", "C1", MONDAY_W06, "a", LEASE)
    weekly = ledger.claim("slack", "C1", MONDAY_W06, "a", LEASE, kind=Kind.WEEKLY)
    assert daily is not None and weekly is not None
    assert daily.delivery_id != weekly.delivery_id and weekly.kind is Kind.WEEKLY
    # Each is claimed once: a second sender gets nothing while the lease is live.
    assert ledger.claim("slack", "C1", MONDAY_W06, "b", LEASE, kind=Kind.WEEKLY) is None
    ledger.complete(weekly.delivery_id, 3, owner="a")
    assert ledger.claim("slack", "C1", MONDAY_W06, "b", LEASE, kind=Kind.WEEKLY) is None
    record = ledger.status("slack", "C1", MONDAY_W06, kind=Kind.WEEKLY)
    assert record is not None and record.status.value == "done" and record.kind is Kind.WEEKLY
    # A weekly row never counts as "the last digest delivered" for the daily plan.
    assert ledger.last_delivered_date("slack", "C1") is None
    assert ledger.last_delivered_date("slack", "C1", kind=Kind.WEEKLY) == MONDAY_W06


def test_rows_inserted_without_a_kind_are_daily(engine: Engine) -> None:
    now = dt.datetime(2026, 2, 3, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                platform="slack",
                channel_id="C1",
                digest_date=MONDAY_W06,
                status="done",
                attempts=1,
                created_at=now,
                updated_at=now,
            )
        )
        assert conn.execute(select(deliveries.c.kind)).scalar_one() == "daily"
    ledger = Ledger(engine)
    assert ledger.last_delivered_date("slack", "C1") == MONDAY_W06
    assert ledger.claim("slack", "C1", MONDAY_W06, "a", LEASE) is None  # already done
