"""The Feishu app bot end to end: lark-oapi's client and event dispatcher against the fake
open API, events delivered over real HTTP, encrypted and signed the way Feishu does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.archive import Archive
from bot.chat import CommandCore
from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.feishu.app import EVENTS_PATH, FeishuListener, start_feishu
from formatters.templates import Templates
from tests.bot.platforms.conftest import free_port
from tests.fakes.feishu_api import FakeFeishuApi
from tests.support.delivery_kit import item_urls

GROUP = "oc_group1"
OWNER, MANAGER, MEMBER = "ou_owner", "ou_manager", "ou_member"


def settings_for(fake: FakeFeishuApi, **feishu: Any) -> Settings:
    return Settings(
        feishu={
            "app_id": fake.app_id,
            "app_secret": fake.app_secret,
            "verification_token": fake.verification_token,
            "encrypt_key": fake.encrypt_key,
            "mode": "http",
            "api_url": fake.base_url,
            **feishu,
        }
    )


@pytest.fixture
def core(reference_archive: Archive) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def bot(fake_feishu_api: FakeFeishuApi, core: CommandCore) -> AsyncIterator[FeishuListener]:
    fake_feishu_api.add_chat(GROUP, owner=OWNER, managers=(MANAGER,))
    fake_feishu_api.add_chat("oc_dm", owner=MEMBER)
    listener = await start_feishu(
        settings_for(fake_feishu_api), core, Templates(), host="127.0.0.1", port=free_port()
    )
    yield listener
    await listener.stop()


def url(listener: FeishuListener) -> str:
    return f"http://127.0.0.1:{listener.port}{EVENTS_PATH}"


async def ask(
    fake: FakeFeishuApi, listener: FeishuListener, chat: str, text: str, **kwargs: Any
) -> list[dict[str, Any]]:
    """Deliver a message event and wait for the bot's reply cards to it."""
    before = len(fake.sent(chat))
    event = fake.message_event(chat, text, **kwargs)
    status, _ = await fake.deliver(url(listener), event)
    assert status == 200
    await fake.wait_until(lambda: len(fake.sent(chat)) > before, timeout=30)
    replies = fake.sent(chat)[before:]
    assert all(r["parent_id"] == event["event"]["message"]["message_id"] for r in replies)
    return replies


def ranks(replies: list[dict[str, Any]]) -> list[int]:
    links = {link for r in replies for link in r["links"]}
    return sorted(rank for rank, u in item_urls().items() if u in links)


async def test_at_digestbot_tag_rl_answers_with_items_2_and_7(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    replies = await ask(fake_feishu_api, bot, GROUP, "tag:RL")
    assert ranks(replies) == [2, 7]
    assert all(r["msg_type"] == "interactive" and not r["mentions"] for r in replies)
    assert fake_feishu_api.calls_to("tenant_access_token")  # the SDK fetched its token


async def test_a_direct_message_needs_no_mention(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    replies = await ask(fake_feishu_api, bot, "oc_dm", "help", chat_type="p2p", mention=False)
    assert "tag:" in "\n".join(r["text"] for r in replies)


async def test_a_forged_or_stale_event_is_refused_and_never_answered(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    event = fake_feishu_api.message_event(GROUP, "tag:RL")
    status, _ = await fake_feishu_api.deliver(url(bot), event, forge=True)
    assert status == 401
    status, _ = await fake_feishu_api.deliver(url(bot), event, age=3600)
    assert status == 401
    # A wrong verification token inside a correctly signed body is refused by the SDK.
    event["header"]["token"] = "not-the-token"
    status, _ = await fake_feishu_api.deliver(url(bot), event)
    assert status == 401
    assert fake_feishu_api.calls_to("im.message.reply") == []


async def test_url_verification_challenge(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    challenge = {
        "challenge": "ajls384kdjx98XX",
        "token": fake_feishu_api.verification_token,
        "type": "url_verification",
    }
    body, _ = fake_feishu_api.signed_request(challenge)
    status, text = await fake_feishu_api.deliver(url(bot), challenge)
    assert status == 200 and json.loads(text) == {"challenge": "ajls384kdjx98XX"}
    assert body  # the challenge travelled encrypted, as with an encrypt key it does


async def test_redeliveries_and_own_messages_are_ignored(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    event = fake_feishu_api.message_event(GROUP, "tag:RL", event_id="ev-1")
    assert (await fake_feishu_api.deliver(url(bot), event))[0] == 200
    await fake_feishu_api.wait_until(lambda: fake_feishu_api.sent(GROUP), timeout=30)
    own = fake_feishu_api.message_event(GROUP, "tag:RL", sender_type="app")
    assert (await fake_feishu_api.deliver(url(bot), own))[0] == 200
    assert (await fake_feishu_api.deliver(url(bot), event))[0] == 200  # Feishu redelivers
    # A later question is answered, and is the only thing posted after the first answer.
    first = len(fake_feishu_api.sent(GROUP))
    await ask(fake_feishu_api, bot, GROUP, "help")
    assert len(fake_feishu_api.calls_to("im.message.reply")) == len(fake_feishu_api.sent(GROUP))
    parents = [m["parent_id"] for m in fake_feishu_api.sent(GROUP)]
    assert parents.count(event["event"]["message"]["message_id"]) == first


async def test_only_owners_and_managers_change_a_groups_subscription(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener, reference_archive: Archive
) -> None:
    refused = await ask(fake_feishu_api, bot, GROUP, "subscribe tag:Agent", user=MEMBER)
    assert reference_archive.subscriptions.get("feishu", GROUP) is None
    assert refused
    await ask(fake_feishu_api, bot, GROUP, "subscribe tag:Agent", user=MANAGER)
    sub = reference_archive.subscriptions.get("feishu", GROUP)
    assert sub is not None and sub.topics == ["tag:Agent"]
    await ask(fake_feishu_api, bot, GROUP, "schedule 08:30 weekdays Asia/Shanghai", user=OWNER)
    listed = await ask(fake_feishu_api, bot, GROUP, "subscriptions", user=MEMBER)
    assert "tag:Agent" in "\n".join(r["text"] for r in listed)
    await ask(fake_feishu_api, bot, GROUP, "unsubscribe all", user=OWNER)
    sub = reference_archive.subscriptions.get("feishu", GROUP)
    assert sub is None or not sub.active


async def test_missing_keys_are_named(fake_feishu_api: FakeFeishuApi, core: CommandCore) -> None:
    for feishu, key in (
        ({"app_id": None}, "feishu.app_id"),
        ({"app_secret": None}, "feishu.app_secret"),
        ({"encrypt_key": None}, "feishu.encrypt_key"),
    ):
        with pytest.raises(ConfigError, match=key):
            await start_feishu(settings_for(fake_feishu_api, **feishu), core, Templates())


async def test_week_and_trends_answer_with_cards(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    week = await ask(fake_feishu_api, bot, GROUP, "week 2026-W06")
    assert ranks(week) and "2026-W06" in week[0]["title"]  # the card's header
    trends = await ask(fake_feishu_api, bot, "oc_dm", "trends", chat_type="p2p", mention=False)
    assert all(r["msg_type"] == "interactive" for r in trends)
