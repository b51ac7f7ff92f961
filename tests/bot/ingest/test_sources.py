"""Waiting for a late digest: real files appearing in a watched folder, a real archive."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.ingest import SourceWatcher
from tests.support.delivery_kit import DAY, REFERENCE

POLL = dt.timedelta(seconds=0.05)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    archive = Archive(f"sqlite:///{tmp_path / 'archive.db'}")
    archive.create_schema()
    yield archive
    archive.close()


async def test_a_late_digest_file_is_picked_up_while_waiting(
    tmp_path: Path, archive: Archive
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    watcher = SourceWatcher(
        archive,
        ["incoming/*.md"],
        base=tmp_path,
        poll_interval=POLL,
        wait_for_digest=dt.timedelta(seconds=10),
    )
    waiting = asyncio.create_task(watcher.wait_for(archive.latest_date, what="test"))
    for _ in range(250):  # until it has polled twice (and found nothing each time)
        if watcher.ingests >= 2:
            break
        await asyncio.sleep(0.02)
    assert watcher.ingests >= 2
    assert not waiting.done()
    shutil.copy(REFERENCE, incoming / REFERENCE.name)
    found = await asyncio.wait_for(waiting, timeout=5)
    assert found == DAY
    digest = archive.digest(DAY)
    assert digest is not None
    assert len(digest.items) == 14


async def test_no_digest_within_the_wait_logs_a_clear_warning(
    tmp_path: Path, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = SourceWatcher(
        archive,
        ["incoming/*.md"],
        base=tmp_path,
        poll_interval=POLL,
        wait_for_digest=dt.timedelta(seconds=0.25),
    )
    with caplog.at_level(logging.WARNING, logger="bot.ingest.sources"):
        found = await watcher.wait_for(archive.latest_date, what="delivery slack:C1")
    assert found is None
    assert "delivery slack:C1: no new digest after waiting" in caplog.text
    assert "incoming/*.md" in caplog.text


async def test_waiters_share_one_ingest_per_poll(tmp_path: Path, archive: Archive) -> None:
    watcher = SourceWatcher(
        archive,
        [str(REFERENCE)],
        poll_interval=dt.timedelta(seconds=5),
        wait_for_digest=dt.timedelta(seconds=1),
    )
    results = await asyncio.gather(
        *(watcher.wait_for(archive.latest_date, what=f"w{i}") for i in range(6))
    )
    assert results == [DAY] * 6
    assert watcher.ingests == 1


async def test_a_bad_file_is_reported_and_does_not_stop_the_wait(
    tmp_path: Path, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "no-date.md").write_text("# nothing here\n", encoding="utf-8")
    shutil.copy(REFERENCE, incoming / REFERENCE.name)
    watcher = SourceWatcher(archive, [str(incoming)], poll_interval=POLL)
    with caplog.at_level(logging.WARNING, logger="bot.ingest.sources"):
        assert await watcher.wait_for(archive.latest_date, what="test") == DAY
    assert "no-date.md:" in caplog.text
