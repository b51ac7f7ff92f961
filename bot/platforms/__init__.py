"""Platform adapters and transports: the thin edge between the core and Slack/Telegram/etc.

Transports are built lazily per platform by ``transports_for`` so that a console-only
setup never imports slack_sdk or python-telegram-bot, and a missing token becomes one
clear error for that platform's channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings
    from bot.platforms.transport import Transport


def make_transport(
    platform: str,
    settings: Settings,
    *,
    console: Console | None = None,
    overrides: dict[str, Any] | None = None,
) -> Transport:
    """Build the transport for one platform from the settings (tokens, URLs, limits)."""
    options = dict(overrides or {})
    if platform == "slack":
        from bot.platforms.slack.transport import SlackTransport

        token = settings.slack.bot_token
        if token is None or not token.get_secret_value():
            raise ConfigError(
                "slack.bot_token is not set (or SLACK_BOT_TOKEN): cannot post to Slack"
            )
        options.setdefault(
            "per_channel_interval",
            settings.slack.per_channel_interval,
        )
        return SlackTransport(token.get_secret_value(), base_url=settings.slack.api_url, **options)
    if platform == "telegram":
        from bot.platforms.telegram.transport import TelegramTransport

        token = settings.telegram.token
        if token is None or not token.get_secret_value():
            raise ConfigError(
                "telegram.token is not set (or TELEGRAM_BOT_TOKEN): cannot post to Telegram"
            )
        options.setdefault("per_chat_interval", settings.telegram.per_chat_interval)
        return TelegramTransport(
            token.get_secret_value(), base_url=settings.telegram.api_url, **options
        )
    if platform == "console":
        from bot.platforms.console import ConsoleTransport

        return ConsoleTransport(console=console)
    if platform == "file":
        from bot.platforms.file import FileTransport

        return FileTransport(base_dir=settings.base_dir())
    raise ConfigError(f"channels: unknown platform {platform!r}")


class Transports:
    """Transports by platform, created on first use and closed together."""

    def __init__(
        self,
        settings: Settings,
        *,
        console: Console | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        prebuilt: dict[str, Transport] | None = None,
    ) -> None:
        self.settings = settings
        self.console = console
        self.overrides = overrides or {}
        self._made: dict[str, Transport] = dict(prebuilt or {})

    def get(self, platform: str) -> Transport:
        transport = self._made.get(platform)
        if transport is None:
            transport = make_transport(
                platform,
                self.settings,
                console=self.console,
                overrides=self.overrides.get(platform),
            )
            self._made[platform] = transport
        return transport

    async def close(self) -> None:
        for transport in self._made.values():
            await transport.close()
        self._made.clear()
