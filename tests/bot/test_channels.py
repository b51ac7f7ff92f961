"""The effective channel list: config channels merged with the subscriptions table."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.archive.engine import make_engine
from bot.archive.schema import metadata
from bot.archive.subscriptions import Subscription, SubscriptionStore
from bot.channels import effective_channels, load_channels, select_channels
from bot.config import Settings, load_settings

CONFIG = """\
timezone: Asia/Shanghai
schedule: "0 9 * * *"
channels:
  - {platform: slack, id: C1}
  - {platform: slack, id: C2, schedule: "30 8 * * 1-5", timezone: Europe/Berlin, topics: ["tag:RL"]}
  - {platform: telegram, id: -1001, thread_id: 7, topics: ["tag:Agent", "stars:5"]}
  - {platform: console, id: terminal}
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_settings(path, environ={})


def test_config_channels_take_the_top_level_defaults(settings: Settings) -> None:
    channels = {c.key: c for c in effective_channels(settings)}
    assert list(channels) == ["slack:C1", "slack:C2", "telegram:-1001", "console:terminal"]
    c1 = channels["slack:C1"]
    assert (c1.schedule, c1.timezone, c1.topics, c1.origin) == (
        "0 9 * * *",
        "Asia/Shanghai",
        (),
        "config",
    )
    c2 = channels["slack:C2"]
    assert (c2.schedule, c2.timezone, c2.topics) == ("30 8 * * 1-5", "Europe/Berlin", ("tag:RL",))
    tg = channels["telegram:-1001"]
    assert (tg.thread_id, tg.topics) == (7, ("tag:Agent", "stars:5"))


def test_a_row_overrides_its_config_channel(settings: Settings) -> None:
    rows = [
        Subscription(platform="slack", channel_id="C1", schedule="0 7 * * *", topics=["tag:LLM"]),
        # Null schedule/timezone keep the config's; the row's (empty) topics replace them.
        Subscription(platform="slack", channel_id="C2", topics=[]),
        Subscription(
            platform="telegram",
            channel_id="-1001",
            timezone="UTC",
            thread_id=9,
            topics=["org:Google"],
        ),
    ]
    channels = {c.key: c for c in effective_channels(settings, rows)}
    c1 = channels["slack:C1"]
    assert (c1.schedule, c1.timezone, c1.topics, c1.origin) == (
        "0 7 * * *",
        "Asia/Shanghai",
        ("tag:LLM",),
        "config+subscription",
    )
    c2 = channels["slack:C2"]
    assert (c2.schedule, c2.timezone, c2.topics) == ("30 8 * * 1-5", "Europe/Berlin", ())
    tg = channels["telegram:-1001"]
    assert (tg.timezone, tg.thread_id, tg.topics) == ("UTC", 9, ("org:Google",))


def test_inactive_rows_drop_channels_and_new_rows_add_them(settings: Settings) -> None:
    rows = [
        Subscription(platform="slack", channel_id="C1", active=False, inactive_reason="gone"),
        Subscription(platform="slack", channel_id="C9", topics=["tag:Agent"]),
        Subscription(platform="telegram", channel_id="-5", schedule="15 10 * * *"),
        Subscription(platform="telegram", channel_id="-6", active=False),
    ]
    channels = {c.key: c for c in effective_channels(settings, rows)}
    assert "slack:C1" not in channels
    assert "telegram:-6" not in channels
    added = channels["slack:C9"]
    assert (added.schedule, added.timezone, added.topics, added.origin) == (
        "0 9 * * *",
        "Asia/Shanghai",
        ("tag:Agent",),
        "subscription",
    )
    assert channels["telegram:-5"].schedule == "15 10 * * *"


def test_a_bad_stored_schedule_falls_back_loudly(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        Subscription(
            platform="slack", channel_id="C1", schedule="every morning", timezone="Mars/Olympus"
        )
    ]
    with caplog.at_level(logging.WARNING, logger="bot.channels"):
        (c1,) = [c for c in effective_channels(settings, rows) if c.id == "C1"]
    assert (c1.schedule, c1.timezone) == ("0 9 * * *", "Asia/Shanghai")
    assert "slack:C1: schedule: invalid cron expression 'every morning'" in caplog.text
    assert "unknown timezone 'Mars/Olympus'" in caplog.text


def test_load_channels_reads_the_real_table(db_url: str, settings: Settings) -> None:
    engine = make_engine(db_url)
    metadata.create_all(engine)
    store = SubscriptionStore(engine)
    store.upsert("slack", "C7", topics=["tag:RL"], created_by="U1")
    store.deactivate("slack", "C2", "channel_not_found")
    keys = [c.key for c in load_channels(settings, store)]
    engine.dispose()
    assert keys == ["slack:C1", "telegram:-1001", "console:terminal", "slack:C7"]


def test_select_by_id_or_key(settings: Settings) -> None:
    channels = effective_channels(settings)
    assert [c.key for c in select_channels(channels, "C2")] == ["slack:C2"]
    assert [c.key for c in select_channels(channels, "telegram:-1001")] == ["telegram:-1001"]
    assert select_channels(channels, "nope") == []
    assert len(select_channels(channels, None)) == 4
