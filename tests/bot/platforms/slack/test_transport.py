"""SlackTransport through slack_sdk's AsyncWebClient over real HTTP to the fake Slack."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
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
from bot.platforms.slack.retry import MAX_WAIT
from bot.platforms.slack.transport import SlackTransport
from formatters.payloads import SlackMessage
from tests.fakes import FakeSlack
from tests.support.delivery_kit import DAY, SLACK_TOKEN

C1 = Channel("slack", "C1", "0 9 * * *", "UTC")
C2 = Channel("slack", "C2", "0 9 * * *", "UTC")


def message(text: str, *, in_thread: bool = False) -> SlackMessage:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return SlackMessage(text=text, blocks=[block], in_thread=in_thread)


@pytest.fixture
async def make_transport(fake_slack: FakeSlack) -> AsyncIterator[Callable[..., SlackTransport]]:
    made: list[SlackTransport] = []

    def make(**kwargs: Any) -> SlackTransport:
        kwargs.setdefault("per_channel_interval", 0.0)
        kwargs.setdefault("base_url", fake_slack.api_url)
        transport = SlackTransport(SLACK_TOKEN, **kwargs)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.close()


async def test_parent_then_thread_replies_with_metadata(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    transport = make_transport()
    parent = await transport.send(C1, 0, message("headlines"), digest_date=DAY)
    reply = await transport.send(
        C1, 1, message("item 1", in_thread=True), digest_date=DAY, parent_id=parent
    )
    posted = fake_slack.messages("C1")
    assert [m["ts"] for m in posted] == [parent, reply]
    assert posted[1]["thread_ts"] == parent
    assert posted[0]["metadata"] == {
        "event_type": "digest_message",
        "event_payload": {"date": "2026-02-03", "index": 0, "kind": "daily"},
    }
    assert posted[1]["metadata"]["event_payload"] == {
        "date": "2026-02-03",
        "index": 1,
        "kind": "daily",
    }
    assert posted[0]["text"] == "headlines"
    with pytest.raises(DeliveryError, match="no parent"):
        await transport.send(C1, 2, message("orphan", in_thread=True), digest_date=DAY)


async def test_find_posted_reads_history_and_threads(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    transport = make_transport()
    since = dt.datetime.now(dt.UTC)
    parent = await transport.send(C1, 0, message("headlines"), digest_date=DAY)
    replies = [
        await transport.send(
            C1, i, message(f"item {i}", in_thread=True), digest_date=DAY, parent_id=parent
        )
        for i in (1, 2)
    ]
    # A human's message in the channel, and a post for another day, are not ours.
    await transport.send(C1, 0, message("tomorrow"), digest_date=DAY + dt.timedelta(days=1))
    assert await transport.find_posted(C1, DAY, 0, since=since) == parent
    assert await transport.find_posted(C1, DAY, 2, parent_id=parent, since=since) == replies[1]
    assert await transport.find_posted(C1, DAY, 3, parent_id=parent, since=since) is None
    assert await transport.find_posted(C2, DAY, 0, since=since) is None
    history = fake_slack.calls_to("conversations.history")[-1].params
    assert history["channel"] == "C2"
    assert str(history["include_all_metadata"]).lower() in ("true", "1")
    assert float(history["oldest"]) < since.timestamp()


async def test_own_pacing_keeps_under_the_per_channel_limit(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.enforce_rate_limit(per_channel_per_sec=10, burst=1)
    transport = make_transport(per_channel_interval=0.1)
    for i in range(5):
        for channel in (C1, C2):
            await transport.send(channel, i, message(f"m{i}"), digest_date=DAY)
    assert fake_slack.stats["rate_limited"] == 0
    assert len(fake_slack.messages("C1")) == len(fake_slack.messages("C2")) == 5


async def test_without_pacing_429s_are_retried_by_the_sdk_handler(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.enforce_rate_limit(per_channel_per_sec=20, burst=1)
    transport = make_transport(per_channel_interval=0.0)
    for i in range(3):
        await transport.send(C1, i, message(f"m{i}"), digest_date=DAY)
    assert fake_slack.stats["rate_limited"] >= 1
    assert [m["text"] for m in fake_slack.messages("C1")] == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    "code",
    ["channel_not_found", "is_archived", "not_in_channel"],
)
async def test_channel_errors_are_permanent(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack, code: str
) -> None:
    fake_slack.fail_channel("C1", code)
    with pytest.raises(PermanentDeliveryError) as caught:
        await make_transport().send(C1, 0, message("x"), digest_date=DAY)
    assert caught.value.code == code
    assert code in str(caught.value)


async def test_rate_limit_beyond_the_sdk_retries_is_transient_with_its_hint(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(TransientDeliveryError) as caught:
        await make_transport(rate_limit_retries=0).send(C1, 0, message("x"), digest_date=DAY)
    assert caught.value.retry_after == 7
    assert not caught.value.maybe_posted  # a 429 never posts


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"drop": True}])
async def test_an_ambiguous_post_failure_is_not_retried_blindly(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack, fault: dict[str, Any]
) -> None:
    """A 5xx or a dropped connection may have posted: the engine must look before retrying."""
    fake_slack.fail_next("chat.postMessage", **fault)
    with pytest.raises(TransientDeliveryError) as caught:
        await make_transport().send(C1, 0, message("x"), digest_date=DAY)
    assert caught.value.maybe_posted
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_reads_are_retried_by_the_sdk_handlers(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    transport = make_transport()
    parent = await transport.send(C1, 0, message("headlines"), digest_date=DAY)
    fake_slack.fail_next("conversations.history", status=500)
    fake_slack.fail_next("conversations.history", drop=True)
    assert await transport.find_posted(C1, DAY, 0) == parent
    assert len(fake_slack.calls_to("conversations.history")) == 3


async def test_a_rejected_payload_is_neither_transient_nor_permanent(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    with pytest.raises(DeliveryError) as caught:
        await make_transport().send(C1, 0, message("x"), digest_date=DAY)
    assert not isinstance(caught.value, TransientDeliveryError | PermanentDeliveryError)
    assert caught.value.code == "invalid_blocks"


async def test_an_unreachable_server_is_transient_and_surely_not_posted(
    make_transport: Callable[..., SlackTransport],
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = make_transport(base_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(TransientDeliveryError) as caught:
        await transport.send(C1, 0, message("x"), digest_date=DAY)
    assert not caught.value.maybe_posted


async def test_the_token_never_reaches_the_logs(
    make_transport: Callable[..., SlackTransport],
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_slack.fail_channel("C2", "channel_not_found")
    with caplog.at_level(logging.DEBUG):
        transport = make_transport()
        await transport.send(C1, 0, message("x"), digest_date=DAY)
        with pytest.raises(PermanentDeliveryError) as caught:
            await transport.send(C2, 0, message("x"), digest_date=DAY)
    assert caplog.records  # slack_sdk did log at DEBUG
    assert SLACK_TOKEN not in caplog.text
    assert SLACK_TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "code", ["invalid_auth", "token_revoked", "account_inactive", "not_authed"]
)
async def test_a_refused_token_pauses_the_platform_not_the_channel(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack, code: str
) -> None:
    fake_slack.fail_channel("C1", code)
    with pytest.raises(PlatformUnavailable) as caught:
        await make_transport().send(C1, 0, message("x"), digest_date=DAY)
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert caught.value.code == code


async def test_a_wrong_token_fails_the_credential_check(fake_slack: FakeSlack) -> None:
    transport = SlackTransport("xoxb-wrong", base_url=fake_slack.api_url)
    fake_slack.token = SLACK_TOKEN
    try:
        with pytest.raises(PlatformUnavailable, match="invalid_auth"):
            await transport.check()
    finally:
        await transport.close()
    good = SlackTransport(SLACK_TOKEN, base_url=fake_slack.api_url)
    try:
        assert "Fake Team" in await good.check()
    finally:
        await good.close()


async def test_an_api_url_that_answers_404_pauses_the_platform(fake_slack: FakeSlack) -> None:
    transport = SlackTransport(
        SLACK_TOKEN, base_url=f"{fake_slack.base_url}/nowhere/", per_channel_interval=0.0
    )
    try:
        with pytest.raises(PlatformUnavailable, match=r"slack\.api_url"):
            await transport.send(C1, 0, message("x"), digest_date=DAY)
    finally:
        await transport.close()


@pytest.mark.parametrize("header", ["86400", "inf", "abc", "-5"])
async def test_no_retry_after_header_makes_the_sdk_sleep_long_or_crash(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack, header: str
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=header)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TransientDeliveryError) as caught:
        await asyncio.wait_for(
            make_transport().send(C1, 0, message("x"), digest_date=DAY), timeout=20
        )
    assert loop.time() - started < 5  # handed back to the engine, not slept through
    hint = caught.value.retry_after
    assert hint is None or (hint == 86400 if header == "86400" else hint <= MAX_WAIT)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_short_retry_after_is_still_retried_by_the_sdk_handler(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    await make_transport().send(C1, 0, message("x"), digest_date=DAY)
    assert len(fake_slack.messages("C1")) == 1


async def test_an_unjoined_public_channel_is_joined_before_the_first_post(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.add_channel("CPUB", member=False)
    channel = Channel("slack", "CPUB", "0 9 * * *", "UTC")
    transport = make_transport()
    first = await transport.send(channel, 0, message("x"), digest_date=DAY)
    await transport.send(channel, 1, message("y"), digest_date=DAY)
    assert len(fake_slack.calls_to("conversations.join")) == 1
    assert await transport.find_posted(channel, DAY, 0) == first


async def test_an_unreadable_history_is_no_reason_to_deactivate_the_channel(
    make_transport: Callable[..., SlackTransport], fake_slack: FakeSlack
) -> None:
    fake_slack.add_channel("CPUB", member=False)
    channel = Channel("slack", "CPUB", "0 9 * * *", "UTC")
    with pytest.raises(DeliveryError) as caught:
        await make_transport().find_posted(channel, DAY, 0)
    assert not isinstance(caught.value, PermanentDeliveryError)
    assert "/invite" in str(caught.value)
