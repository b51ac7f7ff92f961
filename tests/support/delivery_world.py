"""A delivery world for tests: a config pointing at the fakes, an archive holding the
reference digest, and a deliverer over the real transports (pacing off)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.archive import Archive
from bot.channels import Channel, load_channels
from bot.config import load_settings
from bot.delivery import Deliverer, DeliveryOptions
from bot.ingest import ingest_paths
from bot.platforms import Transports
from formatters import Templates, render_weekly
from tests.fakes import FakeSlack, FakeTelegram
from tests.support.delivery_kit import FAST, REFERENCE, write_config


class World:
    """Archive + settings + deliverer wired to the fakes, for one test."""

    def __init__(
        self,
        tmp_path: Path,
        slack: FakeSlack,
        telegram: FakeTelegram,
        channels: list[dict[str, Any]],
        *,
        archive_url: str | None = None,
        options: DeliveryOptions = FAST,
        clock: Callable[[], dt.datetime] | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        path = write_config(
            tmp_path,
            archive_url=archive_url,
            channels=channels,
            slack_url=slack.api_url,
            telegram_url=telegram.api_url,
            telegram_token=telegram.token,
            # ``config``: more dotted keys (``{"telegram.allow_private": True}``).
            timings={
                "slack.per_channel_interval": 0,
                "telegram.per_chat_interval": 0,
                **(config or {}),
            },
        )
        self.settings = load_settings(path, environ={})
        self.archive = Archive.from_settings(self.settings)
        self.archive.create_schema()
        summary = ingest_paths(self.archive, [str(REFERENCE)])
        assert summary.ok, summary.problems
        self.transports = Transports(self.settings)
        extra = {"clock": clock} if clock else {}
        templates = Templates(**self.settings.template_options())
        self.deliverer = Deliverer(
            self.archive,
            self.transports.get,
            templates=templates,
            render_weekly=lambda platform, rollup: render_weekly(platform, rollup, templates),
            aliases=self.archive.aliases,
            owner="test-owner",
            options=options,
            **extra,
        )

    def channels(self) -> list[Channel]:
        return load_channels(self.settings, self.archive.subscriptions)

    def channel(self, key: str) -> Channel:
        return next(c for c in self.channels() if c.key == key)

    async def close(self) -> None:
        await self.transports.close()
        self.archive.close()
