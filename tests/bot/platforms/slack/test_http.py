"""HTTP mode's front door, end to end over real HTTP with the real Bolt app: signatures on
the raw bytes first, strict parsing of signed bodies, replays and retries remembered in
the archive (shared by replicas), the listen address, and who may change a channel."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.archive import Archive
from bot.chat import CommandCore
from bot.config import Settings
from bot.platforms.slack.app import SlackListener, start_slack
from formatters.templates import Templates
from tests.fakes import FakeSlack, slash_command_payload
from tests.support.slack_kit import Poster, http_settings, response_for, texts

MALFORMED = [
    b"{not json",
    b"\xff\xfe\x00garbage",
    b"payload=%7Bbad",
    b"[]",
    b"null",
    b"payload=%5B%5D",
    b"",
]


@pytest.fixture
def core(reference_archive: Archive) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def http_app(fake_slack: FakeSlack, core: CommandCore) -> AsyncIterator[SlackListener]:
    listener = await start_slack(http_settings(fake_slack), core, Templates(), port=0)
    yield listener
    await listener.stop()


def loud(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records an operator would be paged for: warnings and up, or any traceback."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


@pytest.mark.parametrize("body", MALFORMED)
async def test_unsigned_garbage_is_401_without_a_traceback(
    http_app: SlackListener, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    assert http_app.port is not None
    caplog.set_level(logging.DEBUG)
    status, _ = await Poster(http_app.port).raw(body, {})
    assert status == 401
    forged = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=ab"}
    status, _ = await Poster(http_app.port).raw(body, forged)
    assert status == 401
    status, _ = await Poster(http_app.port).raw(
        body, {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=é"}
    )
    assert status == 401
    assert loud(caplog) == []


@pytest.mark.parametrize("body", MALFORMED)
@pytest.mark.parametrize("content_type", [None, "application/json"])
async def test_signed_malformed_bodies_are_400_without_a_traceback(
    http_app: SlackListener, body: bytes, content_type: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    assert http_app.port is not None
    caplog.set_level(logging.DEBUG)
    status, text = await Poster(http_app.port).signed(body, content_type=content_type)
    assert status == 400 and "malformed" in text
    assert loud(caplog) == []


async def test_a_replayed_signed_request_and_a_retry_copy_change_nothing(
    http_app: SlackListener,
    fake_slack: FakeSlack,
    reference_archive: Archive,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert http_app.port is not None
    fake_slack.set_user("U0FAKEUSER", admin=True)
    poster = Poster(http_app.port)
    url = fake_slack.new_response_url()
    form = slash_command_payload(
        "/ai", "subscribe tag:Agent", channel_id="CREPLAY1", response_url=url
    )
    body = urlencode(form).encode()
    stamp = int(time.time())
    assert (await poster.signed(body, timestamp=stamp))[0] == 200
    await response_for(fake_slack, url)
    before = reference_archive.subscriptions.get("slack", "CREPLAY1")
    assert before is not None and before.topics == ["tag:Agent"]

    caplog.set_level(logging.INFO, logger="bot.platforms.slack.http")
    # The same bytes with the same signature (an attacker's replay inside 5 minutes) ...
    assert (await poster.signed(body, timestamp=stamp))[0] == 200
    # ... and Slack's own retry copy (a new timestamp and signature, the same body).
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await poster.signed(body, timestamp=stamp + 2, extra=retry))[0] == 200
    ignored = [r for r in caplog.records if "repeated request" in r.getMessage()]
    assert len(ignored) == 2 and "retry 1" in ignored[1].getMessage()
    assert reference_archive.subscriptions.get("slack", "CREPLAY1") == before
    assert len(fake_slack.responses(url)) == 1


async def test_a_replay_sent_to_the_other_replica_is_ignored_there(
    fake_slack: FakeSlack,
    reference_archive: Archive,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_slack.set_user("U0FAKEUSER", admin=True)
    second_archive = Archive(reference_archive.url)  # another process, the same database
    first_core = CommandCore(reference_archive, Settings())
    second_core = CommandCore(second_archive, Settings())
    first = await start_slack(http_settings(fake_slack), first_core, Templates(), port=0)
    second = await start_slack(http_settings(fake_slack), second_core, Templates(), port=0)
    try:
        assert first.port is not None and second.port is not None
        url = fake_slack.new_response_url()
        body = urlencode(slash_command_payload("/ai", "tag:RL", response_url=url)).encode()
        assert (await Poster(first.port).signed(body))[0] == 200
        caplog.set_level(logging.INFO, logger="bot.platforms.slack.http")
        assert (await Poster(second.port).signed(body))[0] == 200
        assert [r for r in caplog.records if "repeated request" in r.getMessage()]
        await response_for(fake_slack, url)
    finally:
        await first.stop()
        await second.stop()
        second_archive.close()


async def test_http_mode_listens_on_loopback_by_default(http_app: SlackListener) -> None:
    assert Settings().slack.host == "127.0.0.1"
    assert http_app.runner is not None
    assert [address[0] for address in http_app.runner.addresses] == ["127.0.0.1"]


# -- who may change a channel -------------------------------------------------------------


async def change(poster: Poster, fake: FakeSlack, text: str, user: str, channel: str) -> dict:
    _, url = await poster.command(fake, text, channel_id=channel, user_id=user)
    return await response_for(fake, url)


async def test_a_plain_member_cannot_change_a_channel_but_its_creator_and_admins_can(
    http_app: SlackListener, fake_slack: FakeSlack, reference_archive: Archive
) -> None:
    assert http_app.port is not None
    poster = Poster(http_app.port)
    fake_slack.add_channel("CTEAM001", creator="UCREATOR")
    fake_slack.set_user("UOWNER01", owner=True)

    # Any member may start a subscription (self-service) ...
    started = await change(poster, fake_slack, "subscribe", "UMEMBER1", "CTEAM001")
    assert started["response_type"] == "in_channel"
    before = reference_archive.subscriptions.get("slack", "CTEAM001")
    assert before is not None and before.topics == []
    # ... but not change it afterwards.
    refused = await change(poster, fake_slack, "subscribe tag:RL", "UMEMBER1", "CTEAM001")
    assert refused["response_type"] == "ephemeral"
    assert "workspace admin" in texts(refused) and "slack.admins" in texts(refused)
    assert reference_archive.subscriptions.get("slack", "CTEAM001") == before
    # Searching needs no rights, and asks Slack nothing.
    calls = len(fake_slack.calls_to("users.info"))
    answer = await change(poster, fake_slack, "tag:RL", "UMEMBER1", "CTEAM001")
    assert "INT4" in texts(answer) and len(fake_slack.calls_to("users.info")) == calls

    creator = await change(poster, fake_slack, "subscribe tag:RL", "UCREATOR", "CTEAM001")
    assert creator["response_type"] == "in_channel"
    owner = await change(poster, fake_slack, "schedule 07:30", "UOWNER01", "CTEAM001")
    assert owner["response_type"] == "in_channel"
    row = reference_archive.subscriptions.get("slack", "CTEAM001")
    assert row is not None and row.schedule == "30 7 * * *"

    # The answers are cached: a second refusal asks Slack nothing new.
    users, channels = (
        len(fake_slack.calls_to("users.info")),
        len(fake_slack.calls_to("conversations.info")),
    )
    await change(poster, fake_slack, "unsubscribe all", "UMEMBER1", "CTEAM001")
    assert len(fake_slack.calls_to("users.info")) == users
    assert len(fake_slack.calls_to("conversations.info")) == channels
    assert reference_archive.subscriptions.get("slack", "CTEAM001") is not None


async def test_slack_admins_star_opens_changes_to_everyone(
    fake_slack: FakeSlack, core: CommandCore, reference_archive: Archive
) -> None:
    listener = await start_slack(http_settings(fake_slack, admins=["*"]), core, Templates(), port=0)
    try:
        assert listener.port is not None
        answer = await change(
            Poster(listener.port), fake_slack, "subscribe", "UANYONE1", "COPEN001"
        )
        assert answer["response_type"] == "in_channel"
        assert reference_archive.subscriptions.get("slack", "COPEN001") is not None
        assert fake_slack.calls_to("users.info") == []
    finally:
        await listener.stop()


async def test_a_button_with_a_long_query_keeps_its_more_button(
    http_app: SlackListener, fake_slack: FakeSlack
) -> None:
    """Slack button values hold 2,000 characters: a long query still pages."""
    assert http_app.port is not None
    long_query = "since:2026-01-01 " + " ".join(f"-source:nowhere{n:02d}" for n in range(8))
    assert len(long_query.encode()) > 64
    _, url = await Poster(http_app.port).command(fake_slack, long_query)
    answer = await response_for(fake_slack, url)
    values = [
        element["value"]
        for block in answer.get("blocks", [])
        for element in block.get("elements", [])
        if element.get("action_id") == "ai_more"
    ]
    assert values and long_query in values[0]
    _, url = await Poster(http_app.port).action(fake_slack, "ai_more", values[0])
    assert "6" in json.dumps((await response_for(fake_slack, url)).get("blocks"))


async def test_an_oversized_body_is_refused_before_it_is_read_whole(
    http_app: SlackListener, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.platforms.slack.http import MAX_BODY_BYTES

    assert http_app.port is not None
    caplog.set_level(logging.DEBUG)
    status, _ = await Poster(http_app.port).signed(b"command=/ai&text=" + b"x" * MAX_BODY_BYTES)
    assert status == 413
    assert loud(caplog) == []
