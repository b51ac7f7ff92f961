"""Operator logs: JSON lines with delivery fields, and routine noise demoted."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import logs
from bot.channels import Channel
from bot.errors import TransientDeliveryError
from bot.platforms.telegram.transport import TelegramTransport
from formatters.payloads import TelegramMessage
from tests.conftest import ROOT
from tests.fakes import FakeTelegram
from tests.support.delivery_kit import DAY, write_config


@pytest.fixture(autouse=True)
def _installed() -> None:
    logs.install()


def test_json_formatter_writes_one_object_with_fields() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "hi %s", ("there",), None)
        record.exc_info = sys.exc_info()
    record.channel, record.outcome, record.date = "slack:C1", "delivered", "2026-02-03"
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "hi there" and data["level"] == "ERROR"
    assert (data["channel"], data["outcome"], data["date"]) == (
        "slack:C1",
        "delivered",
        "2026-02-03",
    )
    assert "ValueError: boom" in data["exception"]


@pytest.mark.slow
def test_send_logs_json_lines_with_channel_date_and_outcome(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        channels=[{"platform": "console", "id": "terminal"}],
        extra={"log_format": "json"},
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "send", "--date", "2026-02-03"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines and all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
    (delivery,) = [line for line in lines if line.get("outcome")]
    assert delivery["channel"] == "console:terminal"
    assert (delivery["date"], delivery["outcome"]) == ("2026-02-03", "delivered")


async def test_a_429_passed_on_by_the_rate_limiter_is_no_error_traceback(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    transport = TelegramTransport(
        fake_telegram.token, base_url=fake_telegram.api_url, per_chat_interval=0
    )
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    caplog.set_level(logging.INFO)
    with pytest.raises(TransientDeliveryError):
        await transport.send(
            Channel("telegram", "-1001", "0 9 * * *", "UTC"),
            0,
            TelegramMessage(text="x"),
            digest_date=DAY,
        )
    await transport.close()
    limiter = [r for r in caplog.records if r.name == "telegram.ext.AIORateLimiter"]
    assert limiter, "the limiter's line is still there, at INFO"
    assert all(r.levelno == logging.INFO and not r.exc_info for r in limiter)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
async def test_apscheduler_job_runs_log_at_debug(
    caplog: pytest.LogCaptureFixture, level: int
) -> None:
    caplog.set_level(level)
    scheduler = AsyncIOScheduler()
    ran = asyncio.Event()
    scheduler.add_listener(lambda _event: ran.set(), EVENT_JOB_EXECUTED)
    scheduler.start()
    scheduler.add_job(lambda: None, id="tick")
    await asyncio.wait_for(ran.wait(), 10)
    scheduler.shutdown(wait=False)
    runs = [r for r in caplog.records if r.name.startswith("apscheduler.executors")]
    if level == logging.INFO:
        assert runs == []
    else:
        assert {r.getMessage().split('"')[0] for r in runs} == {"Running job ", "Job "}
        assert all(r.levelno == logging.DEBUG for r in runs)
