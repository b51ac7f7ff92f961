"""Deliveries that started must finish, and a paused platform loses nothing.

The real transports over HTTP to the fakes, a real SQLite file and the real PostgreSQL; the
clock is injected so that the reference digest (2026-02-03) is "today".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import metrics
from bot.archive.ledger import Status
from bot.delivery import Outcome
from bot.ingest import ingest_paths
from tests.fakes import FakeSlack
from tests.support.delivery_kit import DAY, REFERENCE, SLACK_TOKEN
from tests.support.delivery_world import World

NEXT = DAY + dt.timedelta(days=1)


class Died(BaseException):
    """The process dies here: nothing of ours runs after it (no release, no record)."""


def clock_at(day: dt.date, hour: int = 10) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def write_day(directory: Path, day: dt.date, *, keep_items: int | None = None) -> Path:
    """The reference digest re-dated to ``day`` (optionally only its first items)."""
    text = REFERENCE.read_text(encoding="utf-8").replace(DAY.isoformat(), day.isoformat())
    if keep_items is not None:
        cut = text.find(f"\n### {keep_items + 1}. ")
        text = text[:cut] if cut > 0 else text
    path = directory / f"{day.isoformat()}.md"
    path.write_text(text, encoding="utf-8")
    return path


def indices(messages: list[dict]) -> list[tuple[str, int]]:
    return [
        (m["metadata"]["event_payload"]["date"], m["metadata"]["event_payload"]["index"])
        for m in messages
    ]


async def test_a_crash_mid_digest_then_the_next_days_file_delivers_both_in_order(
    make_world: Callable[..., World],
    db_url: str,
    fake_slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [clock_at(DAY)()]
    world = make_world(
        [{"platform": "slack", "id": "C1"}], archive_url=db_url, clock=lambda: now[0]
    )
    world.archive.ledger.clock = lambda: now[0]
    from bot.archive.ledger import Ledger

    record = Ledger.record

    def crash_at_nine(self: Ledger, delivery_id: int, idx: int, message_id: str, **kw: object):
        if idx == 9:
            raise Died
        return record(self, delivery_id, idx, message_id, **kw)

    monkeypatch.setattr(Ledger, "record", crash_at_nine)
    with pytest.raises(Died):
        await world.deliverer.deliver_all(world.channels())
    monkeypatch.setattr(Ledger, "record", record)
    assert len(fake_slack.messages("C1")) == 10  # 0..8 recorded, 9 posted, not recorded

    # The next morning, after the dead run's lease: the new day has landed too.
    now[0] = clock_at(NEXT)()
    assert ingest_paths(world.archive, [str(write_day(tmp_path, NEXT))]).ok
    results = await world.deliverer.deliver_all(world.channels())
    assert [(r.digest_date, r.outcome) for r in results] == [
        (DAY, Outcome.DELIVERED),
        (NEXT, Outcome.DELIVERED),
    ]
    expected = [(DAY.isoformat(), i) for i in range(15)] + [
        (NEXT.isoformat(), i) for i in range(15)
    ]
    assert indices(fake_slack.messages("C1")) == expected


async def test_an_unfinished_day_past_max_age_is_given_up_loudly(
    make_world: Callable[..., World], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    now = [clock_at(DAY)()]
    world = make_world([{"platform": "slack", "id": "C1"}], clock=lambda: now[0])
    ledger = world.archive.ledger
    claim = ledger.claim("slack", "C1", DAY, "dead-run", dt.timedelta(seconds=1))
    assert claim is not None
    ledger.fail(claim.delivery_id, "released after the window", permanent=False)
    later = DAY + dt.timedelta(days=5)
    now[0] = clock_at(later)()
    assert ingest_paths(world.archive, [str(write_day(tmp_path, later))]).ok
    before = metrics.DELIVERIES_GIVEN_UP.labels("slack")._value.get()
    results = await world.deliverer.deliver_all(world.channels())
    assert [(r.digest_date, r.outcome) for r in results] == [(later, Outcome.DELIVERED)]
    row = ledger.status("slack", "C1", DAY)
    assert row is not None and row.status is Status.GIVEN_UP
    assert [r.digest_date for r in ledger.given_up("slack")] == [DAY]
    assert metrics.DELIVERIES_GIVEN_UP.labels("slack")._value.get() == before + 1


async def test_a_future_dated_digest_neither_goes_out_nor_hides_the_real_one(
    make_world: Callable[..., World], fake_slack: FakeSlack, tmp_path: Path, db_url: str
) -> None:
    now = [clock_at(DAY)()]
    world = make_world(
        [{"platform": "slack", "id": "C1"}], archive_url=db_url, clock=lambda: now[0]
    )
    typo = DAY.replace(year=DAY.year + 1)
    world.archive.store(
        world.archive.digest(DAY).model_copy(update={"date": typo}), path="typo.md", sha256="x"
    )
    results = await world.deliverer.deliver_all(world.channels())
    assert [(r.digest_date, r.outcome) for r in results] == [(DAY, Outcome.DELIVERED)]
    now[0] = clock_at(NEXT)()
    assert ingest_paths(world.archive, [str(write_day(tmp_path, NEXT))]).ok
    results = await world.deliverer.deliver_all(world.channels())
    assert [(r.digest_date, r.outcome) for r in results] == [(NEXT, Outcome.DELIVERED)]
    assert {m["metadata"]["event_payload"]["date"] for m in fake_slack.messages("C1")} == {
        DAY.isoformat(),
        NEXT.isoformat(),
    }


async def test_a_wrong_token_then_the_right_one_delivers_and_deactivates_nothing(
    make_world: Callable[..., World], fake_slack: FakeSlack, db_url: str
) -> None:
    fake_slack.token = "xoxb-the-real-one"  # the config holds another (rotated) token
    world = make_world(
        [{"platform": "slack", "id": "C1"}, {"platform": "slack", "id": "C2"}],
        archive_url=db_url,
        clock=clock_at(DAY),
    )
    world.deliverer.platforms.recheck = 0.0
    results = await world.deliverer.deliver_all(world.channels())
    assert {r.outcome for r in results} == {Outcome.PAUSED}
    assert "invalid_auth" in (results[0].error or "")
    assert world.archive.subscriptions.list() == []  # no channel deactivated
    assert "slack" in world.deliverer.platforms.failing()
    assert metrics.PLATFORM_UP.labels("slack")._value.get() == 0
    assert fake_slack.messages("C1") == []

    fake_slack.token = SLACK_TOKEN  # the operator fixes the token (or Slack comes back)
    results = await world.deliverer.deliver_all(world.channels())
    assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.DELIVERED]
    assert len(fake_slack.messages("C1")) == len(fake_slack.messages("C2")) == 15
    assert world.deliverer.platforms.failing() == {}
    assert [c.key for c in world.channels()] == ["slack:C1", "slack:C2"]


async def test_items_added_after_delivery_arrive_as_an_addendum_in_the_thread(
    make_world: Callable[..., World], fake_slack: FakeSlack, tmp_path: Path, db_url: str
) -> None:
    world = make_world(
        [{"platform": "slack", "id": "C1"}], archive_url=db_url, clock=clock_at(NEXT)
    )
    half = write_day(tmp_path, NEXT, keep_items=5)
    assert ingest_paths(world.archive, [str(half)]).ok
    (first,) = await world.deliverer.deliver_all(world.channels())
    assert first.outcome is Outcome.DELIVERED
    posted = len(fake_slack.messages("C1"))
    write_day(tmp_path, NEXT)  # the rest of the file lands
    assert ingest_paths(world.archive, [str(half)]).ok
    world.deliverer.planner.forget()  # re-ingested within the planner's few cached seconds
    results = await world.deliverer.deliver_all(world.channels())
    assert [r.outcome for r in results] == [Outcome.DELIVERED]
    messages = fake_slack.messages("C1")
    parent = messages[0]["ts"]
    assert len(messages) > posted
    assert all(m["thread_ts"] == parent for m in messages[1:])  # in the same thread
    texts = [m["text"] + str(m.get("blocks")) for m in messages]
    from tests.support.delivery_kit import item_urls

    for rank, url in item_urls().items():
        assert sum(url in text for text in texts) >= 1, rank
    # Nothing twice: a third run posts nothing.
    again = await world.deliverer.deliver_all(world.channels())
    assert [r.outcome for r in again] == [Outcome.NOTHING_NEW]
    assert len(fake_slack.messages("C1")) == len(messages)


async def test_between_schedules_only_unfinished_days_are_finished(
    make_world: Callable[..., World], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    now = [clock_at(NEXT, hour=3)()]
    world = make_world([{"platform": "slack", "id": "C1"}], clock=lambda: now[0])
    world.archive.ledger.clock = lambda: now[0]
    claim = world.archive.ledger.claim("slack", "C1", DAY, "dead-run", dt.timedelta(seconds=1))
    assert claim is not None
    world.archive.ledger.fail(claim.delivery_id, "released after the window", permanent=False)
    assert ingest_paths(world.archive, [str(write_day(tmp_path, NEXT))]).ok
    (channel,) = world.channels()
    results = await world.deliverer.deliver_due(channel, backlog_only=True)
    assert [(r.digest_date, r.outcome) for r in results] == [(DAY, Outcome.DELIVERED)]
    results = await world.deliverer.deliver_due(channel)  # the scheduled run, later
    assert [(r.digest_date, r.outcome) for r in results] == [(NEXT, Outcome.DELIVERED)]
