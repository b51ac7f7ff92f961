"""A Monday's digest and that week's rollup in one channel: the same date, two deliveries.

Both are keyed by the Monday, so a crash-resume that looked only at date and index would
take one for the other. Real slack_sdk over HTTP to the fake Slack and its history; the
crash is our own seam (the ledger's ``record``), as in ``test_deliverer``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Kind
from bot.channels import Channel
from bot.delivery import DeliveryResult, Outcome
from bot.ingest import ingest_paths
from bot.query import IsoWeek
from tests.fakes import FakeSlack
from tests.support.delivery_world import World

WEEK = IsoWeek(2026, 6)
MONDAY = WEEK.monday


def _crash_on_first_record(world: World, kind: Kind, monkeypatch: pytest.MonkeyPatch) -> None:
    """Die once between posting message 0 of the ``kind`` delivery and recording it."""
    ledger = world.archive.ledger
    original = ledger.record
    crashed: list[int] = []

    def record(delivery_id: int, idx: int, message_id: str, *, owner: str | None = None) -> None:
        row = ledger.status("slack", "C1", MONDAY, kind=kind)
        mine = row is not None and row.delivery_id == delivery_id
        if mine and idx == 0 and not crashed:
            crashed.append(idx)
            raise RuntimeError("simulated crash after posting")
        original(delivery_id, idx, message_id, owner=owner)

    monkeypatch.setattr(ledger, "record", record)


def _payload(message: dict[str, Any]) -> dict[str, Any]:
    payload = dict(message["metadata"]["event_payload"])
    payload.setdefault("kind", "daily")  # posts from before kinds were recorded
    return payload


async def _send(world: World, channel: Channel, kind: Kind) -> DeliveryResult:
    if kind is Kind.WEEKLY:
        return await world.deliverer.deliver(channel.as_weekly(), week=WEEK)
    return await world.deliverer.deliver(channel, date=MONDAY)


@pytest.mark.parametrize("crashed", [Kind.DAILY, Kind.WEEKLY])
async def test_a_crash_resume_reconciles_its_own_kind_not_the_other_one(
    make_world: Callable[..., World],
    fake_slack: FakeSlack,
    week_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    crashed: Kind,
) -> None:
    world = make_world([{"platform": "slack", "id": "C1", "digest": "both"}])
    assert ingest_paths(world.archive, [str(week_dir / f"{MONDAY}.md")]).ok
    channel = world.channel("slack:C1")
    other = Kind.WEEKLY if crashed is Kind.DAILY else Kind.DAILY
    _crash_on_first_record(world, crashed, monkeypatch)

    first = await _send(world, channel, crashed)
    assert first.outcome is Outcome.FAILED and "simulated crash" in (first.error or "")
    assert len(fake_slack.messages("C1")) == 1  # message 0 posted, not recorded
    # The other delivery goes out whole in between: its message 0 is now the newest
    # parent in the history, with the same date and index as the one to be found.
    done = await _send(world, channel, other)
    assert done.outcome is Outcome.DELIVERED and done.reconciled == 0

    resumed = await _send(world, channel, crashed)
    assert resumed.outcome is Outcome.DELIVERED
    assert (resumed.reconciled, resumed.posted) == (1, resumed.total - 1)

    posted = fake_slack.messages("C1")
    assert len(posted) == resumed.total + done.total  # nothing doubled, nothing lost
    keys = Counter((_payload(m)["kind"], _payload(m)["index"]) for m in posted)
    assert set(keys.values()) == {1}
    assert all(_payload(m)["date"] == MONDAY.isoformat() for m in posted)
    by_ts = {m["ts"]: m for m in posted}
    for kind in (Kind.DAILY, Kind.WEEKLY):
        row = world.archive.ledger.status("slack", "C1", MONDAY, kind=kind)
        assert row is not None and row.status.value == "done"
        parent = by_ts[row.messages[0]]
        assert (_payload(parent)["kind"], _payload(parent)["index"]) == (kind.value, 0)
        replies = [m for m in posted if m.get("thread_ts") == parent["ts"] != m["ts"]]
        assert {_payload(m)["kind"] for m in replies} == {kind.value}
        assert sorted(row.messages.values()) == sorted([parent["ts"], *(m["ts"] for m in replies)])
