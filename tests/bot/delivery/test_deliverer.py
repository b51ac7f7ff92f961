"""Delivering the reference digest through the real clients to the fakes, via the ledger.

Real parts throughout: slack_sdk and python-telegram-bot over HTTP to the fake servers, a
real SQLite archive (and PostgreSQL where marked), the real formatters. Only our own seams
are patched (the ledger's ``record``, to crash between a post and its record).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive, Status
from bot.archive.schema import deliveries
from bot.channels import Channel
from bot.delivery import Deliverer, DeliveryOptions, Outcome
from tests.fakes import FakeSlack, FakeTelegram
from tests.support.delivery_kit import (
    AGENT_RANKS,
    ALL,
    DAY,
    FAST,
    REFERENCE,
    ranks_seen,
    slack_text,
)
from tests.support.delivery_world import World
from tests.support.metrics import sample


def rendered(world: World, platform: str) -> list[Any]:
    digest = world.archive.digest(DAY)
    assert digest is not None
    return world.transports.get(platform).render(digest, world.deliverer.templates)


async def test_all_items_arrive_once_on_slack_and_telegram(
    make_world: Callable[..., World],
    db_url: str,
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    world = make_world(
        [{"platform": "slack", "id": "C1"}, {"platform": "telegram", "id": -1001}],
        archive_url=db_url,
    )
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [(r.channel.key, r.outcome) for r in results] == [
        ("slack:C1", Outcome.DELIVERED),
        ("telegram:-1001", Outcome.DELIVERED),
    ]

    slack_payloads = rendered(world, "slack")
    posted = fake_slack.messages("C1")
    assert len(posted) == len(slack_payloads) == results[0].posted == results[0].total
    parent = posted[0]
    assert parent.get("thread_ts") in (None, parent["ts"])
    assert all(m["thread_ts"] == parent["ts"] for m in posted[1:])
    assert [m["metadata"] for m in posted] == [
        {
            "event_type": "digest_message",
            "event_payload": {"date": "2026-02-03", "index": i, "kind": "daily"},
        }
        for i in range(len(posted))
    ]
    assert [m["text"] for m in posted] == [p.text for p in slack_payloads]
    assert ranks_seen([slack_text(parent)]) == ALL  # the headlines
    assert ranks_seen([slack_text(m) for m in posted[1:]]) == ALL  # the thread

    telegram_payloads = rendered(world, "telegram")
    sent = fake_telegram.sent(-1001)
    assert [m["html"] for m in sent] == [p.text for p in telegram_payloads]
    assert ranks_seen([m["html"] for m in sent]) == ALL

    slack_row = world.archive.ledger.status("slack", "C1", DAY)
    assert slack_row is not None
    assert slack_row.status is Status.DONE
    assert slack_row.messages == {i: m["ts"] for i, m in enumerate(posted)}
    telegram_row = world.archive.ledger.status("telegram", "-1001", DAY)
    assert telegram_row is not None
    assert telegram_row.messages == {i: str(m["message_id"]) for i, m in enumerate(sent)}


async def test_a_second_run_posts_nothing(
    make_world: Callable[..., World], fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    world = make_world([{"platform": "slack", "id": "C1"}, {"platform": "telegram", "id": -1001}])
    await world.deliverer.deliver_all(world.channels(), date=DAY)
    calls = len(fake_slack.calls) + len(fake_telegram.calls_to("sendMessage"))
    again = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in again] == [Outcome.ALREADY, Outcome.ALREADY]
    assert [r.posted for r in again] == [0, 0]
    assert len(fake_slack.calls) + len(fake_telegram.calls_to("sendMessage")) == calls


async def test_topic_filters_hold(
    make_world: Callable[..., World], fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    world = make_world(
        [
            {"platform": "slack", "id": "CAGENT", "topics": ["tag:Agent"]},
            {"platform": "slack", "id": "CBOTH", "topics": ["tag:RL", "source:量子位 stars:5"]},
            {"platform": "telegram", "id": -1002, "topics": ["tag:Agent"]},
        ]
    )
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    agent = fake_slack.messages("CAGENT")
    assert ranks_seen([slack_text(m) for m in agent]) == AGENT_RANKS
    assert len(agent) == 1 + len(AGENT_RANKS)  # the parent, one reply per item
    assert ranks_seen([m["html"] for m in fake_telegram.sent(-1002)]) == AGENT_RANKS
    # Items matching ANY topic: tag:RL gives 2 and 7 (source:量子位 with 5 stars adds none).
    assert ranks_seen([slack_text(m) for m in fake_slack.messages("CBOTH")]) == [2, 7]


async def test_nothing_matching_posts_nothing_and_records_a_skip(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    world = make_world([{"platform": "slack", "id": "C1", "topics": ["tag:Robotics"]}])
    (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.SKIPPED
    assert "no item of 14 matches" in (result.error or "")
    assert fake_slack.calls_to("chat.postMessage") == []
    row = world.archive.ledger.status("slack", "C1", DAY)
    assert row is not None
    assert row.status is Status.SKIPPED
    (again,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert again.outcome is Outcome.SKIPPED
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_429s_500s_and_dropped_connections_lose_and_duplicate_nothing(
    make_world: Callable[..., World], fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    world = make_world([{"platform": "slack", "id": "C1"}, {"platform": "telegram", "id": -1001}])
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    fake_slack.fail_next("chat.postMessage", drop=True)
    fake_slack.fail_next("chat.postMessage", status=503)
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    fake_telegram.fail_next("sendMessage", status=500)
    fake_telegram.fail_next("sendMessage", drop=True)
    fake_telegram.fail_next("sendMessage", status=502)
    before = sample("digestbot_delivery_failures", platform="slack", kind="transient")

    results = await world.deliverer.deliver_all(world.channels(), date=DAY)

    assert [r.outcome for r in results] == [Outcome.DELIVERED, Outcome.DELIVERED]
    assert fake_slack.stats["injected"] == 5 and fake_telegram.stats["injected"] == 4
    posted = fake_slack.messages("C1")
    assert [m["text"] for m in posted] == [p.text for p in rendered(world, "slack")]
    assert [m["metadata"]["event_payload"]["index"] for m in posted] == list(range(len(posted)))
    sent = fake_telegram.sent(-1001)
    assert [m["html"] for m in sent] == [p.text for p in rendered(world, "telegram")]
    # The 429s were retried inside the clients; 5xx and drops reached our backoff.
    assert results[0].retries >= 3 and results[1].retries >= 2
    assert sample("digestbot_delivery_failures", platform="slack", kind="transient") >= before + 3
    # A 5xx or a drop on chat.postMessage may have posted: the history was checked first.
    assert fake_slack.calls_to("conversations.history") or fake_slack.calls_to(
        "conversations.replies"
    )


def _crash_on_record(world: World, index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Die between posting message ``index`` and recording it, once."""
    ledger = world.archive.ledger
    original = ledger.record
    crashed: list[int] = []

    def record(delivery_id: int, idx: int, message_id: str, *, owner: str | None = None) -> None:
        if idx == index and not crashed:
            crashed.append(idx)
            raise RuntimeError("simulated crash after posting")
        original(delivery_id, idx, message_id, owner=owner)

    monkeypatch.setattr(ledger, "record", record)


@pytest.mark.parametrize("index", [0, 5])
async def test_slack_resume_finds_a_message_posted_before_the_crash(
    make_world: Callable[..., World],
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    index: int,
) -> None:
    world = make_world([{"platform": "slack", "id": "C1"}])
    _crash_on_record(world, index, monkeypatch)
    (first,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert first.outcome is Outcome.FAILED
    assert "simulated crash" in (first.error or "")
    assert len(fake_slack.messages("C1")) == index + 1  # posted, not recorded
    row = world.archive.ledger.status("slack", "C1", DAY)
    assert row is not None
    assert (row.status, sorted(row.messages)) == (Status.RETRY, list(range(index)))

    (second,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert second.outcome is Outcome.DELIVERED
    assert second.reconciled == 1
    posted = fake_slack.messages("C1")
    assert [m["text"] for m in posted] == [p.text for p in rendered(world, "slack")]
    method = "conversations.history" if index == 0 else "conversations.replies"
    assert fake_slack.calls_to(method)[-1].params.get("include_all_metadata") in (True, "true", "1")
    row = world.archive.ledger.status("slack", "C1", DAY)
    assert row is not None
    assert row.messages[index] == posted[index]["ts"]


async def test_telegram_resume_reposts_at_most_the_one_unrecorded_message(
    make_world: Callable[..., World],
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Bot API cannot list a chat's messages: the documented one-duplicate window."""
    world = make_world([{"platform": "telegram", "id": -1001}])
    _crash_on_record(world, 2, monkeypatch)
    await world.deliverer.deliver_all(world.channels(), date=DAY)
    (second,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert second.outcome is Outcome.DELIVERED
    texts = [m["html"] for m in fake_telegram.sent(-1001)]
    expected = [p.text for p in rendered(world, "telegram")]
    assert texts == expected[:3] + expected[2:]  # message 2 twice, nothing else


@pytest.mark.parametrize(
    "code",
    ["channel_not_found", "is_archived", "not_in_channel"],
)
async def test_a_permanent_slack_error_deactivates_the_channel(
    make_world: Callable[..., World], fake_slack: FakeSlack, code: str
) -> None:
    world = make_world([{"platform": "slack", "id": "CGONE"}, {"platform": "slack", "id": "C1"}])
    fake_slack.fail_channel("CGONE", code)
    before = sample("digestbot_delivery_failures", platform="slack", kind="permanent")
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in results] == [Outcome.DEACTIVATED, Outcome.DELIVERED]
    assert code in (results[0].error or "")
    sub = world.archive.subscriptions.get("slack", "CGONE")
    assert sub is not None
    assert not sub.active
    assert code in (sub.inactive_reason or "")
    row = world.archive.ledger.status("slack", "CGONE", DAY)
    assert row is not None
    assert row.status is Status.FAILED
    assert sample("digestbot_delivery_failures", platform="slack", kind="permanent") == before + 1
    # The next run no longer knows the channel; the other one is already served.
    assert [c.key for c in world.channels()] == ["slack:C1"]


@pytest.mark.parametrize("error", ["kicked", "not_found", "blocked"])
async def test_a_permanent_telegram_error_deactivates_the_chat(
    make_world: Callable[..., World], fake_telegram: FakeTelegram, error: str
) -> None:
    world = make_world([{"platform": "telegram", "id": -1003}])
    fake_telegram.fail_chat(-1003, error)
    (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.DEACTIVATED
    sub = world.archive.subscriptions.get("telegram", "-1003")
    assert sub is not None
    assert not sub.active
    assert world.channels() == []


async def test_a_rejected_payload_fails_without_deactivating(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    world = make_world([{"platform": "slack", "id": "C1"}])
    fake_slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.FAILED
    assert "invalid_blocks" in (result.error or "")
    assert world.archive.subscriptions.get("slack", "C1") is None  # still subscribed
    row = world.archive.ledger.status("slack", "C1", DAY)
    assert row is not None
    assert row.status is Status.RETRY  # a later run may try again


async def test_transient_errors_until_the_window_ends_release_the_row_for_later(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    options = DeliveryOptions(
        window=dt.timedelta(seconds=0.3), retry_base=0.05, retry_cap=0.1, lease=FAST.lease
    )
    world = make_world([{"platform": "slack", "id": "C1"}], options=options)
    fake_slack.fail_next("chat.postMessage", status=500, times=1000)
    (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.FAILED
    assert "gave up on message 0" in (result.error or "")
    row = world.archive.ledger.status("slack", "C1", DAY)
    assert row is not None
    assert row.status is Status.RETRY
    fake_slack.reset()
    world.deliverer.options = FAST
    (later,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert later.outcome is Outcome.DELIVERED
    assert len(fake_slack.messages("C1")) == len(rendered(world, "slack"))


async def test_newest_unreceived_digest_within_max_age(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    now = [dt.datetime(2026, 2, 5, 1, 0, tzinfo=dt.UTC)]
    world = make_world([{"platform": "slack", "id": "C1"}], clock=lambda: now[0])
    (result,) = await world.deliverer.deliver_all(world.channels())
    assert (result.outcome, result.digest_date) == (Outcome.DELIVERED, DAY)
    # Received: nothing newer exists, so nothing to do (not the same digest again).
    (again,) = await world.deliverer.deliver_all(world.channels())
    assert (again.outcome, again.digest_date) == (Outcome.NOTHING_NEW, None)
    # Another channel, a week later: too old without an explicit date; with one, it goes.
    now[0] = dt.datetime(2026, 2, 10, 1, 0, tzinfo=dt.UTC)
    fresh = Channel("slack", "C2", "0 9 * * *", "UTC")
    assert (await world.deliverer.deliver(fresh)).outcome is Outcome.NO_DIGEST
    assert (await world.deliverer.deliver(fresh, date=DAY)).outcome is Outcome.DELIVERED


async def test_a_bad_topic_fails_that_channel_only_with_a_named_term(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    world = make_world(
        [
            {"platform": "slack", "id": "CBAD", "topics": ["colour:blue"]},
            {"platform": "slack", "id": "C1"},
        ]
    )
    results = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.DELIVERED]
    assert "slack:CBAD: topic 'colour:blue'" in (results[0].error or "")
    assert fake_slack.messages("CBAD") == []


async def test_a_long_delivery_renews_its_lease_and_keeps_others_out(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    options = DeliveryOptions(
        lease=dt.timedelta(seconds=1.0), window=FAST.window, retry_base=0.01, retry_cap=0.05
    )
    world = make_world([{"platform": "slack", "id": "C1"}], options=options)
    world.transports.get("slack").pacer.interval = 0.1  # 15 messages take ~1.5 s > 1 lease
    task = asyncio.create_task(world.deliverer.deliver(world.channel("slack:C1"), date=DAY))
    refused = 0
    while not task.done():
        await asyncio.sleep(0.15)
        if world.archive.ledger.claim("slack", "C1", DAY, "intruder", options.lease) is None:
            refused += 1
    result = task.result()
    assert result.outcome is Outcome.DELIVERED
    assert refused >= 5
    row = world.archive.ledger.status("slack", "C1", DAY)
    assert row is not None
    assert (row.status, row.owner, row.attempts) == (Status.DONE, "test-owner", 1)
    assert len(fake_slack.messages("C1")) == 15


async def test_a_sender_that_lost_its_claim_stops_posting(
    make_world: Callable[..., World], fake_slack: FakeSlack
) -> None:
    """A stalled sender whose lease was taken over must not keep posting beside the new one."""
    options = DeliveryOptions(
        lease=dt.timedelta(seconds=0.4), window=FAST.window, retry_base=0.01, retry_cap=0.05
    )
    world = make_world([{"platform": "slack", "id": "C1"}], options=options)
    world.transports.get("slack").pacer.interval = 0.1
    task = asyncio.create_task(world.deliverer.deliver(world.channel("slack:C1"), date=DAY))
    await fake_slack.wait_for_messages("C1", 3)
    # Our lease ran out while we were stalled and another sender took the row over (as
    # Ledger.claim does after expiry; done in one statement so our heartbeat cannot race it).
    with world.archive.engine.begin() as conn:
        conn.execute(
            deliveries.update().values(
                owner="new-owner", lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            )
        )
    result = await task
    assert result.outcome is Outcome.BUSY
    assert "lease lost" in (result.error or "")
    # ``deliver`` returned: nothing of it runs on, so this count is final.
    assert len(fake_slack.messages("C1")) < 15


async def test_a_resume_after_the_digest_was_edited_finishes_what_it_started(
    db_url: str, tmp_path: Path
) -> None:
    """Crash after three messages, re-ingest an edited digest, resume: no item skipped."""
    import json

    from bot.ingest import parse_file
    from bot.platforms.file import FileTransport
    from bot.query import TagAliases

    archive = Archive(db_url)
    archive.create_schema()
    original = parse_file(REFERENCE).digest
    archive.store(original, path=str(REFERENCE), sha256="v1")
    out = tmp_path / "out.jsonl"
    channel = Channel("file", "F1", "0 9 * * *", "Asia/Shanghai", path=str(out))
    now = [dt.datetime(2026, 2, 3, 1, 5, tzinfo=dt.UTC)]
    transport = FileTransport(tmp_path)

    def deliverer(owner: str) -> Deliverer:
        return Deliverer(
            archive,
            {"file": transport},
            templates=None,
            aliases=TagAliases.builtin(),
            owner=owner,
            options=DeliveryOptions(lease=dt.timedelta(minutes=10)),
            clock=lambda: now[0],
        )

    real_send = transport.send
    sent = [0]

    async def crash_after_three(*args: Any, **kwargs: Any) -> str:
        if sent[0] == 3:
            raise RuntimeError("simulated crash")
        sent[0] += 1
        return await real_send(*args, **kwargs)

    transport.send = crash_after_three  # type: ignore[method-assign]
    crashed = await deliverer("A").deliver(channel)
    assert crashed.outcome is Outcome.FAILED and "simulated crash" in (crashed.error or "")
    transport.send = real_send  # type: ignore[method-assign]

    edited = original.model_copy(update={"items": [i for i in original.items if i.rank != 2]})
    assert archive.store(edited, path=str(REFERENCE), sha256="v2") == "updated"
    now[0] += dt.timedelta(minutes=30)
    result = await deliverer("B").deliver(channel)

    assert result.outcome is Outcome.DELIVERED
    lines = [json.loads(line)["payload"] for line in out.read_text().splitlines()]
    assert [p.get("rank") for p in lines] == [None, *ALL]
    assert lines[0]["items"] == 14
    archive.close()


async def test_a_lost_response_in_an_unjoined_public_channel_posts_once_and_keeps_it(
    make_world: Callable[..., World], fake_slack: FakeSlack, db_url: str
) -> None:
    fake_slack.add_channel("CPUB", member=False)  # public, never joined: chat:write.public
    world = make_world([{"platform": "slack", "id": "CPUB"}], archive_url=db_url)
    fake_slack.fail_next("chat.postMessage", lose_response=True)  # message 0 posted, no answer
    (result,) = await world.deliverer.deliver_all(world.channels(), date=DAY)
    assert result.outcome is Outcome.DELIVERED, result.error
    assert result.reconciled == 1  # found in the history instead of posted again
    indices = [m["metadata"]["event_payload"]["index"] for m in fake_slack.messages("CPUB")]
    assert indices == list(range(15))
    assert [c.key for c in world.channels()] == ["slack:CPUB"]
    assert world.archive.subscriptions.list() == []  # nothing deactivated
