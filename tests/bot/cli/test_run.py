"""``digestbot run`` as a real process: it delivers on schedule and stops cleanly on signals."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.delivery_kit import ROOT, write_config

#: Subprocesses, crashes, replicas or property tests: outside the fast inner loop.
pytestmark = pytest.mark.slow


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_delivers_a_missed_run_then_stops_cleanly(tmp_path: Path, signum: int) -> None:
    missed = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    audit = tmp_path / "audit.jsonl"
    config = write_config(
        tmp_path,
        channels=[{"platform": "file", "id": "audit", "path": "audit.jsonl"}],
        extra={"schedule": f"{missed.minute} {missed.hour} * * *", "max_age": "3650d"},
    )
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_for(lambda: "delivery file:audit 2026-02-03: delivered" in log.read_text())
            process.send_signal(signum)
            code = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    text = log.read_text()
    assert code == 0, text
    assert "service: running" in text
    assert "service: shutting down" in text and "service: stopped" in text
    assert "Traceback" not in text
    lines = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert [entry["index"] for entry in lines] == list(range(15))
    assert text.count("delivery file:audit") == 1  # one log line per delivery
