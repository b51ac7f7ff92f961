"""Platforms: the thin edge between the core and Slack, Telegram, the console and files.

Each platform is one entry in ``bot.registry`` plus its own modules here: a transport
(``bot.delivery.transport.Transport``) and, for chat platforms, a listener adapter.
Transports are built lazily per platform by ``Transports`` so that a console-only setup
never imports slack_sdk or python-telegram-bot, and a missing token becomes one clear
error for that platform's channels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError
from bot.registry import platform_spec

if TYPE_CHECKING:
    from rich.console import Console

    from bot.config import Settings
    from bot.delivery import Transport

__all__ = ["Transports", "load_object", "make_transport"]


def load_object(path: str) -> Any:
    """The object a registry entry names as ``module:attribute``."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def make_transport(
    platform: str,
    settings: Settings,
    *,
    console: Console | None = None,
    overrides: dict[str, Any] | None = None,
) -> Transport:
    """Build the transport for one platform from the settings (tokens, URLs, limits)."""
    try:
        spec = platform_spec(platform)
    except KeyError as exc:
        raise ConfigError(f"channels: {exc.args[0]}") from None
    cls = load_object(spec.transport)
    return cls.from_settings(settings, console=console, **(overrides or {}))


class Transports:
    """Transports by platform, created on first use and closed together."""

    def __init__(
        self,
        settings: Settings,
        *,
        console: Console | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.console = console
        self.overrides = overrides or {}
        self._made: dict[str, Transport] = {}

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
