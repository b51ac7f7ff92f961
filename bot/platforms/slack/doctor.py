"""``digestbot doctor`` for Slack: the token (``auth.test``), its scopes, the app token,
and whether the bot can post in each configured channel (``conversations.info``).

Slack reports a token's scopes in the ``x-oauth-scopes`` header of every Web API response,
so ``auth.test`` answers both "who am I" and "what may I do".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.checks import Check
from bot.platforms.slack.scopes import required_scopes
from bot.platforms.slack.transport import SlackTransport

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.config import Settings


async def check_slack(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """Rows for the Slack credentials and each Slack channel; [] when Slack is unused."""
    slack = settings.slack
    if slack.bot_token is None:
        if not channels:
            return []
        return [Check("slack", "fail", "slack.bot_token is not set (or SLACK_BOT_TOKEN)")]
    transport = SlackTransport(
        slack.bot_token.get_secret_value(), base_url=slack.api_url, proxy=slack.proxy
    )
    try:
        return await _check(settings, transport.client, channels)
    finally:
        await transport.close()


async def _check(
    settings: Settings, client: AsyncWebClient, channels: Sequence[Channel]
) -> list[Check]:
    try:
        who = await client.auth_test()
    except (SlackApiError, SlackClientError, OSError) as exc:
        return [Check("slack", "fail", f"auth.test: {_reason(exc)}")]
    rows = [Check("slack", "ok", f"auth.test: @{who.get('user')} in {who.get('team')}")]
    granted = _scopes(who.headers)
    if granted is None:
        rows.append(Check("slack scopes", "warn", "Slack did not report the token's scopes"))
    else:
        missing = sorted(required_scopes() - granted)
        rows.append(
            Check("slack scopes", "fail", f"missing: {', '.join(missing)} (reinstall the app)")
            if missing
            else Check("slack scopes", "ok", ", ".join(sorted(granted)))
        )
    rows.append(await _app_token(settings))
    for channel in channels:
        rows.append(await _can_post(client, channel, granted or set()))
    return rows


async def _app_token(settings: Settings) -> Check:
    slack = settings.slack
    if slack.mode == "http":
        ok = slack.signing_secret is not None
        return Check(
            "slack listener",
            "ok" if ok else "warn",
            "HTTP mode, signing secret set"
            if ok
            else "slack.signing_secret is not set: /ai is off, digests are still delivered",
        )
    if slack.app_token is None:
        return Check(
            "slack listener",
            "warn",
            "slack.app_token is not set: /ai is off (Socket Mode), digests are still delivered",
        )
    client = AsyncWebClient(base_url=slack.api_url, proxy=slack.proxy)
    try:
        await client.apps_connections_open(app_token=slack.app_token.get_secret_value())
    except (SlackApiError, SlackClientError, OSError) as exc:
        return Check("slack listener", "fail", f"apps.connections.open: {_reason(exc)}")
    return Check("slack listener", "ok", "Socket Mode: the app token opens a connection")


async def _can_post(client: AsyncWebClient, channel: Channel, granted: set[str]) -> Check:
    try:
        info = (await client.conversations_info(channel=channel.id)).get("channel") or {}
    except (SlackApiError, SlackClientError, OSError) as exc:
        return Check(channel.key, "fail", f"conversations.info: {_reason(exc)}")
    name = f"#{info.get('name', channel.id)}"
    if info.get("is_archived"):
        return Check(channel.key, "fail", f"{name} is archived")
    if info.get("is_member"):
        return Check(channel.key, "ok", f"{name}: the bot is a member")
    if not info.get("is_private") and "chat:write.public" in granted:
        return Check(channel.key, "ok", f"{name}: public, posting with chat:write.public")
    return Check(channel.key, "fail", f"{name}: the bot is not a member (/invite the bot)")


def _scopes(headers: Any) -> set[str] | None:
    for key, value in (headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list | tuple) else value
            return {scope.strip() for scope in str(text).split(",") if scope.strip()}
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        data = getattr(exc.response, "data", None)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
    return f"{type(exc).__name__}: {exc}"
