"""The config's sections (``archive``, ``slack``, ``telegram``, ``tags``, ``delivery``,
``formats``, ``http``, ``web``): one pydantic model each, unknown keys refused.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.config.durations import NonNegativeDuration, Port, PositiveDuration
from bot.config.fields import check_proxy, no_empty_secret


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArchiveSettings(_Section):
    url: str = "sqlite:///digestbot.db"
    """SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql+psycopg://user@host/db``."""


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    mode: Literal["socket", "http"] = "socket"
    host: str = "127.0.0.1"
    """HTTP mode listen address: loopback behind a reverse proxy, ``0.0.0.0`` to face Slack."""
    port: Port = 3000
    api_url: str = "https://slack.com/api/"
    admins: list[str] = Field(default_factory=list)
    """User ids who may change any channel's subscription, besides workspace admins/owners
    and the channel's creator; ``["*"]`` lets everyone."""
    per_channel_interval: float = Field(default=1.0, ge=0)
    """Seconds between two posts to one channel (Slack allows about one per second)."""
    proxy: str | None = None
    """HTTP(S) proxy for the Web API and Socket Mode (``http://host:3128``)."""

    _proxy = field_validator("proxy")(check_proxy)

    _secrets = field_validator("bot_token", "app_token", "signing_secret")(no_empty_secret)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    host: str = "127.0.0.1"
    """Webhook listen address: loopback behind a reverse proxy, ``0.0.0.0`` to face Telegram."""
    port: Port = 8443
    allow_private: bool = False
    """Answer private chats from anyone (otherwise only ``allowed_users``)."""
    allowed_users: list[int] = Field(default_factory=list)
    """User ids whose private chats are answered (and may subscribe)."""
    allowed_chats: list[int] = Field(default_factory=list)
    """Group ids the bot answers in; empty means every group it is added to."""
    per_chat_interval: float = Field(default=1.0, ge=0)
    """Seconds between two messages to one chat (AIORateLimiter has no per-chat limit)."""
    proxy: str | None = None
    """HTTP(S) or SOCKS5 proxy for the Bot API (``socks5://host:1080`` needs httpx[socks])."""

    _proxy = field_validator("proxy")(check_proxy)

    _secrets = field_validator("token")(no_empty_secret)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_format(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - for secret_token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value


class TagSettings(_Section):
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    """Extra aliases: ``canonical: [alias, alias]``, merged over the built-in table."""


LabelField = Literal[
    "source", "published_at", "rating", "tags", "url", "summary", "insight", "orgs",
    "category", "ignore",
]  # fmt: skip


class FormatsSettings(_Section):
    """How the digest files look, where guessing is not good enough (docs/digest-format.md)."""

    layouts: dict[str, Literal["auto", "numbered", "unnumbered"]] = Field(default_factory=dict)
    """``glob: layout``; globs are relative to the config file, the first match wins."""
    labels: dict[str, LabelField] = Field(default_factory=dict)
    """Extra field labels: ``label: field`` (``ignore`` drops a built-in label)."""
    brackets: Literal["auto", "orgs", "category"] = "auto"
    """How a leading ``[…]`` in an item heading is read."""


class DeliverySettings(_Section):
    """Timings of the exactly-once sender; the defaults suit production."""

    lease: PositiveDuration = dt.timedelta(minutes=10)
    """How long a claim is held without renewal before another run may take it over."""
    window: PositiveDuration = dt.timedelta(hours=3)
    """How long transient errors (429, 5xx, timeouts) are retried before giving up for now."""
    retry_base: PositiveDuration = dt.timedelta(seconds=1)
    retry_cap: PositiveDuration = dt.timedelta(seconds=60)
    concurrency: int = Field(default=500, ge=1)
    """Channels delivered at once: sends are paced I/O, so this can be large."""
    misfire_grace: NonNegativeDuration = dt.timedelta(hours=3)
    """A bot that was down at delivery time still delivers if it is back within this."""
    reload_interval: PositiveDuration = dt.timedelta(seconds=60)
    """How often `run` re-reads subscriptions to pick up runtime changes."""


class HttpSettings(_Section):
    """The older name of ``web.host`` and ``web.port``, still accepted."""

    host: str = "127.0.0.1"
    port: Port | None = None
    """Port for ``/healthz`` and ``/metrics`` in ``digestbot run``; None turns them off."""


def _public_url(value: str | None) -> str | None:
    """``web.base_url`` ends up in chat links and feeds: an absolute http(s) URL."""
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"{value!r} is not an absolute http(s) URL without query (e.g. https://news.example.com)"
        )
    return value.strip().rstrip("/")


class WebSettings(_Section):
    """The reader, feeds, ``/healthz`` and ``/metrics``: one HTTP server in ``digestbot run``."""

    enabled: bool = False
    """Serve the web reader and Atom feeds (off: only ``/healthz`` and ``/metrics``)."""
    host: str = "127.0.0.1"
    port: Port | None = None
    """None: no HTTP server at all."""
    base_url: str | None = None
    """The public URL of the reader, for links posted to chat and in feeds."""
    token: SecretStr | None = None
    """When set, every route but ``/healthz`` needs it (bearer header or ``?token=``)."""

    _base_url = field_validator("base_url")(_public_url)
    _secrets = field_validator("token")(no_empty_secret)


#: ``http.KEY`` is the older spelling of ``web.KEY``.
