"""Shared helpers for the delivery tests: a config file pointing at the fakes, an archive
holding the reference digest, and ways to read back what the fakes received.

Kept under tests/data because the subprocess scripts (``delivery_send.py``) import it too.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "digests" / "2026-02-03.md"
DAY = dt.date(2026, 2, 3)
SLACK_TOKEN = "xoxb-test-token"
#: Items of the reference digest tagged with an alias of Agent (AI Agent, 智能体, ...).
AGENT_RANKS = [4, 5, 8, 10]


def write_config(
    directory: Path,
    *,
    archive_url: str | None = None,
    channels: list[dict[str, Any]] | None = None,
    sources: list[str] | None = None,
    slack_url: str | None = None,
    telegram_url: str | None = None,
    telegram_token: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """A real config.yaml for the fakes (tokens in the file, as a user might do in tests)."""
    data: dict[str, Any] = {
        "timezone": "UTC",
        "archive": {"url": archive_url or f"sqlite:///{directory / 'archive.db'}"},
        "sources": sources if sources is not None else [str(REFERENCE)],
        "channels": channels or [],
    }
    if slack_url:
        data["slack"] = {"bot_token": SLACK_TOKEN, "api_url": slack_url}
    if telegram_url:
        data["telegram"] = {"token": telegram_token, "api_url": telegram_url}
    data.update(extra or {})
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def missed_minutes_ago(minutes: int) -> str:
    """A daily cron (UTC) that fired ``minutes`` ago: a service catches it up at start."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    return f"{moment.minute} {moment.hour} * * *"


def reference_items() -> list[Any]:
    from bot.ingest import parse_file

    return list(parse_file(REFERENCE).digest.items)


def item_urls() -> dict[int, str]:
    """rank → url of the reference items (unique per item: how tests spot an item)."""
    return {item.rank: item.url for item in reference_items()}


def slack_text(message: dict[str, Any]) -> str:
    """Everything a Slack message shows: its text and its blocks, as one string."""
    return message.get("text", "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def ranks_seen(texts: list[str]) -> list[int]:
    """Which reference items appear in the given message texts (by their unique URL)."""
    joined = "\n".join(texts)
    return sorted(rank for rank, url in item_urls().items() if url and url in joined)


def speed_up(monkeypatch: Any = None, *, pace: float = 0.0, **options: float) -> None:
    """Test timings for code that builds its own transports and options (the CLI, the
    service, subprocesses): per-channel pacing ``pace`` seconds instead of 1 s, and any
    ``DeliveryOptions`` fields given (lease/window in seconds, retry_base, ...).

    Patches our own seams only (with ``monkeypatch`` when given, so they are undone); the
    ``delivery.*`` and ``slack.per_channel_interval`` config keys will make this unneeded.
    """
    import bot.platforms as platforms
    from bot.delivery import DeliveryOptions

    def patch(target: Any, name: str, value: Any) -> None:
        if monkeypatch is not None:
            monkeypatch.setattr(target, name, value)
        else:
            setattr(target, name, value)

    make = platforms.make_transport

    def fast_make(platform: str, settings: Any, **kwargs: Any) -> Any:
        overrides = dict(kwargs.pop("overrides", None) or {})
        key = {"slack": "per_channel_interval", "telegram": "per_chat_interval"}.get(platform)
        if key:
            overrides.setdefault(key, pace)
        return make(platform, settings, overrides=overrides, **kwargs)

    patch(platforms, "make_transport", fast_make)
    if options:
        original = DeliveryOptions.from_settings.__func__  # type: ignore[attr-defined]
        converted = {
            k: dt.timedelta(seconds=v) if k in ("lease", "window", "max_age") else v
            for k, v in options.items()
        }

        def from_settings(cls: type, settings: Any, **overrides: Any) -> Any:
            return original(cls, settings, **{**converted, **overrides})

        patch(DeliveryOptions, "from_settings", classmethod(from_settings))
