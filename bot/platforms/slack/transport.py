"""Posting digests to Slack with slack_sdk's AsyncWebClient.

The parent message goes first, then the items as thread replies under its ``ts``. Every
post carries ``metadata`` (event_type ``digest_message``, payload date and index), so a
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
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import Transport
from bot.errors import ConfigError, DeliveryError, PermanentDeliveryError, TransientDeliveryError
from bot.platforms.pacing import Pacer
from formatters import SlackMessage
from formatters import slack as slack_format

if TYPE_CHECKING:
    from rich.console import Console

    from bot.channels import Channel
    from bot.config import Settings
    from bot.models import Digest

log = logging.getLogger(__name__)

EVENT_TYPE = "digest_message"

#: Error codes after which posting to the channel cannot succeed: deactivate it.
PERMANENT_CODES = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "account_inactive",
        "token_revoked",
        "invalid_auth",
        "not_authed",
        "team_access_not_granted",
        "restricted_action",
        "ekm_access_denied",
    }
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
_UNSAFE_METHODS = ("chat.postMessage",)


def _unsafe(request: HttpRequest) -> bool:
    return request.url.rstrip("/").endswith(_UNSAFE_METHODS)


class _ReadServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """Retries 5xx for reads only: a 5xx on chat.postMessage is reconciled by the engine."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _unsafe(request):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class _SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """Retries connection errors, except a connection dropped mid-post (it may have posted)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _unsafe(request) and not isinstance(error, aiohttp.ClientConnectorError):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def retry_handlers(
    *, rate_limit_retries: int = 3, server_retries: int = 2
) -> list[AsyncRetryHandler]:
    """slack_sdk's rate-limit, connection and server-error handlers, made post-safe."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        _SafeConnectionErrorRetryHandler(
            max_retry_count=server_retries,
            error_types=[
                aiohttp.ServerConnectionError,
                aiohttp.ServerDisconnectedError,
                aiohttp.ClientOSError,
            ],
        ),
        _ReadServerErrorRetryHandler(max_retry_count=server_retries),
    ]


class SlackTransport(Transport):
    """Slack Web API transport; one aiohttp session shared by every call."""

    platform = "slack"
    reconciles = True
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
        kwargs = payload.api_kwargs(channel.id, thread_ts=parent_id)
        kwargs["metadata"] = {
            "event_type": EVENT_TYPE,
            "event_payload": {"date": digest_date.isoformat(), "index": message_index},
        }
        async with self.pacer.turn(channel.id):
            response = await self._call(
                channel, "chat.postMessage", self.client.chat_postMessage, **kwargs
            )
        ts = response.get("ts")
        if not ts:
            raise DeliveryError(f"{channel}: chat.postMessage returned no ts")
        return str(ts)

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
            response = await self._call(
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
                if _is_ours(message, digest_date, index):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

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
                maybe_posted=method in _UNSAFE_METHODS,
            ) from exc
        except SlackClientError as exc:
            raise DeliveryError(f"{channel}: {method}: {exc}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None


def _is_ours(message: dict[str, Any], digest_date: dt.date, index: int) -> bool:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload") or {}
    try:
        return payload.get("date") == digest_date.isoformat() and int(payload.get("index")) == index
    except (TypeError, ValueError):
        return False


def _map_api_error(channel: Channel, method: str, exc: SlackApiError) -> Exception:
    response = exc.response
    status = getattr(response, "status_code", None) or 0
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    where = f"{channel}: {method}"
    if status == 429 or code in ("ratelimited", "rate_limited"):
        headers = getattr(response, "headers", None) or {}
        retry_after = _header(headers, "Retry-After")
        return TransientDeliveryError(
            f"{where}: rate limited", code="ratelimited", retry_after=retry_after
        )
    if code in PERMANENT_CODES:
        return PermanentDeliveryError(f"{where}: {code}", code=code)
    if status >= 500 or code in TRANSIENT_CODES:
        return TransientDeliveryError(
            f"{where}: server error {status or ''} {code or ''}".rstrip(),
            code=code or str(status),
            maybe_posted=method in _UNSAFE_METHODS,
        )
    return DeliveryError(f"{where}: rejected: {code or f'HTTP {status}'}", code=code)


def _header(headers: Any, name: str) -> float | None:
    for key in headers:
        if key.lower() == name.lower():
            value = headers[key]
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None
