"""The Feishu app bot over the long connection (the default mode): lark-oapi's real
``ws.Client`` against the fake's endpoint and websocket, protobuf frames both ways."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.chat import CommandCore
from bot.config import Settings
from bot.errors import PlatformUnavailable
from bot.platforms import start_listeners
from bot.platforms.feishu.app import FeishuListener, start_feishu
from formatters.templates import Templates
from tests.bot.platforms.feishu.kit import GROUP, MORE, buttons, message_with, ranks
from tests.fakes.feishu_api import FakeFeishuApi


def ws_settings(fake: FakeFeishuApi, **feishu: Any) -> Settings:
    """No ``mode``: the long connection is the default, and needs no encrypt key."""
    return Settings(
        feishu={
            "app_id": fake.app_id,
            "app_secret": fake.app_secret,
            "api_url": fake.base_url,
            **feishu,
        }
    )


def ws_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "feishu-ws"]


@pytest.fixture
def core(reference_archive: Any) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def bot(fake_feishu_api: FakeFeishuApi, core: CommandCore) -> AsyncIterator[FeishuListener]:
    fake_feishu_api.add_chat(GROUP, owner="ou_owner")
    listener = await start_feishu(ws_settings(fake_feishu_api), core, Templates())
    assert listener.mode == "websocket" and listener.connected
    yield listener
    await listener.stop()
    assert not ws_threads()  # the SDK's thread ended with the listener
    assert fake_feishu_api.long_connection.failures == []  # every frame answered with 200


async def ask(fake: FakeFeishuApi, text: str, **kwargs: Any) -> tuple[str, list[dict[str, Any]]]:
    """Push a message event over the long connection; its frame id and the reply cards."""
    before = len(fake.sent(GROUP))
    event = fake.message_event(GROUP, text, **kwargs)
    frame = fake.long_connection.send(event)
    ack = await fake.long_connection.wait_ack(frame)
    assert ack.code == 200
    await fake.wait_until(lambda: len(fake.sent(GROUP)) > before, timeout=30)
    replies = fake.sent(GROUP)[before:]
    assert all(r["parent_id"] == event["event"]["message"]["message_id"] for r in replies)
    return frame, replies


async def test_at_digestbot_tag_rl_answers_over_the_long_connection(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    _, replies = await ask(fake_feishu_api, "tag:RL")
    assert ranks(replies) == [2, 7]
    assert all(r["msg_type"] == "interactive" for r in replies)
    assert fake_feishu_api.calls_to("ws.endpoint") and fake_feishu_api.calls_to("bot.info")
    assert fake_feishu_api.long_connection.failures == []


async def test_a_payload_split_over_frames_is_put_together(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    event = fake_feishu_api.message_event(GROUP, "tag:RL")
    frame = fake_feishu_api.long_connection.send(event, parts=3)
    assert (await fake_feishu_api.long_connection.wait_ack(frame)).code == 200
    await fake_feishu_api.wait_until(lambda: fake_feishu_api.sent(GROUP), timeout=30)
    assert ranks(fake_feishu_api.sent(GROUP)) == [2, 7]


async def test_a_redelivered_event_is_answered_once_and_own_messages_never(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    frame, first = await ask(fake_feishu_api, "tag:RL", event_id="ev-ws-1")
    again = fake_feishu_api.long_connection.redeliver(frame)
    assert (await fake_feishu_api.long_connection.wait_ack(again)).code == 200
    own = fake_feishu_api.message_event(GROUP, "tag:RL", user=fake_feishu_api.bot_open_id)
    ack = await fake_feishu_api.long_connection.wait_ack(fake_feishu_api.long_connection.send(own))
    assert ack.code == 200  # acknowledged, not answered
    app = fake_feishu_api.message_event(GROUP, "tag:RL", sender_type="app")
    fake_feishu_api.long_connection.send(app)
    # A later question is answered, and is the only thing posted after the first answer.
    _, later = await ask(fake_feishu_api, "help")
    assert len(fake_feishu_api.sent(GROUP)) == len(first) + len(later)


async def test_the_bot_reconnects_after_the_connection_drops(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    connection = fake_feishu_api.long_connection
    assert connection.connections == 1
    connection.busy = True  # the first attempts to come back are turned away
    connection.drop()
    await fake_feishu_api.wait_until(lambda: not bot.connected, timeout=10)  # /healthz sees it
    await fake_feishu_api.wait_until(lambda: fake_feishu_api.stats["ws_busy"] >= 1, timeout=10)
    assert not bot.connected
    connection.busy = False
    await fake_feishu_api.wait_until(lambda: connection.connections == 2, timeout=30)
    await fake_feishu_api.wait_until(lambda: bot.connected, timeout=10)
    _, replies = await ask(fake_feishu_api, "tag:RL")
    assert ranks(replies) == [2, 7]
    assert bot.websocket is not None and bot.websocket.reconnects == 1


async def test_buttons_work_over_the_long_connection(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    _, first = await ask(fake_feishu_api, "date:2026-02-03")
    card = message_with(first, MORE)
    before = len(fake_feishu_api.sent(GROUP))
    press = fake_feishu_api.card_action_event(card, buttons(first)[MORE])
    frame = fake_feishu_api.long_connection.send(press)
    ack = await fake_feishu_api.long_connection.wait_ack(frame)
    assert ack.code == 200 and ack.data == {}  # answered at once, the card left as it is
    await fake_feishu_api.wait_until(lambda: len(fake_feishu_api.sent(GROUP)) > before, timeout=30)
    second = fake_feishu_api.sent(GROUP)[before:]
    assert all(r["parent_id"] == card["message_id"] for r in second)
    assert ranks(second) and not set(ranks(second)) & set(ranks(first))


async def test_pings_are_answered_with_pongs(
    fake_feishu_api: FakeFeishuApi, core: CommandCore
) -> None:
    fake_feishu_api.long_connection.client_config["PingInterval"] = 1
    listener = await start_feishu(ws_settings(fake_feishu_api), core, Templates())
    try:
        await fake_feishu_api.wait_until(lambda: fake_feishu_api.long_connection.pings >= 2)
        assert listener.connected and fake_feishu_api.long_connection.failures == []
    finally:
        await listener.stop()


async def test_a_wrong_app_secret_is_reported_not_a_silent_dead_listener(
    fake_feishu_api: FakeFeishuApi, reference_archive: Any
) -> None:
    """``digestbot run`` keeps delivering and ``/healthz`` names the failed listener."""
    failures: dict[str, str] = {}
    settings = ws_settings(fake_feishu_api, app_secret="not-the-secret")
    started = await start_listeners(settings, reference_archive, failures=failures)
    assert started == [] and "feishu.app_secret" in failures["feishu"]
    assert not ws_threads()


async def test_a_wrong_app_secret_fails_the_start_by_name(
    fake_feishu_api: FakeFeishuApi, core: CommandCore, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ws_settings(fake_feishu_api, app_secret="not-the-secret")
    with caplog.at_level(logging.WARNING), pytest.raises(PlatformUnavailable) as failed:
        await start_feishu(settings, core, Templates())
    assert "feishu.app_id" in str(failed.value) and "feishu.app_secret" in str(failed.value)
    assert "not-the-secret" not in caplog.text
    assert not ws_threads()


async def test_a_refused_long_connection_fails_the_start_by_name(
    fake_feishu_api: FakeFeishuApi, core: CommandCore
) -> None:
    """The tenant token is fine but the endpoint refuses the app: no silent dead listener."""
    fake_feishu_api.long_connection.app_secret = "rotated"
    with pytest.raises(PlatformUnavailable, match="long connection was refused"):
        await start_feishu(ws_settings(fake_feishu_api), core, Templates())
    assert fake_feishu_api.stats["ws_refused"] == 1
    assert not ws_threads()


async def test_stop_ends_the_connection(fake_feishu_api: FakeFeishuApi, core: CommandCore) -> None:
    listener = await start_feishu(ws_settings(fake_feishu_api), core, Templates())
    assert fake_feishu_api.long_connection.connected == 1 and ws_threads()
    await listener.stop()
    assert not listener.connected and not ws_threads()
    await fake_feishu_api.wait_until(lambda: fake_feishu_api.long_connection.connected == 0)
    assert fake_feishu_api.long_connection.connections == 1  # and it did not reconnect


async def test_stop_while_reconnecting_ends_the_retries(
    fake_feishu_api: FakeFeishuApi, core: CommandCore
) -> None:
    connection = fake_feishu_api.long_connection
    listener = await start_feishu(ws_settings(fake_feishu_api), core, Templates())
    connection.busy = True
    connection.drop()
    await fake_feishu_api.wait_until(lambda: fake_feishu_api.stats["ws_busy"] >= 1, timeout=10)
    await listener.stop()
    assert not listener.connected and not ws_threads()
    tries = fake_feishu_api.stats["ws_busy"]
    connection.busy = False
    assert connection.connections == 1 and fake_feishu_api.stats["ws_busy"] == tries
