"""Shared helpers for the delivery tests: a config file pointing at the fakes, an archive
holding the reference digest, and ways to read back what the fakes received.

Kept in tests/support because the subprocess script (``delivery_send.py``) imports it too.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from bot.delivery import DeliveryOptions

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "digests" / "2026-02-03.md"
DAY = dt.date(2026, 2, 3)
SLACK_TOKEN = "xoxb-test-token"
#: Items of the reference digest tagged with an alias of Agent (AI Agent, 智能体, ...).
AGENT_RANKS = [4, 5, 8, 10]
#: Every rank of the reference digest.
ALL = list(range(1, 15))
#: Delivery options for tests: a long lease, a short window, retries within milliseconds.
FAST = DeliveryOptions(
    lease=dt.timedelta(minutes=5),
    window=dt.timedelta(seconds=30),
    retry_base=0.01,
    retry_cap=0.05,
)


def fast_timings(
    *,
    pace: float = 0.0,
    lease: float | None = None,
    retry_base: float = 0.01,
    retry_cap: float = 0.05,
    any_age: bool = True,
) -> dict[str, Any]:
    """Config keys that make deliveries quick in tests: per-channel pacing ``pace`` seconds,
    fast retries, ``lease`` if given, and (``any_age``) a ``max_age`` that accepts the
    reference digest of 2026-02-03."""
    timings: dict[str, Any] = {
        "slack.per_channel_interval": pace,
        "telegram.per_chat_interval": pace,
        "delivery.retry_base": f"{retry_base}s",
        "delivery.retry_cap": f"{retry_cap}s",
    }
    if any_age:
        timings["max_age"] = "36500d"
    if lease is not None:
        timings["delivery.lease"] = f"{lease}s"
    return timings


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
    timings: dict[str, Any] | None = None,
) -> Path:
    """A real config.yaml for the fakes (tokens in the file, as a user might do in tests);
    ``timings`` are dotted config keys (see ``fast_timings``) set over the rest."""
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
    for dotted, value in (timings or {}).items():
        *sections, key = dotted.split(".")
        target = data
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value
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
