"""TelegramTransport through python-telegram-bot's ExtBot over real HTTP to the fake Bot API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.channels import Channel
from bot.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
)
from bot.platforms.telegram.transport import TelegramTransport
from formatters.payloads import TelegramMessage
from tests.fakes import FakeTelegram
from tests.support.delivery_kit import DAY

GROUP = Channel("telegram", "-1001", "0 9 * * *", "UTC")
FORUM = Channel("telegram", "-1002", "0 9 * * *", "UTC", thread_id=42)


def message(text: str, **kwargs: Any) -> TelegramMessage:
    return TelegramMessage(text=text, **kwargs)


@pytest.fixture
async def make_transport(
    fake_telegram: FakeTelegram,
) -> AsyncIterator[Callable[..., TelegramTransport]]:
    made: list[TelegramTransport] = []

    def make(token: str | None = None, **kwargs: Any) -> TelegramTransport:
        kwargs.setdefault("per_chat_interval", 0.0)
        transport = TelegramTransport(
            token or fake_telegram.token, base_url=fake_telegram.api_url, **kwargs
        )
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.close()


async def test_html_messages_with_forum_topics_and_buttons(
    make_transport: Callable[..., TelegramTransport], fake_telegram: FakeTelegram
) -> None:
    transport = make_transport()
    markup = {"inline_keyboard": [[{"text": "more", "callback_data": "m:1"}]]}
    first = await transport.send(GROUP, 0, message("<b>AI</b> &amp; more"), digest_date=DAY)
    second = await transport.send(FORUM, 0, message("topic", reply_markup=markup), digest_date=DAY)
    sent = fake_telegram.sent(-1001)
    assert [str(m["message_id"]) for m in sent] == [first]
    assert sent[0]["html"] == "<b>AI</b> &amp; more"
    assert sent[0]["text"] == "AI & more"
    assert sent[0]["parse_mode"] == "HTML"
    assert sent[0]["link_preview_options"] == {"is_disabled": True}
    assert sent[0]["message_thread_id"] is None
    forum = fake_telegram.sent(-1002)
    assert [str(m["message_id"]) for m in forum] == [second]
    assert forum[0]["message_thread_id"] == 42
    assert forum[0]["reply_markup"] == markup
    assert await transport.find_posted(GROUP, DAY, 0) is None  # no history in the Bot API


async def test_only_the_first_message_of_a_digest_notifies_the_group(
    make_transport: Callable[..., TelegramTransport], fake_telegram: FakeTelegram
) -> None:
    transport = make_transport()
    for index in range(3):
        await transport.send(GROUP, index, message(f"part {index}"), digest_date=DAY)
    sent = fake_telegram.sent(-1001)
    assert [m["disable_notification"] for m in sent] == [None, True, True]


async def test_our_per_chat_pacing_avoids_the_429s_aioratelimiter_would_get(
    make_transport: Callable[..., TelegramTransport], fake_telegram: FakeTelegram
) -> None:
    fake_telegram.enforce_rate_limit(per_chat_per_sec=10, per_group_per_min=600)
    paced = make_transport(per_chat_interval=0.1)
    for i in range(4):
        await paced.send(GROUP, i, message(f"m{i}"), digest_date=DAY)
    assert fake_telegram.stats["rate_limited"] == 0
    unpaced = make_transport(per_chat_interval=0.0)
    await unpaced.send(FORUM, 0, message("m0"), digest_date=DAY)
    # AIORateLimiter alone bursts into the per-chat limit: the platform answers 429.
    with pytest.raises(TransientDeliveryError) as caught:
        await unpaced.send(FORUM, 1, message("m1"), digest_date=DAY)
    assert caught.value.retry_after == 1
    assert fake_telegram.stats["rate_limited"] == 1
    assert [m["text"] for m in fake_telegram.sent(-1002)] == ["m0"]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        ("kicked", "bot was kicked"),
        ("blocked", "blocked by the user"),
        ("not_member", "not a member"),
        ("not_found", "chat not found"),
        ("topic_closed", "TOPIC_CLOSED"),
    ],
)
async def test_chat_errors_are_permanent(
    make_transport: Callable[..., TelegramTransport],
    fake_telegram: FakeTelegram,
    error: str,
    text: str,
) -> None:
    fake_telegram.fail_chat(-1001, error)
    with pytest.raises(PermanentDeliveryError, match=f"(?i){text}"):
        await make_transport().send(GROUP, 0, message("x"), digest_date=DAY)


async def test_an_invalid_token_pauses_the_platform_not_the_chat(
    make_transport: Callable[..., TelegramTransport],
) -> None:
    with pytest.raises(PlatformUnavailable) as caught:
        await make_transport(token="999:wrong").send(GROUP, 0, message("x"), digest_date=DAY)
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.code == "invalid_token"
    assert "999:wrong" not in str(caught.value)


async def test_an_api_url_that_answers_404_pauses_the_platform(
    fake_telegram: FakeTelegram,
) -> None:
    transport = TelegramTransport(
        fake_telegram.token, base_url=f"{fake_telegram.base_url}/typo/bot", per_chat_interval=0
    )
    try:
        with pytest.raises(PlatformUnavailable, match=r"telegram\.api_url"):
            await transport.check()
        with pytest.raises(PlatformUnavailable):
            await transport.send(GROUP, 0, message("x"), digest_date=DAY)
    finally:
        await transport.close()
    assert fake_telegram.sent(-1001) == []


async def test_the_credential_check_names_the_bot(
    make_transport: Callable[..., TelegramTransport],
) -> None:
    assert (await make_transport().check()).startswith("@")


async def test_flood_control_beyond_the_limiter_retries_is_transient(
    make_transport: Callable[..., TelegramTransport], fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", status=429, retry_after=9)
    with pytest.raises(TransientDeliveryError) as caught:
        await make_transport().send(GROUP, 0, message("x"), digest_date=DAY)
    assert caught.value.retry_after == 9
    assert not caught.value.maybe_posted


async def test_the_limiter_can_retry_flood_control_itself(
    make_transport: Callable[..., TelegramTransport], fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    await make_transport(max_retries=2).send(GROUP, 0, message("x"), digest_date=DAY)
    assert [m["text"] for m in fake_telegram.sent(-1001)] == ["x"]
    assert len(fake_telegram.calls_to("sendMessage")) == 2


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 502}, {"drop": True}])
async def test_server_and_network_errors_are_transient(
    make_transport: Callable[..., TelegramTransport],
    fake_telegram: FakeTelegram,
    fault: dict[str, Any],
) -> None:
    fake_telegram.fail_next("sendMessage", **fault)
    transport = make_transport()
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(GROUP, 0, message("x"), digest_date=DAY)
    assert caught.value.maybe_posted  # Telegram may have accepted it before the failure
    await transport.send(GROUP, 0, message("x"), digest_date=DAY)
    assert [m["text"] for m in fake_telegram.sent(-1001)] == ["x"]


async def test_a_rejected_message_is_neither_transient_nor_permanent(
    make_transport: Callable[..., TelegramTransport],
) -> None:
    with pytest.raises(DeliveryError) as caught:
        await make_transport().send(GROUP, 0, message("<b>unclosed"), digest_date=DAY)
    assert not isinstance(caught.value, TransientDeliveryError | PermanentDeliveryError)
    assert "rejected" in str(caught.value)


async def test_the_token_never_reaches_the_logs(
    make_transport: Callable[..., TelegramTransport],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_telegram.fail_chat(-1003, "kicked")
    with caplog.at_level(logging.DEBUG):
        transport = make_transport()
        await transport.send(GROUP, 0, message("x"), digest_date=DAY)
        with pytest.raises(PermanentDeliveryError) as caught:
            await transport.send(
                Channel("telegram", "-1003", "0 9 * * *", "UTC"), 0, message("x"), digest_date=DAY
            )
    secret = fake_telegram.token.split(":", 1)[1]
    assert secret not in caplog.text
    assert secret not in str(caught.value)
