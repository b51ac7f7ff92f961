"""Posting digests to Slack with slack_sdk's AsyncWebClient.

The parent message goes first, then the items as thread replies under its ``ts``. Every
post carries ``metadata`` (event_type ``digest_message``, payload date, index and kind —
``daily`` or ``weekly``, since a Monday's digest and that week's rollup share the date), so a
resumed delivery can look in the channel for a message posted just before a crash
(``conversations.history`` for the parent, ``conversations.replies`` for thread replies).

Retries: slack_sdk's built-in handlers retry what cannot have posted anything (429, and
connections that never opened) and, for read calls, 5xx and dropped connections. A 5xx or
dropped connection on ``chat.postMessage`` may have posted the message, so it is raised as
transient with ``maybe_posted`` and the engine reconciles through the history first.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels import Channel
from bot.delivery import Transport
from bot.errors import (
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
)
from bot.platforms.pacing import Pacer
from bot.platforms.slack.retry import UNSAFE_METHODS, retry_after_seconds, retry_handlers
from formatters import SlackMessage
from formatters import slack as slack_format

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings
    from bot.models import Digest

log = logging.getLogger(__name__)

EVENT_TYPE = "digest_message"

#: Error codes after which posting to this one channel cannot succeed: deactivate it.
PERMANENT_CODES = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "team_access_not_granted",
        "restricted_action",
        "ekm_access_denied",
    }
)
#: Error codes that refuse the token itself: every channel of the workspace is affected, so
#: the platform pauses and its deliveries stay retryable (no channel is deactivated).
PLATFORM_CODES = frozenset(
    {
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_authed",
        "not_allowed_token_type",
    }
)
#: ``conversations.join`` answers that mean "this channel cannot be joined, post anyway"
#: (private channels, a missing ``channels:join`` scope): posting decides.
JOIN_IGNORED = frozenset(
    {"method_not_supported_for_channel_type", "missing_scope", "is_private", "not_allowed"}
)
#: Error codes Slack returns for its own trouble: try again later.
TRANSIENT_CODES = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "service_unavailable",
        "fatal_error",
        "internal_error",
        "request_timeout",
    }
)


#: Methods whose retry could post a second message.
class SlackTransport(Transport):
    """Slack Web API transport; one aiohttp session shared by every call."""

    platform = "slack"
    reconciles = True
    shared_credentials = True
    payload_type = SlackMessage

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> SlackTransport:
        token = settings.slack.bot_token
        if token is None or not token.get_secret_value():
            raise ConfigError(
                "slack.bot_token is not set (or SLACK_BOT_TOKEN): cannot post to Slack"
            )
        options.setdefault("per_channel_interval", settings.slack.per_channel_interval)
        options.setdefault("proxy", settings.slack.proxy)
        return cls(token.get_secret_value(), base_url=settings.slack.api_url, **options)

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://slack.com/api/",
        per_channel_interval: float = 1.0,
        timeout: int = 30,
        rate_limit_retries: int = 3,
        history_pages: int = 5,
        proxy: str | None = None,
    ) -> None:
        self._token = token
        self._proxy = proxy
        self._base_url = base_url
        self._timeout = timeout
        self._rate_limit_retries = rate_limit_retries
        self._history_pages = history_pages
        self.pacer = Pacer(per_channel_interval)
        self._client: AsyncWebClient | None = None
        self._session: aiohttp.ClientSession | None = None
        self._joined: set[str] = set()

    @property
    def client(self) -> AsyncWebClient:
        """Created on first use, inside the running loop (aiohttp needs one)."""
        if self._client is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(limit=200),
            )
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                timeout=self._timeout,
                session=self._session,
                proxy=self._proxy,
                retry_handlers=retry_handlers(rate_limit_retries=self._rate_limit_retries),
                logger=log,
            )
        return self._client

    def render(self, digest: Digest, templates: Any) -> list[SlackMessage]:
        return list(slack_format.render_digest(digest, templates))

    def addendum(self, payloads: list[SlackMessage]) -> list[SlackMessage]:
        """An addendum goes into the digest's thread, under message 0."""
        return [payload.model_copy(update={"in_thread": True}) for payload in payloads]

    def describe(self, payload: SlackMessage) -> str:
        where = "thread reply" if payload.in_thread else "message"
        first = payload.text.strip().splitlines()[0] if payload.text.strip() else ""
        return f"{where} ({len(payload.blocks)} blocks): {first[:80]}"

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: SlackMessage,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        if payload.in_thread and parent_id is None:
            raise DeliveryError(f"{channel}: thread reply {message_index} has no parent message")
        await self.join(channel)
        kwargs = payload.api_kwargs(channel.id, thread_ts=parent_id)
        kwargs["metadata"] = {
            "event_type": EVENT_TYPE,
            "event_payload": {
                "date": digest_date.isoformat(),
                "index": message_index,
                "kind": channel.kind,
            },
        }
        async with self.pacer.turn(channel.id):
            response = await self._call(
                channel, "chat.postMessage", self.client.chat_postMessage, **kwargs
            )
        ts = response.get("ts")
        if not ts:
            raise DeliveryError(f"{channel}: chat.postMessage returned no ts")
        return str(ts)

    async def join(self, channel: Channel) -> None:
        """Join the channel once per process, so its history can be read after a lost answer.

        ``chat:write.public`` lets the bot post where it is no member, but reading the
        history (to find a message whose response was lost) needs membership. Joining a
        channel the bot is in already is a no-op; private channels and a missing
        ``channels:join`` scope are left to the post itself."""
        if channel.id in self._joined or not channel.id.startswith("C"):
            return  # only conversations (C…) can be joined; DMs and user ids cannot
        try:
            await self._call(
                channel, "conversations.join", self.client.conversations_join, channel=channel.id
            )
        except (PermanentDeliveryError, DeliveryError) as exc:
            if isinstance(exc, PlatformUnavailable | TransientDeliveryError):
                raise
            if exc.code not in JOIN_IGNORED:
                raise
            log.info("slack: %s: not joined (%s); posting anyway", channel.id, exc.code)
        self._joined.add(channel.id)

    async def check(self) -> str:
        """Prove the bot token works (``auth.test``); PlatformUnavailable says why not."""
        probe = Channel(platform="slack", id="-", schedule="0 9 * * *", timezone="UTC")
        response = await self._call(probe, "auth.test", self.client.auth_test)
        return f"team {response.get('team') or '?'} as {response.get('user') or '?'}"

    async def find_posted(
        self,
        channel: Channel,
        digest_date: dt.date,
        index: int,
        *,
        parent_id: str | None = None,
        since: dt.datetime | None = None,
    ) -> str | None:
        oldest = f"{(since - dt.timedelta(minutes=5)).timestamp():.6f}" if since else None
        if index == 0 or parent_id is None:
            method, call, extra = "conversations.history", self.client.conversations_history, {}
        else:
            method, call, extra = (
                "conversations.replies",
                self.client.conversations_replies,
                {"ts": parent_id},
            )
        cursor: str | None = None
        for _ in range(self._history_pages):
            response = await self._read_history(
                channel,
                method,
                call,
                channel=channel.id,
                include_all_metadata=True,
                oldest=oldest,
                limit=200,
                cursor=cursor,
                **extra,
            )
            for message in response.get("messages") or []:
                if _is_ours(message, channel.kind, digest_date, index):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    async def _read_history(
        self, channel: Channel, method: str, call: Any, /, **kwargs: Any
    ) -> Any:
        """A history read; ``not_in_channel`` here is no reason to deactivate the channel."""
        try:
            return await self._call(channel, method, call, **kwargs)
        except PermanentDeliveryError as exc:
            if exc.code != "not_in_channel":
                raise
            raise DeliveryError(
                f"{channel}: cannot read the channel to check whether a message already "
                f"went out (not_in_channel): /invite the bot, or grant channels:join",
                code="not_in_channel",
            ) from exc

    async def _call(self, channel: Channel, method: str, call: Any, /, **kwargs: Any) -> Any:
        """Run one API call, mapping every failure to our error hierarchy."""
        try:
            return await call(**kwargs)
        except SlackApiError as exc:
            raise _map_api_error(channel, method, exc) from exc
        except aiohttp.ClientConnectorError as exc:
            raise TransientDeliveryError(f"{channel}: {method}: cannot connect: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientDeliveryError(
                f"{channel}: {method}: {type(exc).__name__}: {exc}",
                maybe_posted=method in UNSAFE_METHODS,
            ) from exc
        except SlackClientError as exc:
            raise DeliveryError(f"{channel}: {method}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None


def _is_ours(message: dict[str, Any], kind: str, digest_date: dt.date, index: int) -> bool:
    """Message ``index`` of this kind's delivery for that date? A Monday's digest and that
    week's rollup share the date; posts from before kinds were recorded are daily."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload") or {}
    try:
        return (
            payload.get("kind", "daily") == kind
            and payload.get("date") == digest_date.isoformat()
            and int(payload.get("index")) == index
        )
    except (TypeError, ValueError):
        return False


def _map_api_error(channel: Channel, method: str, exc: SlackApiError) -> Exception:
    response = exc.response
    status = getattr(response, "status_code", None) or 0
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    where = f"{channel}: {method}"
    if status == 429 or code in ("ratelimited", "rate_limited"):
        retry_after = retry_after_seconds(getattr(response, "headers", None))
        return TransientDeliveryError(
            f"{where}: rate limited", code="ratelimited", retry_after=retry_after
        )
    if code in PLATFORM_CODES:
        return PlatformUnavailable(f"slack: the bot token was refused ({code})", code=code)
    if status in (401, 403, 404) and not isinstance(data, dict):
        return PlatformUnavailable(
            f"slack: {method} answered HTTP {status}: check slack.api_url", code=str(status)
        )
    if code in PERMANENT_CODES:
        return PermanentDeliveryError(f"{where}: {code}", code=code)
    if status >= 500 or code in TRANSIENT_CODES:
        return TransientDeliveryError(
            f"{where}: server error {status or ''} {code or ''}".rstrip(),
            code=code or str(status),
            maybe_posted=method in UNSAFE_METHODS,
        )
    return DeliveryError(f"{where}: rejected: {code or f'HTTP {status}'}", code=code)
