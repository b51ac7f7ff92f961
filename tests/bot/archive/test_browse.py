"""Reads for browsing on both databases: stamp, neighbouring days, tag counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.archive import Archive
from bot.ingest import file_sha256, parse_file
from tests.conftest import REFERENCE_DIGEST


def store(archive: Archive, path: Path) -> None:
    archive.store(parse_file(path).digest, path=str(path), sha256=file_sha256(path))


def day(tmp_path: Path, date: str, body: str) -> Path:
    path = tmp_path / f"{date}.md"
    path.write_text(f"# AI 每日情报 | {date}\n\n{body}", encoding="utf-8")
    return path


def test_the_stamp_changes_when_a_day_is_stored_or_replaced(
    archive: Archive, tmp_path: Path
) -> None:
    empty = archive.stamp()
    assert (empty.days, empty.updated) == (0, None)
    store(archive, REFERENCE_DIGEST)
    first = archive.stamp()
    assert first.days == 1 and first.updated is not None and first.updated.tzinfo is not None
    assert archive.stamp() == first  # reading changes nothing
    edited = day(tmp_path, "2026-02-03", "### 1. Replaced\n**标签**: [RL]\n")
    store(archive, edited)
    replaced = archive.stamp()
    assert replaced.days == 1 and replaced != first


def test_neighbours_skip_missing_days(archive: Archive, tmp_path: Path) -> None:
    for date in ("2026-02-01", "2026-02-03", "2026-02-07"):
        store(archive, day(tmp_path, date, "### 1. Item\n"))
    d = dt.date.fromisoformat
    assert archive.neighbours(d("2026-02-03")) == (d("2026-02-01"), d("2026-02-07"))
    assert archive.neighbours(d("2026-02-01")) == (None, d("2026-02-03"))
    assert archive.neighbours(d("2026-02-05")) == (d("2026-02-03"), d("2026-02-07"))
    assert archive.neighbours(d("2026-02-07")) == (d("2026-02-03"), None)


def test_tag_counts_fold_aliases_and_count_items_once(archive: Archive, tmp_path: Path) -> None:
    store(archive, REFERENCE_DIGEST)
    store(archive, day(tmp_path, "2026-02-04", (
        "### 1. Both spellings\n**标签**: [RL] [强化学习] [my own tag]\n\n"
        "### 2. Another spelling\n**标签**: [Reinforcement Learning] [My-Own Tag]\n"
    )))  # fmt: skip
    counts = {entry.tag: entry for entry in archive.tag_counts()}
    assert counts["RL"].count == 4  # items 2 and 7, then two items of the new day
    assert counts["RL"].spellings == ("reinforcementlearning", "rl", "强化学习")
    assert counts["my own tag"].count == 2  # outside the table: as its first item spelled it
    assert "强化学习" not in counts
    totals = [entry.count for entry in counts.values()]
    assert totals == sorted(totals, reverse=True)
