"""``slack.proxy`` and ``telegram.proxy``: the real clients go through a forward proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.channels import Channel
from bot.config import Settings
from bot.platforms import make_transport
from formatters.payloads import SlackMessage, TelegramMessage
from tests.fakes import FakeSlack, FakeTelegram
from tests.fakes.proxy import FakeProxy
from tests.support.delivery_kit import DAY


@pytest.fixture
def proxy() -> Iterator[FakeProxy]:
    with FakeProxy() as fake:
        yield fake


async def test_slack_posts_through_the_proxy(fake_slack: FakeSlack, proxy: FakeProxy) -> None:
    settings = Settings(
        slack={"bot_token": "xoxb-1", "api_url": fake_slack.api_url, "proxy": proxy.url}
    )
    transport = make_transport("slack", settings, overrides={"per_channel_interval": 0})
    try:
        ts = await transport.send(
            Channel("slack", "C1", "0 9 * * *", "UTC"),
            0,
            SlackMessage(text="hello", blocks=[]),
            digest_date=DAY,
        )
    finally:
        await transport.close()
    assert ts
    # The public channel is joined first (to read its history after a lost response).
    assert proxy.paths == ["/api/conversations.join", "/api/chat.postMessage"]


async def test_telegram_posts_through_the_proxy(
    fake_telegram: FakeTelegram, proxy: FakeProxy
) -> None:
    settings = Settings(
        telegram={
            "token": fake_telegram.token,
            "api_url": fake_telegram.api_url,
            "proxy": proxy.url,
        }
    )
    transport = make_transport("telegram", settings, overrides={"per_chat_interval": 0})
    try:
        await transport.send(
            Channel("telegram", "-1001", "0 9 * * *", "UTC"),
            0,
            TelegramMessage(text="hello"),
            digest_date=DAY,
        )
    finally:
        await transport.close()
    assert any(path.endswith("/sendMessage") for path in proxy.paths)
    assert [m["text"] for m in fake_telegram.sent(-1001)] == ["hello"]


def test_a_proxy_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a URL"):
        Settings(telegram={"proxy": "proxy.example:3128"})
