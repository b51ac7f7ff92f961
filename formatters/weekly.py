"""The weekly rollup as each platform's delivery payloads, chosen by platform name.

Why a dispatcher: a daily digest is rendered by its transport, but the rollup is a
different layout; the deliverer gets this one function instead of one per platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError
from bot.registry import PLATFORMS, load
from formatters.console import render_rollup as console_rollup
from formatters.slack import render_rollup as slack_rollup
from formatters.telegram import render_rollup as telegram_rollup

if TYPE_CHECKING:
    from bot.archive import Rollup
    from formatters.templates import Templates


def file_records(rollup: Rollup) -> list[dict[str, Any]]:
    """The ``file`` platform's JSONL records: a rollup header, then each picked item."""
    head = {
        "kind": "rollup",
        "week": rollup.week,
        "start": rollup.start.isoformat(),
        "end": rollup.end.isoformat(),
        "items": len(rollup.hits),
        "duplicates": rollup.duplicates,
    }
    return [head, *({"kind": "item", **hit.model_dump(mode="json")} for hit in rollup.hits)]


def render_weekly(platform: str, rollup: Rollup, templates: Templates) -> list[Any]:
    """What a scheduled (or ``send --week``) rollup posts on ``platform``, message 0 first."""
    if platform == "slack":
        return list(slack_rollup(rollup, templates, thread=True))
    if platform == "telegram":
        return list(telegram_rollup(rollup, templates))
    if platform == "console":
        return console_rollup(rollup, templates, details=True)
    if platform == "file":
        return file_records(rollup)
    spec = PLATFORMS.get(platform)
    if spec is not None and spec.weekly:
        return list(load(spec.weekly)(rollup, templates))
    raise ConfigError(f"channels: no weekly rollup rendering for platform {platform!r}")
