"""A real ``digestbot send`` process killed with SIGKILL mid-delivery, then restarted.

The fakes run in this process; the sender is a subprocess (``tests/support/delivery_send.py``
= the real CLI with a 1 s lease and fast pacing). Nothing is lost; Slack and the JSONL file
get no duplicate (the resumed run finds the message posted just before the kill); Telegram,
which cannot list a chat's messages, gets at most the one message that was in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes import FakeSlack, FakeTelegram
from tests.support.delivery_kit import ROOT, fast_timings, write_config

pytestmark = pytest.mark.slow  # subprocesses and crashes: outside the fast inner loop
SCRIPT = ROOT / "tests" / "support" / "delivery_send.py"
LEASE = 1.0


def sender(config: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), "--config", str(config), "send", "--date", "2026-02-03"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def indices(messages: list[dict]) -> list[int]:
    return [m["metadata"]["event_payload"]["index"] for m in messages]


def test_killed_between_post_and_record_resumes_without_a_duplicate(
    tmp_path: Path, fake_slack: FakeSlack, db_url: str
) -> None:

    config = write_config(
        tmp_path,
        archive_url=db_url,
        channels=[{"platform": "slack", "id": "C1"}],
        slack_url=fake_slack.api_url,
        timings=fast_timings(lease=LEASE, retry_base=0.05, retry_cap=0.5),
    )
    code, output = finish(sender(config, DELIVERY_CRASH_AFTER_POST="5"))
    assert code == -signal.SIGKILL, output
    assert indices(fake_slack.messages("C1")) == [0, 1, 2, 3, 4, 5]  # 5 posted, not recorded

    time.sleep(LEASE + 0.2)  # the dead sender's lease runs out
    code, output = finish(sender(config))
    assert code == 0, output
    assert "(+1 found)" in output  # message 5 was found in the history, not reposted
    assert indices(fake_slack.messages("C1")) == list(range(15))
    ts = [m["ts"] for m in fake_slack.messages("C1")]
    assert all(m["thread_ts"] == ts[0] for m in fake_slack.messages("C1")[1:])

    code, output = finish(sender(config))
    assert code == 0 and "already delivered" in output
    assert len(fake_slack.messages("C1")) == 15


def test_a_live_lease_keeps_a_second_sender_out(tmp_path: Path, fake_slack: FakeSlack) -> None:
    config = write_config(
        tmp_path,
        channels=[{"platform": "slack", "id": "C1"}],
        slack_url=fake_slack.api_url,
        timings=fast_timings(lease=30, retry_base=0.05, retry_cap=0.5),
    )
    code, _ = finish(sender(config, DELIVERY_CRASH_AFTER_POST="3"))
    assert code == -signal.SIGKILL
    code, output = finish(sender(config))
    assert code == 0
    assert "in progress elsewhere" in output
    assert len(fake_slack.messages("C1")) == 4  # nothing posted over a live claim


def test_sigkill_at_a_random_moment_then_restart_completes_everything(
    tmp_path: Path, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> None:
    audit = tmp_path / "audit.jsonl"
    config = write_config(
        tmp_path,
        channels=[
            {"platform": "slack", "id": "C1"},
            {"platform": "slack", "id": "C2"},
            {"platform": "telegram", "id": -1001},
            {"platform": "file", "id": "audit", "path": str(audit)},
        ],
        slack_url=fake_slack.api_url,
        telegram_url=fake_telegram.api_url,
        telegram_token=fake_telegram.token,
        timings=fast_timings(pace=0.1, lease=LEASE, retry_base=0.05, retry_cap=0.5),
    )
    process = sender(config)
    fake_slack.wait_for_messages_sync("C1", 6, timeout=30)
    process.send_signal(signal.SIGKILL)
    code, _ = finish(process)
    assert code == -signal.SIGKILL
    assert len(fake_slack.messages("C1")) < 15  # really killed mid-delivery

    time.sleep(LEASE + 0.2)
    code, output = finish(sender(config))
    assert code == 0, output

    for channel in ("C1", "C2"):
        assert indices(fake_slack.messages(channel)) == list(range(15)), channel
    lines = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert [entry["index"] for entry in lines] == list(range(15))
    sent = [m["html"] for m in fake_telegram.sent(-1001)]
    counts = Counter(sent)
    assert len(counts) == 6  # every Telegram message arrived
    assert sum(counts.values()) - len(counts) <= 1  # at most the one in flight, twice
