"""The fake Slack answers real slack_sdk / Bolt clients the way Slack does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlack, sign_request

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test"
META = {"event_type": "digest_message", "event_payload": {"date": "2026-02-03", "index": 0}}


def _client(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url, **kwargs)


async def test_post_history_replies_round_trip(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    assert (await client.auth_test())["user_id"] == "U0FAKEBOT1"
    parent = await client.chat_postMessage(channel="C1", text="digest", metadata=META)
    replies = []
    for i in (1, 2):
        meta = {"event_type": "digest_message", "event_payload": {"date": "2026-02-03", "index": i}}
        r = await client.chat_postMessage(
            channel="C1", text=f"item {i}", thread_ts=parent["ts"], metadata=meta
        )
        replies.append(r["ts"])
    later = await client.chat_postMessage(channel="C1", text="later")
    assert parent["ts"] < replies[0] < replies[1] < later["ts"]
    assert parent["message"]["metadata"] == META

    history = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [later["ts"], parent["ts"]]
    assert history["messages"][1]["metadata"] == META
    assert history["messages"][1]["reply_count"] == 2
    plain = await client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in plain["messages"])

    thread = await client.conversations_replies(
        channel="C1", ts=parent["ts"], include_all_metadata=True
    )
    assert [m["ts"] for m in thread["messages"]] == [parent["ts"], *replies]
    assert [m["metadata"]["event_payload"]["index"] for m in thread["messages"]] == [0, 1, 2]

    stored = fake_slack.messages("C1")
    assert [m["text"] for m in stored] == ["digest", "item 1", "item 2", "later"]
    assert stored[1]["thread_ts"] == parent["ts"]
    assert fake_slack.messages("C2") == []


def test_sync_client_form_encoded_and_paging(fake_slack: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=fake_slack.api_url)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*x*"}}]
    for i in range(5):
        client.api_call(
            "chat.postMessage",
            data={"channel": "C9", "text": f"m{i}", "blocks": json.dumps(blocks)},
        )
    assert fake_slack.messages("C9")[0]["blocks"] == blocks
    seen, cursor = [], None
    while True:
        page = client.conversations_history(channel="C9", limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == ["m4", "m3", "m2", "m1", "m0"]
    oldest = fake_slack.messages("C9")[2]["ts"]
    newer = client.conversations_history(channel="C9", oldest=oldest)["messages"]
    assert [m["text"] for m in newer] == ["m4", "m3"]
    method, params, _ = fake_slack.calls[0]
    assert method == "chat.postMessage" and params["channel"] == "C9" and "token" not in params


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("kwargs", "error", "detail"),
    [
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            "invalid_blocks",
            "text attribute cannot exceed 3000 characters [json-pointer:/blocks/0]",
        ),
        ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks", "no more than 50 items"),
        ({"text": "x" * 40_001}, "msg_too_long", None),
        ({}, "no_text", None),
    ],
)
async def test_invalid_payloads_are_refused(
    fake_slack: FakeSlack, kwargs: dict[str, Any], error: str, detail: str | None
) -> None:
    with pytest.raises(SlackApiError) as info:
        await _client(fake_slack).chat_postMessage(channel="C1", **kwargs)
    assert info.value.response.status_code == 200
    assert info.value.response["error"] == error
    if detail is not None:
        assert any(detail in e for e in info.value.response["errors"])
    assert fake_slack.messages("C1") == []


async def test_429_is_retried_after_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = _client(
        fake_slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )
    result = await client.chat_postMessage(channel="C1", text="hello")
    assert result["ok"]
    first, second = fake_slack.calls_to("chat.postMessage")
    assert second.time - first.time >= 1.0
    assert fake_slack.stats["429"] == 1
    assert [m["text"] for m in fake_slack.messages("C1")] == ["hello"]


async def test_429_wire_format(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            fake_slack.api_url + "chat.postMessage",
            json={"channel": "C1", "text": "x"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response,
    ):
        assert response.status == 429
        assert response.headers["Retry-After"] == "7"
        assert await response.json() == {"ok": False, "error": "ratelimited"}


async def test_500_is_retried_by_server_error_handler(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)
    client = _client(fake_slack, retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)])
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
    assert fake_slack.stats["500"] == 1
    assert len(fake_slack.messages("C1")) == 1


async def test_500_without_handler_surfaces(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=503)
    with pytest.raises(SlackApiError) as info:
        await _client(fake_slack).chat_postMessage(channel="C1", text="x")
    assert info.value.response.status_code == 503


def test_dropped_connection_is_retried_by_default_handler(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", drop=True)
    client = WebClient(token=TOKEN, base_url=fake_slack.api_url)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert fake_slack.stats["dropped"] == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert len(fake_slack.messages("C1")) == 1


@pytest.mark.parametrize(
    "error",
    ["channel_not_found", "is_archived", "not_in_channel", "account_inactive", "token_revoked"],
)
async def test_permanent_channel_errors(fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail_channel("C_BAD", error)
    client = _client(fake_slack)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            await client.chat_postMessage(channel="C_BAD", text="x")
        assert info.value.response["error"] == error
        assert info.value.response.status_code == 200
    assert (await client.chat_postMessage(channel="C_OK", text="x"))["ok"]


async def test_known_channels_and_tokens() -> None:
    with FakeSlack(token=TOKEN, channels={"C1": "general"}) as fake:
        fake.add_channel("C_OLD", archived=True)
        fake.add_channel("C_OUT", member=False, private=True)
        client = _client(fake)
        assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
        for channel, error in [
            ("C2", "channel_not_found"),
            ("C_OLD", "is_archived"),
            ("C_OUT", "not_in_channel"),
        ]:
            with pytest.raises(SlackApiError) as info:
                await client.chat_postMessage(channel=channel, text="x")
            assert info.value.response["error"] == error
        info_ = await client.conversations_info(channel="C1")
        assert info_["channel"]["name"] == "general"
        bad = AsyncWebClient(token="xoxb-other", base_url=fake.api_url)
        with pytest.raises(SlackApiError) as info:
            await bad.auth_test()
        assert info.value.response["error"] == "invalid_auth"
        anonymous = AsyncWebClient(base_url=fake.api_url)
        with pytest.raises(SlackApiError) as info:
            await anonymous.auth_test()
        assert info.value.response["error"] == "not_authed"


async def test_rate_limit_per_channel(fake_slack: FakeSlack) -> None:
    fake_slack.enforce_rate_limit(per_channel_per_sec=1.0)
    client = _client(fake_slack)
    await client.chat_postMessage(channel="C1", text="a")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel="C1", text="b")
    assert info.value.response.status_code == 429
    assert info.value.response["error"] == "ratelimited"
    assert int(info.value.response.headers["Retry-After"]) >= 1
    await client.chat_postMessage(channel="C2", text="other channel is fine")
    assert fake_slack.stats["429"] == 1
    assert [m["text"] for m in fake_slack.messages("C1")] == ["a"]


async def test_update_ephemeral_unknown_method(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    posted = await client.chat_postMessage(channel="C1", text="v1")
    updated = await client.chat_update(channel="C1", ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"]
    assert fake_slack.messages("C1")[0]["text"] == "v2"
    with pytest.raises(SlackApiError) as info:
        await client.chat_update(channel="C1", ts="1.000001", text="x")
    assert info.value.response["error"] == "message_not_found"
    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert eph["message_ts"] and fake_slack.ephemerals[0]["user"] == "U1"
    with pytest.raises(SlackApiError) as info:
        await client.api_call("no.such.method")
    assert info.value.response["error"] == "unknown_method"


async def test_live_mentions_are_recorded(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    await client.chat_postMessage(channel="C1", text="safe &lt;!here&gt;")
    assert fake_slack.live_mentions() == []
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "ping <@U0OTHER>"}}]
    await client.chat_postMessage(channel="C1", text="<!channel>", blocks=blocks)
    assert sorted(m.mention for m in fake_slack.live_mentions()) == ["<!channel>", "<@U0OTHER>"]


async def test_response_url(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    webhook = AsyncWebhookClient(url)
    response = await webhook.send(text="answer", response_type="ephemeral")
    assert response.status_code == 200
    assert fake_slack.responses(url)[0]["text"] == "answer"
    bad = await webhook.send(
        text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
    )
    assert bad.status_code == 400 and bad.body == "invalid_blocks"
    assert len(fake_slack.responses()) == 1


def test_sign_request_is_accepted_by_slack_sdk() -> None:
    body = "command=%2Fai&text=tag%3ARL"
    headers = sign_request(body, "s3cret")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = sign_request(body, "s3cret", timestamp=1)
    assert not verifier.is_valid_request(body, stale)


async def test_socket_mode_client_connects_and_acks(fake_slack: FakeSlack) -> None:
    web = _client(fake_slack)
    client = SocketModeClient(app_token=APP_TOKEN, web_client=web, auto_reconnect_enabled=False)
    received: list[SocketModeRequest] = []

    async def listener(c: Any, request: SocketModeRequest) -> None:
        received.append(request)
        await c.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "got it"})
        )

    client.socket_mode_request_listeners.append(listener)
    try:
        await client.connect()
        await fake_slack.socket.wait_connected()
        envelope = fake_slack.socket.send_slash_command(text="tag:RL", channel_id="C7")
        ack = await fake_slack.socket.wait_ack(envelope, timeout=3)
    finally:
        await client.close()
    assert ack["payload"] == {"text": "got it"}
    assert received[0].type == "slash_commands"
    assert received[0].payload["text"] == "tag:RL"
    assert received[0].payload["channel_id"] == "C7"
    assert fake_slack.calls_to("apps.connections.open")


async def test_socket_mode_disconnect_makes_the_client_reconnect(fake_slack: FakeSlack) -> None:
    client = SocketModeClient(app_token=APP_TOKEN, web_client=_client(fake_slack))
    try:
        await client.connect()
        await fake_slack.socket.wait_connected()
        fake_slack.socket.send_disconnect()
        await fake_slack.wait_until(lambda: fake_slack.socket.connections >= 2, timeout=5)
        envelope = fake_slack.socket.send_envelope("events_api", {"event": {"type": "x"}})
        client.socket_mode_request_listeners.append(
            lambda c, r: c.send_socket_mode_response(SocketModeResponse(r.envelope_id))
        )
        assert (await fake_slack.socket.wait_ack(envelope))["envelope_id"] == envelope
    finally:
        await client.close()
    assert len(fake_slack.calls_to("apps.connections.open")) == 2


async def test_socket_mode_rejects_bot_token(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as info:
        await _client(fake_slack).apps_connections_open(app_token=TOKEN)
    assert info.value.response["error"] == "not_allowed_token_type"


async def test_bolt_socket_mode_app_answers_via_response_url(fake_slack: FakeSlack) -> None:
    app = AsyncApp(client=_client(fake_slack))

    @app.command("/ai")
    async def handle(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text=f"you asked {command['text']}")

    @app.action("more")
    async def more(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text=f"page {body['actions'][0]['value']}", replace_original=True)

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    # queued before the client connects: the outbox delivers it after hello
    command = fake_slack.socket.send_slash_command(text="tag:RL")
    await handler.connect_async()
    try:
        ack = await fake_slack.socket.wait_ack(command, timeout=3)
        answers = await fake_slack.wait_for_responses(1)
        click = fake_slack.socket.send_block_action("more", "page:2")
        await fake_slack.socket.wait_ack(click, timeout=3)
        answers = await fake_slack.wait_for_responses(2)
    finally:
        await handler.close_async()
    assert ack["envelope_id"] == command
    assert answers[0]["text"] == "you asked tag:RL"
    assert answers[1]["text"] == "page page:2" and answers[1]["replace_original"] is True
    assert fake_slack.calls_to("auth.test")


async def test_wait_for_messages_from_a_background_task(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)

    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C3", text="late")

    task = asyncio.create_task(later())
    found = await fake_slack.wait_for_messages("C3", 1, timeout=3)
    await task
    assert found[0]["text"] == "late"
    with pytest.raises(TimeoutError):
        await fake_slack.wait_for_messages("C3", 2, timeout=0.1)


def test_reset_forgets_everything(fake_slack: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=fake_slack.api_url)
    client.chat_postMessage(channel="C1", text="<!here>")
    fake_slack.fail_next("chat.postMessage", status=500, times=3)
    fake_slack.reset()
    assert fake_slack.calls == [] and fake_slack.messages("C1") == []
    assert fake_slack.live_mentions() == [] and not fake_slack.stats
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
