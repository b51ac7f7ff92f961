"""/healthz and /metrics over real HTTP, with a real archive and real listener objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.archive import Archive
from bot.chat import CommandCore, CommandRequest
from bot.config import Settings
from bot.runtime import bound_port, start_health_server


@dataclass
class StubListener:
    """Stands in for a Slack/Telegram listener: only ``name`` and ``connected`` matter here."""

    name: str
    connected: bool = True

    async def stop(self) -> None:
        self.connected = False


class Schedule:
    def __init__(self, runs: dict[str, dt.datetime | None]) -> None:
        self.runs = runs

    def next_runs(self) -> dict[str, dt.datetime | None]:
        return self.runs


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    archive = Archive(f"sqlite:///{tmp_path / 'health.db'}")
    archive.create_schema()
    return archive


async def serve(**kwargs: object) -> AsyncIterator[str]:
    runner = await start_health_server("127.0.0.1", 0, **kwargs)  # type: ignore[arg-type]
    try:
        yield f"http://127.0.0.1:{bound_port(runner)}"
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def get_json(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_healthy_report(archive: Archive) -> None:
    when = dt.datetime(2026, 2, 4, 9, 0, tzinfo=dt.UTC)
    listeners = [StubListener("slack"), StubListener("telegram")]
    scheduler = Schedule({"slack:C1": when, "telegram:-100": None})
    async for base in serve(archive=archive, scheduler=scheduler, listeners=listeners):
        status, body = await get_json(f"{base}/healthz")
    assert status == 200
    assert body == {
        "status": "ok",
        "archive": True,
        "listeners": {"slack": True, "telegram": True},
        "problems": {},
        "next_deliveries": {"slack:C1": when.isoformat(), "telegram:-100": None},
    }


async def test_a_disconnected_listener_makes_it_503(archive: Archive) -> None:
    listeners = [StubListener("slack"), StubListener("telegram", connected=False)]
    async for base in serve(archive=archive, scheduler=None, listeners=listeners):
        status, body = await get_json(f"{base}/healthz")
        listeners[1].connected = True  # read at request time, not at start
        healed, _ = await get_json(f"{base}/healthz")
    assert status == 503 and body["status"] == "degraded"
    assert body["listeners"] == {"slack": True, "telegram": False}
    assert body["next_deliveries"] == {}
    assert healed == 200


async def test_an_unreachable_archive_makes_it_503(tmp_path: Path) -> None:
    missing = Archive(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    async for base in serve(archive=missing, scheduler=None, listeners=[]):
        status, body = await get_json(f"{base}/healthz")
    assert status == 503 and body["archive"] is False


async def test_a_broken_scheduler_does_not_break_health(archive: Archive) -> None:
    class Broken:
        def next_runs(self) -> dict[str, dt.datetime | None]:
            raise RuntimeError("scheduler not started")

    async for base in serve(archive=archive, scheduler=Broken(), listeners=[]):
        status, body = await get_json(f"{base}/healthz")
    assert status == 200 and body["next_deliveries"] == {}


async def test_metrics_are_prometheus_text_and_count_commands(archive: Archive) -> None:
    core = CommandCore(archive, Settings())
    core.handle(CommandRequest("healthtest", "C1", "U1", None, "help"))
    async for base in serve(archive=archive, scheduler=None, listeners=[]):
        status, content_type, text = await get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    assert 'digestbot_commands_total{command="help",outcome="ok",platform="healthtest"} 1.0' in text
    assert 'digestbot_command_latency_seconds_count{platform="healthtest"} 1.0' in text
    assert "digestbot_deliveries_total" in text or "# TYPE digestbot_deliveries" in text


async def test_port_in_use_is_a_config_error(archive: Archive) -> None:
    from bot.errors import ConfigError

    blocker = web.AppRunner(web.Application())
    await blocker.setup()
    site = web.TCPSite(blocker, "127.0.0.1", 0)
    await site.start()
    try:
        port = bound_port(blocker)
        with pytest.raises(ConfigError, match=r"web\.port"):
            await start_health_server(
                "127.0.0.1", port, archive=archive, scheduler=None, listeners=[]
            )
    finally:
        await blocker.cleanup()


async def test_metrics_have_process_collectors_and_the_last_delivery_per_channel(
    archive: Archive, tmp_path: Path
) -> None:
    from bot.cli.send import run_send
    from bot.config import load_settings
    from tests.support.delivery_kit import write_config

    config = write_config(
        tmp_path, channels=[{"platform": "file", "id": "audit", "path": "a.jsonl"}]
    )
    before = dt.datetime.now(dt.UTC).timestamp()
    results = await run_send(load_settings(config, environ={}), date=dt.date(2026, 2, 3))
    assert [r.outcome.value for r in results] == ["delivered"]
    async for base in serve(archive=archive, scheduler=None, listeners=[]):
        _status, _type, text = await get(f"{base}/metrics")
    assert "process_resident_memory_bytes" in text and "python_gc_collections_total" in text
    (line,) = [
        line
        for line in text.splitlines()
        if line.startswith("digestbot_last_successful_delivery_timestamp_seconds{")
        and 'channel="audit"' in line
    ]
    assert 'platform="file"' in line
    assert before - 1 <= float(line.rsplit(" ", 1)[1]) <= dt.datetime.now(dt.UTC).timestamp()
