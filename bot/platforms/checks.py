"""What ``digestbot doctor`` asks each platform, and the shape of one answer.

Each platform keeps its own check beside its transport (``slack/doctor.py``,
``telegram/doctor.py``): a new platform registers one function in ``PLATFORM_CHECKS`` and
the doctor asks it too. A check talks to the platform through the same client the bot
uses, so a wrong token, a missing scope or a channel the bot cannot post to shows up here
and not at 09:00.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.config import Settings

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table: what was checked, how it went, and the detail."""

    area: str
    status: Status
    detail: str


PlatformCheck = Callable[["Settings", Sequence["Channel"]], Awaitable[list[Check]]]

#: platform → ``module:function`` (imported only when that platform is in use).
PLATFORM_CHECKS: dict[str, str] = {
    "slack": "bot.platforms.slack.doctor:check_slack",
    "telegram": "bot.platforms.telegram.doctor:check_telegram",
}


def platform_check(platform: str) -> PlatformCheck | None:
    """The check function of ``platform``, or None (console and file need none)."""
    target = PLATFORM_CHECKS.get(platform)
    if target is None:
        return None
    module, _, name = target.partition(":")
    check: PlatformCheck = getattr(importlib.import_module(module), name)
    return check
