"""``start_listeners``: what starts when, in the caller's loop; clear errors; clean stops;
and each platform's one answer to "can this listener start?", naming the missing key."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.archive import Archive
from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.listeners import listener_needs, start_listeners, stop_listeners
from tests.bot.platforms.conftest import free_port
from tests.fakes import FakeSlack, FakeTelegram


def both(fake_slack: FakeSlack, fake_telegram: FakeTelegram, **telegram: Any) -> Settings:
    return Settings(
        slack={"bot_token": "xoxb-1", "app_token": "xapp-1", "api_url": fake_slack.api_url},
        telegram={"token": fake_telegram.token, "api_url": fake_telegram.api_url, **telegram},
    )


async def test_nothing_configured_starts_nothing(reference_archive: Archive) -> None:
    assert await start_listeners(Settings(), reference_archive) == []


async def test_slack_and_telegram_run_in_this_loop_and_answer(
    reference_archive: Archive, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    listeners = await start_listeners(both(fake_slack, fake_telegram), reference_archive)
    try:
        assert [listener.name for listener in listeners] == ["slack", "telegram"]
        await fake_slack.socket.wait_connected()
        assert all(listener.connected for listener in listeners)
        # One command core serves both platforms.
        url = fake_slack.new_response_url()
        envelope = fake_slack.socket.send_slash_command("/ai", "tag:RL", response_url=url)
        await fake_slack.socket.wait_ack(envelope)
        fake_telegram.push_message(-100777, "/ai tag:RL")
        [telegram_reply] = await fake_telegram.wait_for_sent(-100777)
        [slack_reply] = await fake_slack.wait_until(lambda: fake_slack.responses(url))
        assert "INT4" in telegram_reply["text"] and "INT4" in str(slack_reply["blocks"])
    finally:
        await stop_listeners(listeners)
    assert not any(listener.connected for listener in listeners)
    assert not fake_slack.socket.connected


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        ({"slack": {"bot_token": "xoxb-1"}}, "slack.app_token"),
        ({"slack": {"bot_token": "xoxb-1", "mode": "http"}}, "slack.signing_secret"),
        ({"telegram": {"token": "1:x", "mode": "webhook"}}, "telegram.webhook_url"),
        (
            {"telegram": {"token": "1:x", "mode": "webhook", "webhook_url": "https://e.x/h"}},
            "telegram.webhook_secret",
        ),
        ({"feishu": {"app_id": "cli_1"}}, "feishu.app_secret"),
    ],
)
async def test_missing_keys_are_named(
    reference_archive: Archive, sections: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        await start_listeners(Settings(**sections), reference_archive)


async def test_a_failing_listener_stops_the_started_ones_and_hides_the_token(
    reference_archive: Archive, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    settings = both(fake_slack, fake_telegram)
    wrong = "999999:WRONG-token-value"
    assert settings.telegram.token is not None
    settings.telegram.token = type(settings.telegram.token)(wrong)
    with pytest.raises(ConfigError) as info:
        await start_listeners(settings, reference_archive)
    message = str(info.value)
    assert "telegram.token" in message
    assert wrong not in message and "WRONG-token" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    await fake_slack.wait_until(lambda: not fake_slack.socket.connected)


async def test_telegram_token_never_reaches_the_logs(
    reference_archive: Archive, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(telegram={"token": fake_telegram.token, "api_url": fake_telegram.api_url})
    with caplog.at_level(logging.INFO):
        listeners = await start_listeners(settings, reference_archive)
        fake_telegram.push_message(5150, "/help", user_id=5150)
        await fake_telegram.wait_for_sent(5150)
        await stop_listeners(listeners)
    assert fake_telegram.calls_to("getUpdates")
    assert not [r for r in caplog.records if fake_telegram.token in r.getMessage()]


@pytest.mark.parametrize(
    ("platform", "config", "key"),
    [
        ("slack", {"slack": {"bot_token": "xoxb-1"}}, "slack.app_token"),
        ("slack", {"slack": {"bot_token": "xoxb-1", "mode": "http"}}, "slack.signing_secret"),
        ("slack", {"slack": {"bot_token": "xoxb-1", "app_token": "xapp-1"}}, None),
        ("slack", {"slack": {"mode": "http", "signing_secret": "s"}}, None),
        ("telegram", {"telegram": {"token": "1:x"}}, None),
        ("telegram", {"telegram": {"token": "1:x", "mode": "webhook"}}, "telegram.webhook_url"),
        (
            "telegram",
            {"telegram": {"token": "1:x", "mode": "webhook", "webhook_url": "https://e.x/h"}},
            "telegram.webhook_secret",
        ),
        ("feishu", {"feishu": {"app_id": "cli_1"}}, "feishu.app_secret"),
        ("feishu", {"feishu": {"app_id": "cli_1", "app_secret": "s"}}, None),
        (
            "feishu",
            {"feishu": {"app_id": "cli_1", "app_secret": "s", "mode": "http"}},
            "feishu.encrypt_key",
        ),
    ],
)
def test_each_listener_names_its_missing_key(
    platform: Any, config: dict[str, Any], key: str | None
) -> None:
    problem = listener_needs(platform).missing_key(Settings(**config))
    if key is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(f"{key}: required")


async def test_the_feishu_app_bot_starts_with_the_others_and_answers(
    reference_archive: Archive, fake_feishu_api: Any
) -> None:
    port = free_port()
    fake_feishu_api.add_chat("oc_g", owner="ou_o")
    settings = Settings(
        feishu={
            "app_id": fake_feishu_api.app_id,
            "app_secret": fake_feishu_api.app_secret,
            "encrypt_key": fake_feishu_api.encrypt_key,
            "verification_token": fake_feishu_api.verification_token,
            "mode": "http",
            "port": port,
            "api_url": fake_feishu_api.base_url,
        }
    )
    listeners = await start_listeners(settings, reference_archive)
    try:
        assert [listener.name for listener in listeners] == ["feishu"]
        assert listeners[0].connected
        event = fake_feishu_api.message_event("oc_g", "tag:RL")
        status, _ = await fake_feishu_api.deliver(f"http://127.0.0.1:{port}/feishu/events", event)
        assert status == 200
        [reply] = await fake_feishu_api.wait_until(lambda: fake_feishu_api.sent("oc_g"), timeout=30)
        assert "INT4" in reply["text"]
    finally:
        await stop_listeners(listeners)
    assert not listeners[0].connected
