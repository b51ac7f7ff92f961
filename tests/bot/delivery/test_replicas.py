"""Two real processes sharing one PostgreSQL archive deliver each digest exactly once.

Each replica schedules in memory (``run``) or fans out at once (``send``); the ledger claim
in PostgreSQL decides who posts to which channel. The fakes run in this process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from bot.archive.schema import deliveries
from tests.fakes import FakeSlack, FakeTelegram
from tests.support.delivery_kit import ROOT, fast_timings, write_config

pytestmark = pytest.mark.slow  # subprocesses and crashes: outside the fast inner loop
SCRIPT = ROOT / "tests" / "support" / "delivery_send.py"
SLACK = [f"C{i}" for i in range(6)]
TELEGRAM = [-1001, -1002]


def replica_config(
    tmp_path: Path, name: str, pg_url: str, slack: FakeSlack, telegram: FakeTelegram, **extra: Any
) -> Path:

    directory = tmp_path / name
    directory.mkdir()
    return write_config(
        directory,
        archive_url=pg_url,
        channels=[
            *({"platform": "slack", "id": cid} for cid in SLACK),
            *({"platform": "telegram", "id": chat} for chat in TELEGRAM),
            {"platform": "file", "id": "audit", "path": str(tmp_path / "audit.jsonl")},
        ],
        slack_url=slack.api_url,
        telegram_url=telegram.api_url,
        telegram_token=telegram.token,
        extra=extra,
        timings=fast_timings(pace=0.05, retry_base=0.05, retry_cap=0.5),
    )


def start(config: Path, *command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), "--config", str(config), *command],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_exactly_once(
    tmp_path: Path, slack: FakeSlack, telegram: FakeTelegram, pg_url: str
) -> None:
    for cid in SLACK:
        posted = slack.messages(cid)
        assert [m["metadata"]["event_payload"]["index"] for m in posted] == list(range(15)), cid
    for chat in TELEGRAM:
        texts = [m["html"] for m in telegram.sent(chat)]
        assert len(texts) == len(set(texts)) == 6, chat
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["index"] for line in lines] == list(range(15))
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.status, deliveries.c.attempts)).all()
    engine.dispose()
    assert len(rows) == len(SLACK) + len(TELEGRAM) + 1
    assert {(status, attempts) for status, attempts in rows} == {("done", 1)}


def test_two_send_processes_post_once(
    tmp_path: Path, pg_url: str, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    configs = [
        replica_config(tmp_path, name, pg_url, fake_slack, fake_telegram) for name in ("a", "b")
    ]
    processes = [start(config, "send", "--date", "2026-02-03") for config in configs]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=90)
        assert process.returncode == 0, out + err
        outputs.append(out)
    assert_exactly_once(tmp_path, fake_slack, fake_telegram, pg_url)
    delivered = sum(out.count("│ delivered") for out in outputs)
    assert delivered == len(SLACK) + len(TELEGRAM) + 1  # each channel by one of the two


class StderrLines:
    """A running process's stderr, read as it comes (its outcome lines tell when it is done)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        self.thread = threading.Thread(target=self._read, args=(process.stderr,), daemon=True)
        self.thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def outcomes(self) -> int:
        return sum("bot.delivery: delivery" in line for line in self.lines)


def test_two_run_services_deliver_a_scheduled_digest_once(
    tmp_path: Path, pg_url: str, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    missed = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    schedule = f"{missed.minute} {missed.hour} * * *"
    configs = [
        replica_config(tmp_path, name, pg_url, fake_slack, fake_telegram, schedule=schedule)
        for name in ("a", "b")
    ]
    processes = [start(config, "run") for config in configs]
    readers = [StderrLines(process) for process in processes]
    channels = len(SLACK) + len(TELEGRAM) + 1
    try:
        # Each replica logs one outcome per channel (delivered, or taken by the other): once
        # both have logged all of theirs, no second delivery can still come.
        deadline = time.monotonic() + 90
        while any(r.outcomes() < channels for r in readers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(r.outcomes() >= channels for r in readers), [r.lines for r in readers]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process, reader in zip(processes, readers, strict=True):
            process.wait(timeout=30)
            reader.thread.join(timeout=10)
    logs = ["".join(reader.lines) for reader in readers]
    assert [p.returncode for p in processes] == [0, 0], logs
    assert_exactly_once(tmp_path, fake_slack, fake_telegram, pg_url)
    lines = [line for log in logs for line in log.splitlines() if "bot.delivery: delivery" in line]
    delivered = [line for line in lines if ": delivered," in line]
    assert len(delivered) == len(SLACK) + len(TELEGRAM) + 1, "\n".join(lines)
