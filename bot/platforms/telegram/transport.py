"""Posting digests to Telegram with python-telegram-bot's ExtBot.

Rate limits: PTB's ``AIORateLimiter`` keeps the bot within 30 messages/s overall (at 97%,
in bursts of at most 10) and 20/min per group; it has no per-chat limit, so a ``Pacer``
spaces messages to one chat by ``per_chat_interval`` (1 s). A 429 goes back to the delivery
engine, which retries that message after ``retry_after``. Forum topics get
``message_thread_id``.

Exactly once, honestly: the Bot API cannot list a chat's messages, so ``find_posted``
cannot see a message posted just before a crash, or one whose response was lost (a
timeout or dropped connection after Telegram accepted it). In those two cases the message
is posted again: at most one duplicate per crash or ambiguous failure, never a loss.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx
from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.channels import Channel
from bot.delivery import Transport
from bot.errors import (
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
)
from bot.platforms.pacing import Pacer, paced
from bot.platforms.telegram.access import private_chat_held
from bot.redact import blank_secrets, redact_in_logs
from formatters import TelegramMessage
from formatters import telegram as telegram_format

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings
    from bot.models import Digest

log = logging.getLogger(__name__)

#: Fragments of BadRequest descriptions that mean the chat itself is unusable.
PERMANENT_BAD_REQUESTS = (
    "chat not found",
    "message thread not found",
    "topic_closed",
    "topic_deleted",
    "have no rights to send",
    "not enough rights",
    "need administrator rights",
    "chat_write_forbidden",
    "chat is deactivated",
)
#: Fraction of the 30 msg/s overall limit we aim for, and the burst we allow (of 30).
OVERALL_HEADROOM = 0.97
OVERALL_BURST = 10
#: Errors raised before the request left this process: retrying cannot duplicate.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class TelegramTransport(Transport):
    """Telegram Bot API transport over one ExtBot."""

    platform = "telegram"
    shared_credentials = True
    payload_type = TelegramMessage

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> TelegramTransport:
        token = settings.telegram.token
        if token is None or not token.get_secret_value():
            raise ConfigError(
                "telegram.token is not set (or TELEGRAM_BOT_TOKEN): cannot post to Telegram"
            )
        options.setdefault("per_chat_interval", settings.telegram.per_chat_interval)
        options.setdefault("secrets", settings.secret_values())
        options.setdefault("proxy", settings.telegram.proxy)
        options.setdefault("allow_private", settings.telegram.allow_private)
        options.setdefault("allowed_users", settings.telegram.allowed_users)
        return cls(token.get_secret_value(), base_url=settings.telegram.api_url, **options)

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        per_chat_interval: float = 1.0,
        overall_max_rate: float = 30,
        group_max_rate: float = 20,
        group_time_period: float = 60,
        max_retries: int = 0,
        read_timeout: float = 10.0,
        secrets: Sequence[str] = (),
        proxy: str | None = None,
        allow_private: bool = True,
        allowed_users: Sequence[int] = (),
    ) -> None:
        redact_in_logs(token)
        self._allow_private = allow_private
        self._allowed_users = frozenset(allowed_users)
        self.pacer = Pacer(per_chat_interval)
        self.bot = ExtBot(
            token=token,
            base_url=base_url,
            request=HTTPXRequest(
                connection_pool_size=16,  # the limiter lets ~10 through at once; a big
                # pool only makes httpcore scan more idle connections per request
                read_timeout=read_timeout,
                write_timeout=read_timeout,
                connect_timeout=read_timeout,
                pool_timeout=30.0,
                proxy=proxy,
            ),
            # Overall: a bucket of OVERALL_BURST requests refilled at 97% of the limit. The
            # margin keeps the platform's own bucket from running dry when network jitter
            # bunches our requests up; the small burst catches up after a busy moment.
            rate_limiter=AIORateLimiter(
                overall_max_rate=OVERALL_BURST if overall_max_rate else 0,
                overall_time_period=OVERALL_BURST / (overall_max_rate * OVERALL_HEADROOM)
                if overall_max_rate
                else 0,
                group_max_rate=group_max_rate,
                group_time_period=group_time_period,
                # 0: a 429 goes back to the delivery engine, which retries that one
                # message after retry_after. AIORateLimiter's own retry pauses *every*
                # request, and the tokens granted meanwhile then fire at once: one 429
                # turned into dozens in the fan-out benchmark.
                max_retries=max_retries,
            ),
        )
        self._initialized = False
        # The token always; with the config's other secrets when built from settings.
        self._secrets = (token, *secrets)

    async def _ready(self, channel: Channel) -> ExtBot:
        if not self._initialized:
            try:
                await self.bot.initialize()  # getMe: also proves the token works
            except TelegramError as exc:
                raise _map_error(channel, "getMe", exc, self._secrets) from exc
            self._initialized = True
        return self.bot

    async def check(self) -> str:
        """Prove the token and ``telegram.api_url`` work (``getMe``)."""
        bot = await self._ready(Channel("telegram", "-", "0 9 * * *", "UTC"))
        return f"@{bot.username}"

    def held(self, channel: Channel) -> str | None:
        """A private chat that subscribed while ``telegram.allow_private`` was on."""
        return private_chat_held(channel, self._allow_private, self._allowed_users)

    def render(self, digest: Digest, templates: Any) -> list[TelegramMessage]:
        return list(telegram_format.render_digest(digest, templates))

    def describe(self, payload: TelegramMessage) -> str:
        first = payload.text.strip().splitlines()[0] if payload.text.strip() else ""
        return f"message ({len(payload.text)} chars): {first[:80]}"

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: TelegramMessage,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        bot = await self._ready(channel)
        kwargs = payload.api_kwargs(_chat_id(channel.id), channel.thread_id)
        if message_index > 0:
            # One notification per digest: the follow-ups arrive silently.
            kwargs["disable_notification"] = True
        options = kwargs.pop("link_preview_options", None)
        if options is not None:
            kwargs["link_preview_options"] = LinkPreviewOptions(**options)
        markup = kwargs.pop("reply_markup", None)
        if markup is not None:
            kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(markup, bot)

        async def attempt() -> Message:
            try:
                return await bot.send_message(**kwargs)
            except TelegramError as exc:
                raise _map_error(channel, "sendMessage", exc, self._secrets) from exc

        message = await paced(self.pacer, channel.id, attempt)
        return str(message.message_id)

    async def close(self) -> None:
        if self._initialized:
            try:
                await self.bot.shutdown()
            except TelegramError as exc:  # pragma: no cover - best effort on shutdown
                log.debug("telegram: shutdown: %s", exc)
        self._initialized = False


def _chat_id(value: str) -> int | str:
    """Numeric chat ids as ints (AIORateLimiter groups by them); ``@channel`` names as text."""
    try:
        return int(value)
    except ValueError:
        return value


def _map_error(
    channel: Channel, method: str, exc: TelegramError, secrets: Sequence[str]
) -> Exception:
    where = f"{channel}: {method}"
    # PTB puts the token into some messages (InvalidToken): never let it reach a log.
    text = blank_secrets(str(exc), secrets)
    lowered = text.lower()
    if isinstance(exc, RetryAfter):
        seconds = exc._retry_after.total_seconds()
        return TransientDeliveryError(
            f"{where}: flood control, retry in {seconds:g}s", code="429", retry_after=seconds
        )
    if isinstance(exc, Forbidden):
        return PermanentDeliveryError(f"{where}: forbidden: {text}", code="forbidden")
    if isinstance(exc, InvalidToken):
        # 401 (a token Telegram does not know) and 404 (a malformed token, or a wrong
        # telegram.api_url): the platform refuses us, not this chat.
        return PlatformUnavailable(
            f"telegram: the bot token or telegram.api_url was refused ({text})",
            code="invalid_token",
        )
    if isinstance(exc, ChatMigrated):
        return PermanentDeliveryError(
            f"{where}: the group became supergroup {exc.new_chat_id}; update the channel id",
            code="chat_migrated",
        )
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest subclasses it
        if any(fragment in lowered for fragment in PERMANENT_BAD_REQUESTS):
            return PermanentDeliveryError(f"{where}: {text}", code="bad_request")
        return DeliveryError(f"{where}: rejected: {text}", code="bad_request")
    if isinstance(exc, TimedOut | NetworkError):
        sent = not isinstance(exc.__cause__, _NOT_SENT)
        return TransientDeliveryError(
            f"{where}: {type(exc).__name__}: {text}", code="network", maybe_posted=sent
        )
    return DeliveryError(f"{where}: {type(exc).__name__}: {text}")
