"""The service keeps its promises between scheduled runs and tells the truth at start.

In-process ``Service`` against the fakes (real slack_sdk, python-telegram-bot, Bolt), a real
SQLite archive and the real APScheduler; the subprocess ``kill -9`` case is marked slow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import load_settings
from bot.delivery import Outcome
from bot.runtime import Service, bound_port
from tests.fakes import FakeSlack, FakeTelegram
from tests.fakes.robot_server import FakeRobots
from tests.support.delivery_kit import (
    DAY,
    ROOT,
    SLACK_TOKEN,
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
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Service]:
    def make(
        channels: list[dict[str, Any]] | None = None, *, listeners: bool = False, **extra: Any
    ) -> Service:
        config = write_config(
            tmp_path,
            channels=channels or [{"platform": "slack", "id": "C1"}],
            slack_url=fake_slack.api_url,
            telegram_url=fake_telegram.api_url,
            telegram_token=fake_telegram.token,
            extra={
                "schedule": missed_minutes_ago(5),
                "http": {"host": "127.0.0.1", "port": 0},
                **extra,
            },
            timings=fast_timings(lease=1.0),
        )
        service = Service(load_settings(config, environ={}), listeners=listeners)
        services.append(service)
        return service

    return make


async def healthz(service: Service) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{bound_port(service._health)}/healthz"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, json.loads(await response.text())


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_start_checks_each_platform_and_says_so_in_one_line(
    make_service: Callable[..., Service], fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.token = "xoxb-rotated"  # the config still has the old token
    service = make_service(
        [{"platform": "slack", "id": "C1"}, {"platform": "telegram", "id": -1001}],
        schedule="0 9 * * *",
    )
    caplog.set_level(logging.INFO)
    await service.start()
    lines = service.platform_lines
    assert lines["slack"].startswith("failing:") and "invalid_auth" in lines["slack"]
    assert lines["telegram"].startswith("on: @")
    assert lines["console"].startswith("off:")
    for name in ("slack", "telegram", "console", "file"):
        assert sum(f"platform {name}:" in r.getMessage() for r in caplog.records) == 1, name
    status, body = await healthz(service)
    assert status == 503
    assert "invalid_auth" in body["problems"]["platforms"]["slack"]


async def test_a_wrong_token_then_the_right_one_delivers_without_a_restart(
    make_service: Callable[..., Service], fake_slack: FakeSlack
) -> None:
    fake_slack.token = "xoxb-rotated"
    service = make_service([{"platform": "slack", "id": "C1"}, {"platform": "slack", "id": "C2"}])
    service.platforms.recheck = 0.2
    await service.start()
    await until(lambda: len(service.results) >= 2)
    assert {r.outcome for r in service.results} == {Outcome.PAUSED}
    assert fake_slack.messages("C1") == []
    fake_slack.token = SLACK_TOKEN  # fixed at the platform's end: no restart needed
    await fake_slack.wait_for_messages("C1", 15, timeout=15)
    await fake_slack.wait_for_messages("C2", 15, timeout=15)
    status, body = await healthz(service)
    assert status == 200, body
    assert service.archive.subscriptions.list() == []  # nothing was deactivated


async def test_a_rejected_app_token_fails_its_listener_and_the_rest_runs(
    make_service: Callable[..., Service], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.app_token = "xapp-the-real-one"
    service = make_service(
        [{"platform": "slack", "id": "C1"}],
        listeners=True,
        slack={"bot_token": SLACK_TOKEN, "app_token": "xapp-typo", "api_url": fake_slack.api_url},
    )
    await asyncio.wait_for(service.start(), timeout=20)  # no endless Socket Mode retry
    assert "slack.app_token" in service.listener_failures["slack"]
    assert "telegram" in [listener.name for listener in service.listeners]
    status, body = await healthz(service)
    assert status == 503 and "slack.app_token" in body["problems"]["listeners_failed"]["slack"]
    await fake_slack.wait_for_messages("C1", 15)  # deliveries go on


async def test_a_vanished_archive_file_makes_healthz_fail(
    make_service: Callable[..., Service],
) -> None:
    service = make_service(schedule="0 9 * * *")
    await service.start()
    assert (await healthz(service))[0] == 200
    Path(service.archive.engine.url.database).unlink()
    status, body = await healthz(service)
    assert status == 503 and body["archive"] is False


SCRIPT = ROOT / "tests" / "support" / "delivery_send.py"


def start_run(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), "--config", str(config), "run"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_kill_9_of_run_then_an_immediate_restart_completes_within_a_lease(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = write_config(
        tmp_path,
        channels=[{"platform": "slack", "id": "C1"}],
        slack_url=fake_slack.api_url,
        extra={"schedule": missed_minutes_ago(2)},
        timings=fast_timings(pace=0.1, lease=2),
    )
    first = start_run(config)
    try:
        fake_slack.wait_for_messages_sync("C1", random.randint(2, 12), timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    killed_at = len(fake_slack.messages("C1"))
    assert killed_at < 15
    second = start_run(config)  # at once: the dead run's lease is still live
    try:
        started = dt.datetime.now()
        fake_slack.wait_for_messages_sync("C1", 15, timeout=60)
        took = (dt.datetime.now() - started).total_seconds()
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    indices = [m["metadata"]["event_payload"]["index"] for m in fake_slack.messages("C1")]
    assert indices == list(range(15)), err  # complete, nothing twice
    # Start-up, one lease for the dead claim, a sweep, and the remaining paced posts.
    assert took < 2 + 2 + 1 + 0.1 * 15 + 10, err
    assert DAY.isoformat() in err


async def test_an_overdue_delivery_makes_healthz_fail(
    make_service: Callable[..., Service],
) -> None:
    service = make_service(schedule="0 9 * * *")
    await service.start()
    assert (await healthz(service))[0] == 200
    ledger = service.archive.ledger
    real_clock = ledger.clock
    ledger.clock = lambda: real_clock() - dt.timedelta(hours=5)  # claimed 5 h ago, then died
    claim = ledger.claim("telegram", "-1009", DAY, "dead", dt.timedelta(seconds=1))
    ledger.clock = real_clock
    assert claim is not None
    status, body = await healthz(service)
    assert status == 503
    (entry,) = body["problems"]["overdue"]
    assert entry == f"telegram:-1009 {DAY}"


async def test_a_half_written_file_then_the_whole_file_reaches_the_channel_once(
    make_service: Callable[..., Service], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from tests.support.delivery_kit import REFERENCE, item_urls, ranks_seen, slack_text

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    path = incoming / REFERENCE.name
    text = REFERENCE.read_text(encoding="utf-8")
    path.write_text(text[: text.find("\n### 6. ")], encoding="utf-8")  # items 1-5 so far
    past = time.time() - 60
    os.utime(path, (past, past))  # the writer stalled longer than sources_settle
    service = make_service(
        sources=[str(incoming / "*.md")], poll_interval="0.2s", sources_settle="1s"
    )
    await service.start()
    await until(lambda: service.results)
    first = len(fake_slack.messages("C1"))
    assert ranks_seen([slack_text(m) for m in fake_slack.messages("C1")]) == [1, 2, 3, 4, 5]
    path.write_text(text, encoding="utf-8")  # the rest lands
    await until(lambda: len(fake_slack.messages("C1")) > first, timeout=20)
    await until(
        lambda: (
            ranks_seen([slack_text(m) for m in fake_slack.messages("C1")]) == sorted(item_urls())
        ),
        timeout=20,
    )
    pairs = [
        (m["metadata"]["event_payload"]["date"], m["metadata"]["event_payload"]["index"])
        for m in fake_slack.messages("C1")
    ]
    assert len(pairs) == len(set(pairs))  # nothing posted twice
    parent = fake_slack.messages("C1")[0]["ts"]
    assert all(m["thread_ts"] == parent for m in fake_slack.messages("C1")[1:])


async def test_a_refusing_group_robot_is_reported_and_the_other_groups_go_on(
    make_service: Callable[..., Service], fake_wecom: FakeRobots
) -> None:
    """A robot's key is its own: the removed one pauses only its group, and /healthz says
    which channel and why until it accepts us again."""
    gone, fine = fake_wecom.add_robot(), fake_wecom.add_robot()
    fake_wecom.remove_robot(gone)
    service = make_service(
        [
            {"platform": "wecom", "id": "gone", "webhook": gone},
            {"platform": "wecom", "id": "fine", "webhook": fine},
        ]
    )
    await service.start()
    await until(lambda: len(service.results) >= 2)
    outcomes = {r.channel.id: r.outcome for r in service.results}
    assert outcomes == {"gone": Outcome.PAUSED, "fine": Outcome.DELIVERED}
    assert fake_wecom.sent(fine) and fake_wecom.sent(gone) == []
    status, body = await healthz(service)
    assert status == 503
    reported = body["problems"]["platforms"]
    assert list(reported) == ["wecom:gone"] and "93000" in reported["wecom:gone"]
    assert gone not in json.dumps(body)  # the webhook (its key) is a secret
