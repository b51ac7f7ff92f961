"""The platforms digestbot knows: one entry each, and everything else asks here.

Why a table of plain data at the bottom of the import graph: the config validates channel
entries against it, the channel merge rule asks which platforms chat can add at runtime,
the CLI lists platform choices, and ``bot.platforms`` builds transports from it, without
any of them importing a platform's client library. Implementations are named by import
path and loaded only when a channel of that platform is used. Adding a platform is one
entry here plus its own modules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlatformSpec:
    """What the core needs to know about one platform."""

    name: str
    #: ``module:Class`` of its ``bot.delivery.transport.Transport`` (built lazily).
    transport: str
    #: Channels of this platform can be added and changed from chat (``/ai subscribe``).
    chat: bool = False
    #: ``channels[]`` keys this platform uses beyond platform/id/schedule/timezone/topics/digest.
    channel_keys: frozenset[str] = field(default_factory=frozenset)
    #: Of those, the keys a channel must set.
    required_keys: frozenset[str] = field(default_factory=frozenset)
    #: Of those, keys of which a channel must set exactly one (a webhook *or* a chat id).
    one_of_keys: frozenset[str] = field(default_factory=frozenset)
    #: Its renderer for ``digestbot render --platform``: ``module:function(digest, templates)``.
    renderer: str | None = None
    #: Module answering what its chat listener needs (``wanted``, ``missing_key``,
    #: ``post_only``, ``START``, ``KEYS``), light enough to import before any client library.
    listener: str | None = None
    #: Its weekly rollup renderer: ``module:function(rollup, templates)`` (platforms whose
    #: rollup needs no options of their own; Slack, Telegram, console and file have theirs).
    weekly: str | None = None
    #: Its ``digestbot doctor`` check: ``module:async function(settings, channels)`` returning
    #: ``bot.platforms.checks.Check`` rows (credentials, scopes, can the bot post there).
    doctor: str | None = None


PLATFORMS: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec(
            "slack",
            "bot.platforms.slack.transport:SlackTransport",
            chat=True,
            renderer="formatters.slack:render_digest",
            listener="bot.platforms.slack.listener",
            doctor="bot.platforms.slack.doctor:check_slack",
        ),
        PlatformSpec(
            "telegram",
            "bot.platforms.telegram.transport:TelegramTransport",
            chat=True,
            channel_keys=frozenset({"thread_id"}),
            renderer="formatters.telegram:render_digest",
            listener="bot.platforms.telegram.listener",
            doctor="bot.platforms.telegram.doctor:check_telegram",
        ),
        PlatformSpec(
            "feishu",
            "bot.platforms.feishu.transport:FeishuTransport",
            chat=True,
            channel_keys=frozenset({"webhook", "secret", "chat_id"}),
            one_of_keys=frozenset({"webhook", "chat_id"}),
            renderer="formatters.feishu:render_digest",
            listener="bot.platforms.feishu.listener",
            weekly="formatters.feishu:render_rollup",
            doctor="bot.platforms.feishu.doctor:check_feishu",
        ),
        PlatformSpec(
            "dingtalk",
            "bot.platforms.dingtalk.transport:DingTalkTransport",
            channel_keys=frozenset({"webhook", "secret"}),
            required_keys=frozenset({"webhook"}),
            renderer="formatters.dingtalk:render_digest",
            weekly="formatters.dingtalk:render_rollup",
            doctor="bot.platforms.dingtalk.doctor:check_dingtalk",
        ),
        PlatformSpec(
            "wecom",
            "bot.platforms.wecom.transport:WeComTransport",
            channel_keys=frozenset({"webhook"}),
            required_keys=frozenset({"webhook"}),
            renderer="formatters.wecom:render_digest",
            weekly="formatters.wecom:render_rollup",
            doctor="bot.platforms.wecom.doctor:check_wecom",
        ),
        PlatformSpec(
            "console",
            "bot.platforms.console:ConsoleTransport",
            renderer="formatters.console:render_digest",
        ),
        PlatformSpec(
            "file",
            "bot.platforms.file:FileTransport",
            channel_keys=frozenset({"path"}),
            required_keys=frozenset({"path"}),
        ),
    )
}

#: Every ``channels[]`` key some platform uses, for the config model.
PLATFORM_CHANNEL_KEYS: frozenset[str] = frozenset().union(
    *(spec.channel_keys for spec in PLATFORMS.values())
)


def platform_spec(name: str) -> PlatformSpec:
    """The entry for ``name``; KeyError names the known platforms."""
    try:
        return PLATFORMS[name]
    except KeyError:
        known = ", ".join(PLATFORMS)
        raise KeyError(f"unknown platform {name!r} (known: {known})") from None


def rendered_platforms() -> tuple[str, ...]:
    """Platforms ``digestbot render --platform`` can show."""
    return tuple(name for name, spec in PLATFORMS.items() if spec.renderer)


def chat_platforms() -> tuple[str, ...]:
    """Platforms whose channels chat commands may add at runtime."""
    return tuple(name for name, spec in PLATFORMS.items() if spec.chat)


def listener_platforms() -> tuple[str, ...]:
    """Platforms with a chat listener, in registry order (the order they start in)."""
    return tuple(name for name, spec in PLATFORMS.items() if spec.listener)


def load(path: str) -> Any:
    """The object an entry names as ``module:attribute``, imported on first use."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)
