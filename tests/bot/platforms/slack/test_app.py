"""The Slack adapter end to end: real Bolt, real slack_sdk clients, the fake Slack over HTTP.

HTTP mode gets requests signed with slack_sdk's ``SignatureVerifier`` (through the fake's
``sign_request``) over real HTTP; Socket Mode runs against the fake's websocket, which
records the acks.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.archive import Archive
from bot.chat import CommandCore, actions
from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.slack.app import EVENTS_PATH, SlackListener, start_slack
from formatters.templates import Templates
from tests.fakes import FakeSlack, slash_command_payload
from tests.support.slack_kit import SECRET, Poster, http_settings, response_for, texts


def socket_settings(fake: FakeSlack) -> Settings:
    return Settings(
        slack={
            "bot_token": "xoxb-test-token",
            "app_token": "xapp-test-token",
            "api_url": fake.api_url,
        }
    )


def buttons(payload: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in payload.get("blocks", []):
        elements = [*block.get("elements", []), block.get("accessory") or {}]
        found += [
            e for e in elements if e.get("type") == "button" and e.get("action_id") == action_id
        ]
    return found


@pytest.fixture
def core(reference_archive: Archive) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def http_app(fake_slack: FakeSlack, core: CommandCore) -> AsyncIterator[SlackListener]:
    settings = http_settings(fake_slack)
    listener = await start_slack(settings, core, Templates(), host="127.0.0.1", port=0)
    yield listener
    await listener.stop()


# -- HTTP mode -----------------------------------------------------------------------------


async def test_http_tag_rl_answers_items_2_and_7_ephemerally(
    http_app: SlackListener, fake_slack: FakeSlack, reference_titles: dict[int, str]
) -> None:
    assert http_app.port is not None and http_app.connected
    poster = Poster(http_app.port)
    status, url = await poster.command(fake_slack, "tag:RL")
    assert status == 200
    answer = await response_for(fake_slack, url)
    assert answer["response_type"] == "ephemeral"
    content = texts(answer)
    assert reference_titles[2] in content and reference_titles[7] in content
    others = [title for rank, title in reference_titles.items() if rank not in (2, 7)]
    assert not [title for title in others if title in content]
    details = [b["value"] for b in buttons(answer, actions.DETAILS)]
    assert details == [actions.encode_details(d, r) for d, r in [(_day(), 2), (_day(), 7)]]


def _day() -> Any:
    import datetime as dt

    return dt.date(2026, 2, 3)


@pytest.mark.parametrize(
    ("secret", "age"), [("forged-secret-forged-secret-0000", 0), (SECRET, 10 * 60)]
)
async def test_http_forged_or_stale_signatures_get_401(
    http_app: SlackListener, fake_slack: FakeSlack, secret: str, age: int
) -> None:
    assert http_app.port is not None
    poster = Poster(http_app.port)
    status, refused_url = await poster.command(
        fake_slack, "subscribe", secret=secret, timestamp=int(time.time()) - age
    )
    assert status == 401
    # A good request afterwards is answered, and the refused one never was.
    status, url = await poster.command(fake_slack, "help")
    assert status == 200
    await response_for(fake_slack, url)
    assert fake_slack.responses(refused_url) == []
    assert http_app.app is not None


async def test_http_unsigned_request_gets_401(http_app: SlackListener) -> None:
    assert http_app.port is not None
    body = urlencode(slash_command_payload("/ai", "tag:RL"))
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{http_app.port}{EVENTS_PATH}",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response,
    ):
        assert response.status == 401


async def test_http_subscribe_is_announced_in_channel_and_stored(
    http_app: SlackListener, fake_slack: FakeSlack, reference_archive: Archive
) -> None:
    assert http_app.port is not None
    fake_slack.set_user("U0FAKEUSER", admin=True)
    status, url = await Poster(http_app.port).command(
        fake_slack, "subscribe tag:Agent", channel_id="CNEW0001"
    )
    assert status == 200
    answer = await response_for(fake_slack, url)
    assert answer["response_type"] == "in_channel"
    assert "tag:Agent" in texts(answer)
    row = reference_archive.subscriptions.get("slack", "CNEW0001")
    assert row is not None and row.topics == ["tag:Agent"] and row.created_by == "U0FAKEUSER"


async def test_http_more_and_details_buttons(
    http_app: SlackListener, fake_slack: FakeSlack, reference_titles: dict[int, str]
) -> None:
    assert http_app.port is not None
    poster = Poster(http_app.port)
    _, url = await poster.command(fake_slack, "date:2026-02-03")
    first = await response_for(fake_slack, url)
    more = buttons(first, actions.MORE)
    assert len(more) == 1
    status, url = await poster.action(fake_slack, actions.MORE, more[0]["value"])
    assert status == 200
    second = await response_for(fake_slack, url)
    assert second["response_type"] == "ephemeral"
    shown_first = {v["value"] for v in buttons(first, actions.DETAILS)}
    shown_second = {v["value"] for v in buttons(second, actions.DETAILS)}
    assert len(shown_first) == 5 and len(shown_second) == 5 and not shown_first & shown_second

    status, url = await poster.action(
        fake_slack, actions.DETAILS, actions.encode_details(_day(), 3)
    )
    assert status == 200
    detail = await response_for(fake_slack, url)
    assert reference_titles[3] in texts(detail)


async def test_http_bad_query_gets_a_helpful_reply(
    http_app: SlackListener, fake_slack: FakeSlack
) -> None:
    assert http_app.port is not None
    _, url = await Poster(http_app.port).command(fake_slack, "colour:red")
    answer = await response_for(fake_slack, url)
    assert "colour:red" in texts(answer) and "/ai " in texts(answer)
    assert answer["response_type"] == "ephemeral"


async def test_http_admin_list_restricts_changes(
    fake_slack: FakeSlack, core: CommandCore, reference_archive: Archive
) -> None:
    settings = http_settings(fake_slack, admins=["UADMIN01"])
    listener = await start_slack(settings, core, Templates(), host="127.0.0.1", port=0)
    try:
        assert listener.port is not None
        poster = Poster(listener.port)
        # Anyone may start a subscription; changing it needs an admin.
        _, url = await poster.command(fake_slack, "subscribe", channel_id="CX", user_id="UOTHER01")
        assert (await response_for(fake_slack, url))["response_type"] == "in_channel"
        _, url = await poster.command(
            fake_slack, "unsubscribe all", channel_id="CX", user_id="UOTHER01"
        )
        refused = await response_for(fake_slack, url)
        assert refused["response_type"] == "ephemeral"
        assert reference_archive.subscriptions.get("slack", "CX") is not None
        _, url = await poster.command(fake_slack, "tag:RL", channel_id="CX", user_id="UOTHER01")
        assert "INT4" in texts(await response_for(fake_slack, url))
        _, url = await poster.command(
            fake_slack, "unsubscribe all", channel_id="CX", user_id="UADMIN01"
        )
        assert (await response_for(fake_slack, url))["response_type"] == "in_channel"
        assert reference_archive.subscriptions.get("slack", "CX") is None
    finally:
        await listener.stop()


async def test_http_mode_without_signing_secret_is_a_config_error(
    fake_slack: FakeSlack, core: CommandCore
) -> None:
    settings = http_settings(fake_slack, signing_secret=None)
    with pytest.raises(ConfigError, match=r"slack\.signing_secret"):
        await start_slack(settings, core, Templates(), host="127.0.0.1", port=0)


# -- Socket Mode -----------------------------------------------------------------------------


@pytest.fixture
async def socket_app(fake_slack: FakeSlack, core: CommandCore) -> AsyncIterator[SlackListener]:
    listener = await start_slack(socket_settings(fake_slack), core, Templates())
    await fake_slack.socket.wait_connected()
    yield listener
    await listener.stop()


async def test_socket_mode_acks_and_answers_tag_rl(
    socket_app: SlackListener, fake_slack: FakeSlack, reference_titles: dict[int, str]
) -> None:
    assert socket_app.mode == "socket" and socket_app.connected
    url = fake_slack.new_response_url()
    envelope = fake_slack.socket.send_slash_command("/ai", "tag:RL", response_url=url)
    ack = await fake_slack.socket.wait_ack(envelope, timeout=3.0)
    assert ack["envelope_id"] == envelope
    answer = await response_for(fake_slack, url)
    assert answer["response_type"] == "ephemeral"
    content = texts(answer)
    assert reference_titles[2] in content and reference_titles[7] in content
    assert reference_titles[1] not in content
    assert fake_slack.calls_to("apps.connections.open")


async def test_socket_mode_acks_every_command_of_a_burst(
    socket_app: SlackListener, fake_slack: FakeSlack
) -> None:
    sent = [
        fake_slack.socket.send_slash_command("/ai", text)
        for text in ("tag:RL", "today", "help", "subscriptions", "stars:5", "colour:red")
    ]
    for envelope in sent:
        await fake_slack.socket.wait_ack(envelope, timeout=3.0)
    responses = await fake_slack.wait_for_responses(count=len(sent))
    assert len(responses) >= len(sent)


async def test_socket_mode_block_action_details(
    socket_app: SlackListener, fake_slack: FakeSlack, reference_titles: dict[int, str]
) -> None:
    url = fake_slack.new_response_url()
    envelope = fake_slack.socket.send_block_action(
        actions.DETAILS, actions.encode_details(_day(), 7), response_url=url
    )
    await fake_slack.socket.wait_ack(envelope, timeout=3.0)
    assert reference_titles[7] in texts(await response_for(fake_slack, url))


async def test_socket_mode_subscribe_announced_in_channel(
    socket_app: SlackListener, fake_slack: FakeSlack, reference_archive: Archive
) -> None:
    url = fake_slack.new_response_url()
    fake_slack.set_user("U0FAKEUSER", owner=True)
    envelope = fake_slack.socket.send_slash_command(
        "/ai", "subscribe tag:Agent", channel_id="CSOCK001", response_url=url
    )
    await fake_slack.socket.wait_ack(envelope, timeout=3.0)
    assert (await response_for(fake_slack, url))["response_type"] == "in_channel"
    row = reference_archive.subscriptions.get("slack", "CSOCK001")
    assert row is not None and row.topics == ["tag:Agent"]


async def test_socket_listener_reports_disconnect_after_stop(
    fake_slack: FakeSlack, core: CommandCore
) -> None:
    listener = await start_slack(socket_settings(fake_slack), core, Templates())
    await fake_slack.socket.wait_connected()
    assert listener.connected
    await listener.stop()
    assert not listener.connected


async def test_socket_mode_without_app_token_is_a_config_error(
    fake_slack: FakeSlack, core: CommandCore
) -> None:
    settings = Settings(slack={"bot_token": "xoxb-test-token", "api_url": fake_slack.api_url})
    with pytest.raises(ConfigError, match=r"slack\.app_token"):
        await start_slack(settings, core, Templates())


async def test_a_formatter_failure_still_answers(
    http_app: SlackListener, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import formatters.slack

    real = formatters.slack.render_reply

    def broken(reply: Any, templates: Templates) -> Any:
        if reply.kind == "search":
            raise ValueError("formatter bug")
        return real(reply, templates)

    monkeypatch.setattr(formatters.slack, "render_reply", broken)
    assert http_app.port is not None
    _, url = await Poster(http_app.port).command(fake_slack, "tag:RL")
    answer = await response_for(fake_slack, url)
    assert "could not display" in texts(answer)
    assert "formatter bug" not in texts(answer)


def test_manifest_declares_what_the_app_uses() -> None:
    import yaml

    from bot.platforms.slack.app import COMMAND

    manifest = yaml.safe_load((Path(__file__).parents[4] / "slack-app-manifest.yaml").read_text())
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "chat:write.public", "commands", "channels:history"} <= scopes
    # SlackPermissions calls users.info and conversations.info (public, private, DMs).
    assert {"users:read", "channels:read", "groups:read", "im:read", "mpim:read"} <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000


async def test_subscribe_then_send_posts_only_agent_items(
    http_app: SlackListener,
    fake_slack: FakeSlack,
    reference_archive: Archive,
    reference_titles: dict[int, str],
    reference_digest_path: Path,
    tmp_path: Path,
) -> None:
    """The issue's end-to-end case: `/ai subscribe tag:Agent`, then `digestbot send`."""
    import asyncio

    from bot.cli import main

    assert http_app.port is not None
    fake_slack.add_channel("CAGENT01", creator="U0FAKEUSER")
    _, url = await Poster(http_app.port).command(
        fake_slack, "subscribe tag:Agent", channel_id="CAGENT01"
    )
    await response_for(fake_slack, url)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"archive:\n  url: {reference_archive.url}\n"
        f"sources: ['{reference_digest_path}']\n"
        f"slack:\n  bot_token: xoxb-test-token\n  api_url: {fake_slack.api_url}\n",
        encoding="utf-8",
    )

    def send() -> int:
        try:
            main(["--config", str(config), "send", "--date", "2026-02-03", "--channel", "CAGENT01"])
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    assert await asyncio.to_thread(send) == 0
    posted = "\n".join(texts(m) for m in fake_slack.messages("CAGENT01"))
    shown = {rank for rank, title in reference_titles.items() if title in posted}
    assert shown == {4, 5, 8, 10}  # AI Agent ×3 and 智能体: the Agent alias group
