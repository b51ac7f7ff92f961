"""The ``digestbot run`` service in-process: scheduler, late digests, listeners, health, stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.archive import Archive, Status
from bot.config import load_settings
from bot.delivery import Outcome
from bot.runtime import Service
from tests.fakes import FakeSlack, FakeTelegram
from tests.support.delivery_kit import (
    DAY,
    REFERENCE,
    fast_timings,
    missed_minutes_ago,
    write_config,
)


@pytest.fixture
def make_service(
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
    services: list[Service],
) -> Callable[..., Service]:
    def make(
        channels: list[dict[str, Any]] | None = None,
        *,
        sources: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        listeners: bool = False,
        pace: float = 0.0,
    ) -> Service:
        config = write_config(
            tmp_path,
            channels=channels or [{"platform": "slack", "id": "C1"}],
            sources=sources,
            slack_url=fake_slack.api_url,
            telegram_url=fake_telegram.api_url,
            telegram_token=fake_telegram.token,
            extra={"schedule": missed_minutes_ago(5), **(extra or {})},
            timings=fast_timings(pace=pace),
        )
        service = Service(load_settings(config, environ={}), listeners=listeners)
        services.append(service)
        return service

    return make


async def test_a_missed_morning_run_is_delivered_at_start(
    make_service: Callable[..., Service], fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    service = make_service(
        [{"platform": "slack", "id": "C1"}, {"platform": "telegram", "id": -1001}]
    )
    await service.start()
    await fake_slack.wait_for_messages("C1", 15)
    await fake_telegram.wait_for_sent(-1001, 6)
    for _ in range(100):
        if len(service.results) == 2:
            break
        await asyncio.sleep(0.05)
    assert sorted((r.channel.key, r.outcome) for r in service.results) == [
        ("slack:C1", Outcome.DELIVERED),
        ("telegram:-1001", Outcome.DELIVERED),
    ]
    runs = service.scheduler.next_runs()
    assert set(runs) == {"slack:C1", "telegram:-1001"}
    assert all(when is not None and when > dt.datetime.now(dt.UTC) for when in runs.values())
    await service.stop()
    assert len(fake_slack.messages("C1")) == 15


async def test_a_late_digest_is_waited_for_then_delivered(
    tmp_path: Path, make_service: Callable[..., Service], fake_slack: FakeSlack
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    service = make_service(
        sources=["incoming/*.md"],
        extra={"poll_interval": "0.05s", "wait_for_digest": "20s", "sources_settle": "0.3s"},
    )
    await service.start()
    started = service.watcher.ingests  # the refresh at start
    for _ in range(250):
        if service.watcher.ingests >= started + 2:
            break
        await asyncio.sleep(0.02)
    # Only a waiting delivery polls the sources: the job fired, found no digest twice, and
    # posts nothing until one arrives.
    assert service.watcher.ingests >= started + 2
    assert fake_slack.messages("C1") == [] and not service.results
    shutil.copy(REFERENCE, incoming / REFERENCE.name)
    await fake_slack.wait_for_messages("C1", 15)
    for _ in range(100):
        if service.results:
            break
        await asyncio.sleep(0.05)
    assert [(r.outcome, r.digest_date) for r in service.results] == [(Outcome.DELIVERED, DAY)]


async def test_stopping_mid_delivery_releases_the_claim_and_a_restart_resumes(
    make_service: Callable[..., Service],
    fake_slack: FakeSlack,
) -> None:
    service = make_service(pace=0.1)
    await service.start()
    await fake_slack.wait_for_messages("C1", 4)
    await service.stop()
    posted = len(fake_slack.messages("C1"))
    row = Archive(service.settings.archive.url).ledger.status("slack", "C1", DAY)
    assert row is not None
    assert (row.status, row.error) == (Status.RETRY, "interrupted by shutdown")
    # The message in flight when the stop came may be posted but not recorded.
    assert posted - 1 <= len(row.messages) <= posted < 15

    again = make_service()
    await again.start()
    await fake_slack.wait_for_messages("C1", 15)
    for _ in range(100):
        if again.results:
            break
        await asyncio.sleep(0.05)
    assert [r.outcome for r in again.results] == [Outcome.DELIVERED]
    messages = fake_slack.messages("C1")
    assert [m["metadata"]["event_payload"]["index"] for m in messages] == list(range(15))
    assert again.results[0].posted == 15 - posted  # only what was missing
    assert again.results[0].reconciled <= 1  # the one in flight was found, not reposted
    final = again.archive.ledger.status("slack", "C1", DAY)
    assert final is not None
    assert final.status is Status.DONE


class FakeListener:
    def __init__(self, name: str) -> None:
        self.name = name
        self.connected = True
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


async def test_listeners_and_health_server_start_and_stop_with_the_service(
    make_service: Callable[..., Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.platforms as listeners_module

    started: list[Any] = []
    listener = FakeListener("slack")

    async def start_listeners(settings: Any, archive: Any, **_: Any) -> list[FakeListener]:
        started.append((settings, archive))
        return [listener]

    monkeypatch.setattr(listeners_module, "start_listeners", start_listeners)
    service = make_service(
        [{"platform": "console", "id": "terminal"}],
        extra={"http": {"host": "127.0.0.1", "port": 0}, "schedule": "0 9 * * *"},
        listeners=True,
    )
    await service.start()
    ((settings, archive),) = started
    assert archive is service.archive
    # Only a bot token for Slack (no app token): Telegram listens, Slack only posts.
    assert settings.telegram.token is not None and settings.slack.bot_token is None
    from bot.runtime import bound_port

    port = bound_port(service._health)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        body = json.loads(await response.text())
        status = response.status
    assert status == 200
    assert body["listeners"] == {"slack": True}
    assert list(body["next_deliveries"]) == ["console:terminal"]
    await service.stop()
    assert listener.stopped
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"http://127.0.0.1:{port}/healthz")


async def test_no_tokens_no_listeners(
    tmp_path: Path, services: list[Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.platforms as listeners_module

    def fail(*_: Any, **__: Any) -> None:
        raise AssertionError("listeners must not start without tokens")

    monkeypatch.setattr(listeners_module, "start_listeners", fail)
    config = write_config(
        tmp_path,
        channels=[{"platform": "console", "id": "terminal"}],
        extra={"schedule": "0 9 * * *"},
    )
    service = Service(load_settings(config, environ={}))
    services.append(service)
    await service.start()
    assert service.listeners == []
    await service.stop()


def test_which_listeners_are_configured(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from bot.platforms import listener_settings

    def settings_with(**sections: Any) -> Any:
        return load_settings(write_config(tmp_path, extra=sections), environ={})

    assert listener_settings(settings_with()) is None
    post_only = settings_with(slack={"bot_token": "xoxb-1"})
    assert listener_settings(post_only) is None
    assert "slack.app_token (SLACK_APP_TOKEN) is not set: Slack commands are off" in caplog.text
    socket = settings_with(slack={"bot_token": "xoxb-1", "app_token": "xapp-1"})
    assert listener_settings(socket) is socket
    http = settings_with(slack={"bot_token": "xoxb-1", "mode": "http", "signing_secret": "s"})
    assert listener_settings(http) is http
    telegram = settings_with(slack={"bot_token": "xoxb-1"}, telegram={"token": "1:x"})
    only_telegram = listener_settings(telegram)
    assert only_telegram is not None
    assert only_telegram.slack.bot_token is None
    assert only_telegram.telegram.token is not None
    assert telegram.slack.bot_token is not None  # the service's own settings are untouched


async def test_the_service_serves_the_reader_and_feeds_on_web_port(
    make_service: Callable[..., Service], reference_digest_path: Path
) -> None:
    service = make_service(
        [{"platform": "console", "id": "terminal"}],
        sources=[str(reference_digest_path)],
        extra={"web": {"enabled": True, "port": 0}, "schedule": "0 9 * * *"},
    )
    await service.start()
    from bot.runtime import bound_port

    base = f"http://127.0.0.1:{bound_port(service._health)}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/d/2026-02-03") as response:
            page = await response.text()
            assert response.status == 200
        async with session.get(f"{base}/feed.atom?q=tag:RL") as response:
            feed = await response.text()
            assert response.status == 200
        async with session.get(f"{base}/healthz") as response:
            assert response.status == 200
    assert page.count('<article class="item"') == 14
    assert feed.count("<entry>") == 2
    await service.stop()
