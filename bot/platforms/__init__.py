"""Platforms: the thin edge between the core and Slack, Telegram, the console and files.

Each platform is one entry in ``bot.registry`` plus its own modules here: a transport
(``bot.delivery.Transport``) and, for chat platforms, a light ``listener`` module (what the
listener needs) and an ``app`` adapter; ``listeners`` starts the wanted ones.
Transports are built lazily per platform by ``Transports`` so that a console-only setup
never imports slack_sdk or python-telegram-bot, and a missing token becomes one clear
error for that platform's channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.platforms.listeners import (
    Listener,
    check_listener_config,
    listener_settings,
    start_listeners,
    stop_listeners,
)
from bot.registry import load, platform_spec

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings
    from bot.delivery import Transport

__all__ = [
    "Listener",
    "Transports",
    "check_listener_config",
    "listener_settings",
    "make_transport",
    "start_listeners",
    "stop_listeners",
]


def make_transport(
    platform: str,
    settings: Settings,
    *,
    console: Console | None = None,
) -> Transport:
    """Build the transport for one platform from the settings (tokens, URLs, limits)."""
    try:
        spec = platform_spec(platform)
    except KeyError as exc:
        raise ConfigError(f"channels: {exc.args[0]}") from None
    cls = load(spec.transport)
    return cls.from_settings(settings, console=console)


class Transports:
    """Transports by platform, created on first use and closed together."""

    def __init__(
        self,
        settings: Settings,
        *,
        console: Console | None = None,
    ) -> None:
        self.settings = settings
        self.console = console
        self._made: dict[str, Transport] = {}

    def get(self, platform: str) -> Transport:
        transport = self._made.get(platform)
        if transport is None:
            transport = make_transport(platform, self.settings, console=self.console)
            self._made[platform] = transport
        return transport

    async def close(self) -> None:
        for transport in self._made.values():
            await transport.close()
        self._made.clear()
