"""Stable-file ingest and skipping unchanged files, on a real SQLite archive."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

import bot.ingest.files as files_module
from bot.archive import Archive
from bot.ingest import ingest_paths
from tests.bot.ingest.test_files import small_digest, write_days

DAY = dt.date(2025, 1, 1)


@pytest.fixture
def archive(db_url: str) -> Archive:
    archive = Archive(db_url)
    archive.create_schema()
    yield archive
    archive.close()


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_a_file_still_being_written_waits_then_every_item_is_stored_once(
    tmp_path: Path, archive: Archive
) -> None:
    path = tmp_path / f"{DAY}.md"
    path.write_text(small_digest(DAY, 5)[:-400], encoding="utf-8")  # half written, just now
    settle = dt.timedelta(seconds=30)
    summary = ingest_paths(archive, [str(path)], settle=settle)
    assert summary.unsettled == [str(path)] and archive.digest(DAY) is None
    path.write_text(small_digest(DAY, 5), encoding="utf-8")
    age(path, 31)  # nothing changed for sources_settle
    summary = ingest_paths(archive, [str(path)], settle=settle)
    assert summary.unsettled == [] and summary.created == 1
    digest = archive.digest(DAY)
    assert digest is not None and [i.rank for i in digest.items] == [1, 2, 3, 4, 5]


def test_unchanged_files_are_neither_read_nor_parsed_again(
    tmp_path: Path, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_days(tmp_path / "d", 5, DAY)
    first = ingest_paths(archive, [str(tmp_path / "d")], workers=0)
    assert first.created == 5
    parsed: list[Path] = []
    parse = files_module._parse_one

    def counting(path: Path, *args: object) -> object:
        parsed.append(path)
        return parse(path, *args)

    monkeypatch.setattr(files_module, "_parse_one", counting)
    again = ingest_paths(archive, [str(tmp_path / "d")], workers=0)
    assert (again.unchanged, again.created, again.updated, parsed) == (5, 0, 0, [])
    os.utime(paths[0])  # touched, same bytes: hashed, not parsed
    paths[1].write_text(small_digest(DAY + dt.timedelta(days=1), 3), encoding="utf-8")
    third = ingest_paths(archive, [str(tmp_path / "d")], workers=0)
    assert parsed == [paths[1]]
    assert (third.unchanged, third.updated) == (4, 1)
    fourth = ingest_paths(archive, [str(tmp_path / "d")], workers=0)
    assert fourth.unchanged == 5 and parsed == [paths[1]]


def test_a_path_holds_one_day_when_its_header_date_is_edited(
    tmp_path: Path, archive: Archive
) -> None:
    path = tmp_path / "today.md"
    path.write_text(small_digest(DAY), encoding="utf-8")
    ingest_paths(archive, [str(path)])
    edited = DAY + dt.timedelta(days=1)
    path.write_text(small_digest(edited), encoding="utf-8")
    assert ingest_paths(archive, [str(path)]).ok
    assert archive.dates() == [edited]


def test_a_name_and_header_that_disagree_are_refused_unless_the_config_says(
    tmp_path: Path, archive: Archive
) -> None:
    path = tmp_path / "2025-01-02.md"
    path.write_text(small_digest(DAY), encoding="utf-8")
    summary = ingest_paths(archive, [str(path)])
    (problem,) = summary.errors
    assert str(problem).startswith(f"{path}:1:")
    assert "2025-01-02" in problem.message and "2025-01-01" in problem.message
    assert archive.dates() == []
    assert ingest_paths(archive, [str(path)], date_conflict="header").ok
    assert archive.dates() == [DAY]
    assert ingest_paths(archive, [str(path)], date_conflict="name").ok
    assert archive.dates() == [dt.date(2025, 1, 2)]  # the path holds one day


def test_a_date_far_ahead_is_refused_with_its_location(tmp_path: Path, archive: Archive) -> None:
    typo = dt.date(2026, 1, 1)
    path = tmp_path / "typo.md"
    path.write_text(small_digest(typo), encoding="utf-8")
    summary = ingest_paths(archive, [str(path)], not_after=DAY + dt.timedelta(days=1))
    (problem,) = summary.errors
    assert str(problem).startswith(f"{path}:1:") and "ahead" in problem.message
    assert archive.dates() == []
