"""Feishu redeliveries are answered once across replicas and restarts: the event ids live
in the archive's shared ``seen_requests``, on a real SQLite file and the real PostgreSQL.

Each listener has its own ``Archive`` (its own engine and connections, as another process
would) over the same database. Whether a copy was ignored is read after the bridges'
answer tasks have finished, never by waiting for nothing to happen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.chat import CommandCore
from bot.config import Settings
from bot.ingest import ingest_paths
from bot.platforms.feishu.app import EVENTS_PATH, FeishuListener, start_feishu
from formatters.templates import Templates
from tests.bot.platforms.conftest import free_port
from tests.bot.platforms.feishu.kit import GROUP, MORE, OWNER, buttons, message_with, settings_for
from tests.fakes.feishu_api import FakeFeishuApi


@pytest.fixture
def shared_url(db_url: str, reference_digest_path: Path) -> Iterator[str]:
    """One database (SQLite file or PostgreSQL) with the reference digest."""
    archive = Archive(db_url)
    archive.create_schema()
    assert ingest_paths(archive, [str(reference_digest_path)], workers=1).created == 1
    archive.close()
    yield db_url


class Replicas:
    """Feishu listeners started over one database, each with its own archive; all stopped
    and closed at the end."""

    def __init__(self, fake: FakeFeishuApi, url: str) -> None:
        self.fake, self.url = fake, url
        self.running: list[tuple[FeishuListener, Archive]] = []

    async def start(self) -> FeishuListener:
        archive = Archive(self.url)
        core = CommandCore(archive, Settings(), page_size=5)
        listener = await start_feishu(
            settings_for(self.fake), core, Templates(), host="127.0.0.1", port=free_port()
        )
        self.running.append((listener, archive))
        return listener

    async def stop(self, listener: FeishuListener) -> None:
        for entry in [e for e in self.running if e[0] is listener]:
            await listener.stop()
            entry[1].close()
            self.running.remove(entry)

    async def stop_all(self) -> None:
        for listener, _ in list(self.running):
            await self.stop(listener)


@pytest.fixture
async def replicas(fake_feishu_api: FakeFeishuApi, shared_url: str) -> AsyncIterator[Replicas]:
    fake_feishu_api.add_chat(GROUP, owner=OWNER)
    made = Replicas(fake_feishu_api, shared_url)
    yield made
    await made.stop_all()


def url(listener: FeishuListener) -> str:
    return f"http://127.0.0.1:{listener.port}{EVENTS_PATH}"


async def settle(*listeners: FeishuListener) -> None:
    """Wait until every answer the listeners have begun (or decided to skip) is done."""
    pending = [asyncio.wrap_future(f) for lst in listeners for f in list(lst.bridge.tasks)]
    await asyncio.wait_for(asyncio.gather(*pending), timeout=30)


def replies_to(fake: FakeFeishuApi, message_id: str) -> list[dict[str, Any]]:
    return [m for m in fake.sent(GROUP) if m["parent_id"] == message_id]


def message_id(event: dict[str, Any]) -> str:
    return str(event["event"]["message"]["message_id"])


async def answered_alone(fake: FakeFeishuApi, listener: FeishuListener, text: str) -> int:
    """How many reply cards one answer to ``text`` takes (a control for the counts)."""
    event = fake.message_event(GROUP, text)
    assert (await fake.deliver(url(listener), event))[0] == 200
    await settle(listener)
    count = len(replies_to(fake, message_id(event)))
    assert count > 0
    return count


def ignored(caplog: pytest.LogCaptureFixture) -> int:
    return sum("seen before" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
async def test_two_replicas_given_the_same_event_answer_it_once(
    fake_feishu_api: FakeFeishuApi, replicas: Replicas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.platforms.feishu.events")
    first, second = await replicas.start(), await replicas.start()
    one_answer = await answered_alone(fake_feishu_api, first, "tag:RL")
    event = fake_feishu_api.message_event(GROUP, "tag:RL", event_id="ev-replicas-1")
    # The load balancer hands the push and Feishu's copy to different replicas, together.
    statuses = await asyncio.gather(
        fake_feishu_api.deliver(url(first), event), fake_feishu_api.deliver(url(second), event)
    )
    assert [s for s, _ in statuses] == [200, 200]  # both acknowledged within 3 seconds
    await settle(first, second)
    assert len(replies_to(fake_feishu_api, message_id(event))) == one_answer
    assert ignored(caplog) == 1
    assert len(fake_feishu_api.calls_to("im.message.reply")) == 2 * one_answer


@pytest.mark.slow
async def test_two_replicas_given_the_same_button_press_answer_it_once(
    fake_feishu_api: FakeFeishuApi, replicas: Replicas
) -> None:
    first, second = await replicas.start(), await replicas.start()
    question = fake_feishu_api.message_event(GROUP, "date:2026-02-03")
    assert (await fake_feishu_api.deliver(url(first), question))[0] == 200
    await settle(first)
    cards = replies_to(fake_feishu_api, message_id(question))
    card = message_with(cards, MORE)
    press = fake_feishu_api.card_action_event(card, buttons(cards)[MORE], event_id="ev-press-1")
    statuses = await asyncio.gather(
        fake_feishu_api.deliver(url(first), press), fake_feishu_api.deliver(url(second), press)
    )
    assert [s for s, _ in statuses] == [200, 200]
    await settle(first, second)
    pages = replies_to(fake_feishu_api, card["message_id"])
    # The same press again, on a third replica: still the one answer.
    third = await replicas.start()
    assert (await fake_feishu_api.deliver(url(third), press))[0] == 200
    await settle(third)
    assert replies_to(fake_feishu_api, card["message_id"]) == pages
    # A new press of the same button (a new event id) is one answer too: the control.
    again = fake_feishu_api.card_action_event(card, buttons(cards)[MORE])
    assert (await fake_feishu_api.deliver(url(second), again))[0] == 200
    await settle(second)
    assert pages and len(replies_to(fake_feishu_api, card["message_id"])) == 2 * len(pages)


async def test_a_restarted_bot_ignores_a_redelivery_of_what_it_answered(
    fake_feishu_api: FakeFeishuApi, replicas: Replicas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.platforms.feishu.events")
    before = await replicas.start()
    event = fake_feishu_api.message_event(GROUP, "help", event_id="ev-restart-1")
    assert (await fake_feishu_api.deliver(url(before), event))[0] == 200
    await settle(before)
    answered = replies_to(fake_feishu_api, message_id(event))
    assert answered
    await replicas.stop(before)  # a deploy: the process and its memory are gone
    after = await replicas.start()
    assert (await fake_feishu_api.deliver(url(after), event))[0] == 200  # Feishu's retry
    await settle(after)
    assert replies_to(fake_feishu_api, message_id(event)) == answered
    assert ignored(caplog) == 1
    # The restarted bot still answers what it has not seen.
    assert await answered_alone(fake_feishu_api, after, "help") == len(answered)
