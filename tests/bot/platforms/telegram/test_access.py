"""Who the Telegram bot answers, and what a repeated update does: the real PTB
``Application`` against the fake Bot API (polling and webhook)."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.archive import Archive
from bot.chat import CommandCore
from bot.config import Settings
from bot.platforms.telegram.app import TelegramListener, start_telegram
from formatters.templates import Templates
from tests.fakes import FakeTelegram
from tests.support.telegram_kit import settings_for, webhook_settings

GROUP = -1001234567890
OTHER_GROUP = -1009999999999
STRANGER = 5555


def plain(message: dict[str, Any]) -> str:
    return html.unescape(message["text"])


@pytest.fixture
def core(reference_archive: Archive) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def listen(fake_telegram: FakeTelegram, core: CommandCore) -> AsyncIterator[Any]:
    """Start a polling listener with the given ``telegram.*`` settings."""
    started: list[TelegramListener] = []

    async def start(**telegram: Any) -> TelegramListener:
        settings = settings_for(fake_telegram, **telegram)
        listener = await start_telegram(settings, core, Templates(), poll_timeout=1)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await listener.stop()


async def test_a_strangers_dm_changes_nothing_and_reads_nothing(
    listen: Any, fake_telegram: FakeTelegram, reference_archive: Archive
) -> None:
    await listen()
    fake_telegram.push_message(STRANGER, "/subscribe", user_id=STRANGER, chat_type="private")
    [refusal] = await fake_telegram.wait_for_sent(STRANGER)
    assert "telegram.allowed_users" in plain(refusal)
    fake_telegram.push_message(STRANGER, "/ai tag:RL", user_id=STRANGER, chat_type="private")
    sent = await fake_telegram.wait_for_sent(STRANGER, 2)
    assert "INT4" not in plain(sent[1]) and "telegram.allowed_users" in plain(sent[1])
    assert reference_archive.subscriptions.list() == []


@pytest.mark.parametrize("access", [{"allow_private": True}, {"allowed_users": [STRANGER]}])
async def test_private_chats_are_answered_when_allowed(
    listen: Any,
    fake_telegram: FakeTelegram,
    reference_archive: Archive,
    access: dict[str, Any],
) -> None:
    await listen(**access)
    fake_telegram.push_message(STRANGER, "/subscribe", user_id=STRANGER, chat_type="private")
    await fake_telegram.wait_for_sent(STRANGER)
    assert reference_archive.subscriptions.get("telegram", str(STRANGER)) is not None


async def test_allowed_chats_narrows_the_groups(
    listen: Any, fake_telegram: FakeTelegram, reference_archive: Archive
) -> None:
    await listen(allowed_chats=[GROUP])
    for chat in (GROUP, OTHER_GROUP):
        fake_telegram.set_chat(chat, type="supergroup")
        fake_telegram.set_member_status(chat, 900, "administrator")
        fake_telegram.push_message(chat, "/subscribe", user_id=900)
        await fake_telegram.wait_for_sent(chat)
    assert reference_archive.subscriptions.get("telegram", str(GROUP)) is not None
    assert reference_archive.subscriptions.get("telegram", str(OTHER_GROUP)) is None
    assert "telegram.allowed_chats" in plain(fake_telegram.sent(OTHER_GROUP)[0])


async def test_a_button_whose_callback_answer_fails_still_gets_its_answer(
    listen: Any, fake_telegram: FakeTelegram, reference_titles: dict[int, str]
) -> None:
    """After a restart the callback query is "too old" to answer; the reply still comes."""
    await listen()
    fake_telegram.set_chat(GROUP, type="supergroup")
    fake_telegram.push_update(
        {
            "callback_query": {
                "id": "424242",  # the fake never issued it: answerCallbackQuery fails
                "from": FakeTelegram.user(12),
                "message": {
                    "message_id": 1,
                    "from": fake_telegram.bot_user,
                    "chat": fake_telegram.chat(GROUP),
                    "date": int(time.time()),
                    "text": "…",
                },
                "chat_instance": "1",
                "data": "d:2026-02-03:9",
            }
        }
    )
    [reply] = await fake_telegram.wait_for_sent(GROUP)
    assert reference_titles[9] in plain(reply)
    assert fake_telegram.calls_to("answerCallbackQuery")
    assert fake_telegram.callback_answers == []


async def test_an_update_sent_twice_changes_nothing(
    fake_telegram: FakeTelegram,
    core: CommandCore,
    reference_archive: Archive,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = webhook_settings(fake_telegram)
    listener = await start_telegram(settings, core, Templates())
    caplog.set_level(logging.INFO, logger="bot.platforms.telegram.app")
    try:
        fake_telegram.set_chat(GROUP, type="supergroup")
        fake_telegram.set_member_status(GROUP, 900, "administrator")
        subscribe = fake_telegram.push_message(GROUP, "/subscribe tag:Agent", user_id=900)
        await fake_telegram.wait_for_sent(GROUP, 1)
        fake_telegram.push_message(GROUP, "/unsubscribe tag:Agent", user_id=900)
        await fake_telegram.wait_for_sent(GROUP, 2)
        before = reference_archive.subscriptions.get("telegram", str(GROUP))
        assert before is not None and before.topics == []

        # Telegram (or whoever holds the secret) sends the subscribe update again.
        assert await fake_telegram.deliver_webhook_async(subscribe) == 200

        def dropped() -> bool:
            return any(
                f"ignored update {subscribe['update_id']}" in r.getMessage() for r in caplog.records
            )

        await fake_telegram.wait_until(dropped)
        assert reference_archive.subscriptions.get("telegram", str(GROUP)) == before
        assert len(fake_telegram.sent(GROUP)) == 2
    finally:
        await listener.stop()


async def test_webhook_listens_on_loopback_by_default(
    fake_telegram: FakeTelegram, core: CommandCore
) -> None:
    settings = webhook_settings(fake_telegram)
    assert settings.telegram.host == "127.0.0.1"
    listener = await start_telegram(settings, core, Templates())
    try:
        updater = listener.application.updater
        assert updater is not None and updater._httpd is not None
        assert updater._httpd.listen == "127.0.0.1"
    finally:
        await listener.stop()
