"""The Telegram adapter end to end: the real PTB ``Application`` against the fake Bot API.

Updates are fed through ``getUpdates`` (or POSTed to the webhook) and the replies are read
back from the fake's recorded ``sendMessage`` calls.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.archive import Archive
from bot.chat import CommandCore, actions
from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.telegram.app import TelegramListener, command_text, menu, start_telegram
from formatters.templates import Templates
from tests.fakes import FakeTelegram
from tests.support.telegram_kit import webhook_settings

GROUP = -1001234567890
DAY = dt.date(2026, 2, 3)


def settings_for(fake: FakeTelegram, **telegram: Any) -> Settings:
    return Settings(telegram={"token": fake.token, "api_url": fake.api_url, **telegram})


def plain(message: dict[str, Any]) -> str:
    return html.unescape(message["text"])


def callback_data(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [
        b["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "callback_data" in b
    ]


@pytest.fixture
def core(reference_archive: Archive) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def polling(
    fake_telegram: FakeTelegram, core: CommandCore
) -> AsyncIterator[TelegramListener]:
    listener = await start_telegram(settings_for(fake_telegram), core, Templates(), poll_timeout=1)
    yield listener
    await listener.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/ai tag:RL", "tag:RL"),
        ("/ai@digest_test_bot subscribe tag:Agent", "subscribe tag:Agent"),
        ("/subscribe@digest_test_bot tag:Agent", "subscribe tag:Agent"),
        ("/today", "today"),
        ("/start", "help"),
        ("/ai", ""),
    ],
)
def test_command_text(text: str, expected: str) -> None:
    assert command_text(text) == expected


async def test_polling_tag_rl_answers_items_2_and_7(
    polling: TelegramListener, fake_telegram: FakeTelegram, reference_titles: dict[int, str]
) -> None:
    assert polling.connected
    fake_telegram.push_message(GROUP, "/ai tag:RL", user_id=501)
    [reply] = await fake_telegram.wait_for_sent(GROUP)
    text = plain(reply)
    assert reference_titles[2] in text and reference_titles[7] in text
    assert not [t for rank, t in reference_titles.items() if rank not in (2, 7) and t in text]
    assert callback_data(reply) == [actions.encode_details(DAY, 2), actions.encode_details(DAY, 7)]
    # Anyone may query: no admin lookup was needed.
    assert fake_telegram.calls_to("getChatMember") == []


async def test_commands_are_registered_at_start(
    polling: TelegramListener, fake_telegram: FakeTelegram
) -> None:
    [call] = fake_telegram.calls_to("setMyCommands")
    registered = {c["command"] for c in fake_telegram.commands[('{"type": "default"}', "")]}
    assert {
        "ai",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "schedule",
        "help",
        "today",
    } <= registered
    assert call.method == "setMyCommands"
    # The menu speaks the configured language (zh here), from the same labels as replies.
    described = {
        c["command"]: c["description"] for c in fake_telegram.commands[('{"type": "default"}', "")]
    }
    assert described == {c.command: c.description for c in menu(Templates())}
    assert described["today"] == "今天简报的要点"


async def test_non_admin_in_group_cannot_subscribe_but_admin_can(
    polling: TelegramListener, fake_telegram: FakeTelegram, reference_archive: Archive
) -> None:
    fake_telegram.push_message(GROUP, "/subscribe tag:Agent", user_id=777)
    [refusal] = await fake_telegram.wait_for_sent(GROUP)
    assert "admin" in plain(refusal).lower()
    assert reference_archive.subscriptions.get("telegram", str(GROUP)) is None

    fake_telegram.push_message(GROUP, "/ai tag:RL", user_id=777)
    answer = (await fake_telegram.wait_for_sent(GROUP, 2))[1]
    assert "INT4" in plain(answer)

    fake_telegram.set_member_status(GROUP, 778, "creator")
    fake_telegram.push_message(GROUP, "/ai subscribe tag:Agent", user_id=778)
    await fake_telegram.wait_for_sent(GROUP, 3)
    row = reference_archive.subscriptions.get("telegram", str(GROUP))
    assert row is not None and row.topics == ["tag:Agent"] and row.created_by == "778"

    fake_telegram.set_member_status(GROUP, 779, "administrator")
    fake_telegram.push_message(GROUP, "/unsubscribe@digest_test_bot tag:Agent", user_id=779)
    await fake_telegram.wait_for_sent(GROUP, 4)
    row = reference_archive.subscriptions.get("telegram", str(GROUP))
    assert row is not None and row.topics == []


@pytest.fixture
async def allowed_4242(
    fake_telegram: FakeTelegram, core: CommandCore
) -> AsyncIterator[TelegramListener]:
    settings = settings_for(fake_telegram, allowed_users=[4242])
    listener = await start_telegram(settings, core, Templates(), poll_timeout=1)
    yield listener
    await listener.stop()


async def test_private_chat_user_is_admin(
    allowed_4242: TelegramListener, fake_telegram: FakeTelegram, reference_archive: Archive
) -> None:
    fake_telegram.push_message(4242, "/schedule 08:30 weekdays Europe/Berlin", user_id=4242)
    [refused] = await fake_telegram.wait_for_sent(4242)
    assert "subscribe" in plain(refused)
    fake_telegram.push_message(4242, "/subscribe", user_id=4242)
    await fake_telegram.wait_for_sent(4242, 2)
    fake_telegram.push_message(4242, "/schedule 08:30 weekdays Europe/Berlin", user_id=4242)
    await fake_telegram.wait_for_sent(4242, 3)
    row = reference_archive.subscriptions.get("telegram", "4242")
    assert row is not None and (row.schedule, row.timezone) == ("30 8 * * mon-fri", "Europe/Berlin")
    assert fake_telegram.calls_to("getChatMember") == []


async def test_commands_for_another_bot_are_ignored(
    polling: TelegramListener, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.push_message(GROUP, "/help@some_other_bot")
    fake_telegram.push_message(GROUP, "/help")
    await fake_telegram.wait_for_sent(GROUP, 1)
    fake_telegram.push_message(GROUP, "/today")
    sent = await fake_telegram.wait_for_sent(GROUP, 2)
    assert len(fake_telegram.sent(GROUP)) == 2
    assert "2026-02-03" in plain(sent[1])


async def test_forum_topic_replies_stay_in_the_topic(
    polling: TelegramListener, fake_telegram: FakeTelegram, reference_archive: Archive
) -> None:
    fake_telegram.set_chat(GROUP, type="supergroup", is_forum=True)
    fake_telegram.set_member_status(GROUP, 900, "administrator")
    fake_telegram.push_message(GROUP, "/ai tag:RL", user_id=900, message_thread_id=42)
    [reply] = await fake_telegram.wait_for_sent(GROUP)
    assert reply["message_thread_id"] == 42
    fake_telegram.push_message(GROUP, "/subscribe", user_id=900, message_thread_id=42)
    await fake_telegram.wait_for_sent(GROUP, 2)
    row = reference_archive.subscriptions.get("telegram", str(GROUP))
    assert row is not None and row.thread_id == 42


async def test_more_and_details_callbacks(
    polling: TelegramListener, fake_telegram: FakeTelegram, reference_titles: dict[int, str]
) -> None:
    fake_telegram.push_message(GROUP, "/ai date:2026-02-03", user_id=12)
    [first] = await fake_telegram.wait_for_sent(GROUP)
    more = [d for d in callback_data(first) if d.startswith("m:")]
    assert more == [actions.encode_more("date:2026-02-03", 5)]
    fake_telegram.push_callback(GROUP, 12, more[0], message_id=first["message_id"])
    second = (await fake_telegram.wait_for_sent(GROUP, 2))[1]
    firsts = {d for d in callback_data(first) if d.startswith("d:")}
    seconds = {d for d in callback_data(second) if d.startswith("d:")}
    assert len(firsts) == len(seconds) == 5 and not firsts & seconds
    await fake_telegram.wait_until(lambda: len(fake_telegram.callback_answers) >= 1)

    fake_telegram.push_callback(GROUP, 12, actions.encode_details(DAY, 9))
    third = (await fake_telegram.wait_for_sent(GROUP, 3))[2]
    assert reference_titles[9] in plain(third)
    await fake_telegram.wait_until(lambda: len(fake_telegram.callback_answers) >= 2)


async def test_bad_query_names_the_term(
    polling: TelegramListener, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.push_message(GROUP, "/ai since:yesterdayish")
    [reply] = await fake_telegram.wait_for_sent(GROUP)
    assert "since:yesterdayish" in plain(reply) and "/ai " in plain(reply)


async def test_stopped_listener_is_not_connected(
    fake_telegram: FakeTelegram, core: CommandCore
) -> None:
    listener = await start_telegram(settings_for(fake_telegram), core, Templates(), poll_timeout=1)
    assert listener.connected
    await listener.stop()
    assert not listener.connected


# -- webhook mode --------------------------------------------------------------------------


def manual_update(chat_id: int, text: str, user_id: int = 31) -> dict[str, Any]:
    command = text.split()[0]
    return {
        "update_id": 555_000_001,
        "message": {
            "message_id": 9001,
            "from": FakeTelegram.user(user_id),
            "chat": {"id": chat_id, "type": "private", "first_name": "U"},
            "date": int(time.time()),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


@pytest.mark.parametrize("wrong", ["not-the-secret", None])
async def test_webhook_accepts_the_secret_and_refuses_anything_else(
    fake_telegram: FakeTelegram,
    core: CommandCore,
    reference_titles: dict[int, str],
    wrong: str | None,
) -> None:
    settings = webhook_settings(fake_telegram, allow_private=True)
    listener = await start_telegram(settings, core, Templates())
    try:
        assert fake_telegram.webhook is not None
        assert fake_telegram.webhook["secret_token"] == "s3cret_Token-1"
        assert listener.connected
        forged = manual_update(3131, "/ai tag:RL")
        status = await fake_telegram.deliver_webhook_async(forged, secret_token=wrong)
        assert status == 403

        fake_telegram.push_message(3131, "/ai tag:RL", user_id=3131)  # posted with the secret
        [reply] = await fake_telegram.wait_for_sent(3131)
        assert reference_titles[2] in plain(reply)
        assert len(fake_telegram.sent(3131)) == 1  # the forged update was never processed
        assert [code for _, code in fake_telegram.webhook_deliveries] == [403, 200]
    finally:
        await listener.stop()


async def test_webhook_mode_requires_a_secret(
    fake_telegram: FakeTelegram, core: CommandCore
) -> None:
    settings = settings_for(fake_telegram, mode="webhook", webhook_url="https://example.com/hook")
    with pytest.raises(ConfigError, match=r"telegram\.webhook_secret"):
        await start_telegram(settings, core, Templates())
