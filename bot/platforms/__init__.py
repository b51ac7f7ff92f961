"""Platforms: the thin edge between the core and Slack, Telegram, Feishu, the DingTalk and
WeCom group robots, the console and files.

Each platform is one entry in ``bot.registry`` plus its own modules here: a transport
(``bot.delivery.Transport``) and, for chat platforms, a light ``listener`` module (what the
listener needs) and an ``app`` adapter; ``listeners`` starts the wanted ones.
Transports are built lazily per platform by ``Transports`` so that a console-only setup
never imports slack_sdk, python-telegram-bot or lark-oapi, and a missing token becomes one clear
error for that platform's channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from bot.errors import ConfigError
from bot.platforms.checks import Check, platform_check
from bot.platforms.listeners import (
    Listener,
    check_listener_config,
    listener_settings,
    start_listeners,
    stop_listeners,
)
from bot.registry import load, platform_spec

#: Stands in for a missing token in ``send --dry-run``: nothing is sent, nothing checks it.
DRY_RUN_TOKEN = "0:dry-run-no-token"

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings
    from bot.delivery import Transport

__all__ = [
    "Check",
    "Listener",
    "Transports",
    "check_listener_config",
    "listener_settings",
    "make_transport",
    "platform_check",
    "start_listeners",
    "stop_listeners",
]


def make_transport(
    platform: str,
    settings: Settings,
    *,
    console: Console | None = None,
    overrides: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> Transport:
    """Build the transport for one platform from the settings (tokens, URLs, limits).

    ``dry_run``: the transport only renders and describes, so a missing token is fine.
    """
    if dry_run:
        settings = dry_run_settings(settings)
    try:
        spec = platform_spec(platform)
    except KeyError as exc:
        raise ConfigError(f"channels: {exc.args[0]}") from None
    cls = load(spec.transport)
    return cls.from_settings(settings, console=console, **(overrides or {}))


def dry_run_settings(settings: Settings) -> Settings:
    """The settings with placeholders for missing bot tokens: a dry run renders payloads
    and never posts, so it must not need (or check) credentials."""
    placeholder = SecretStr(DRY_RUN_TOKEN)
    slack, telegram = settings.slack, settings.telegram
    return settings.model_copy(
        update={
            "slack": slack.model_copy(update={"bot_token": slack.bot_token or placeholder}),
            "telegram": telegram.model_copy(update={"token": telegram.token or placeholder}),
        }
    )


class Transports:
    """Transports by platform, created on first use and closed together."""

    def __init__(
        self,
        settings: Settings,
        *,
        console: Console | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        dry_run: bool = False,
    ) -> None:
        self.settings = settings
        self.overrides = overrides or {}
        self.dry_run = dry_run
        self.console = console
        self._made: dict[str, Transport] = {}

    def get(self, platform: str) -> Transport:
        transport = self._made.get(platform)
        if transport is None:
            transport = make_transport(
                platform,
                self.settings,
                console=self.console,
                overrides=self.overrides.get(platform),
                dry_run=self.dry_run,
            )
            self._made[platform] = transport
        return transport

    async def close(self) -> None:
        for transport in self._made.values():
            await transport.close()
        self._made.clear()
