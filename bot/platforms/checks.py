"""What ``digestbot doctor`` asks each platform, and the shape of one answer.

Each platform keeps its own check beside its transport (``slack/doctor.py``,
``telegram/doctor.py``) and names it in its ``bot.registry`` entry (``doctor=``): a new
platform adds one function and the doctor asks it too. A check talks to the platform
through the same client the bot uses, so a wrong token, a missing scope or a channel the
bot cannot post to shows up here and not at 09:00.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.registry import PLATFORMS

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


def platform_check(platform: str) -> PlatformCheck | None:
    """The check function of ``platform`` (imported now), or None (console and file need
    none; an unknown platform is the config check's business)."""
    spec = PLATFORMS.get(platform)
    if spec is None or spec.doctor is None:
        return None
    module, _, name = spec.doctor.partition(":")
    check: PlatformCheck = getattr(importlib.import_module(module), name)
    return check
