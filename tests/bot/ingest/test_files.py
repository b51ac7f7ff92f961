"""Ingest: path expansion, error collection, and idempotent storage in the real archive."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from bot.archive import Archive
from bot.archive.schema import digests, item_tags, items
from bot.errors import ArchiveError
from bot.ingest import expand_paths, ingest_paths
from bot.models import Digest
from bot.query import parse_query

DIGESTS = Path(__file__).resolve().parents[2] / "data" / "digests"


def small_digest(day: dt.date, n_items: int = 2, title: str = "条目") -> str:
    body = "".join(
        f"### {rank}. [Org] {title} {rank}\n**来源**: 量子位\n**标签**: [LLM]\n\n---\n\n"
        for rank in range(1, n_items + 1)
    )
    return f"# AI 每日情报 | {day.isoformat()}\n\n{body}"


def write_days(folder: Path, count: int, start: dt.date = dt.date(2025, 1, 1)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset in range(count):
        day = start + dt.timedelta(days=offset)
        path = folder / f"{day.isoformat()}.md"
        path.write_text(small_digest(day), encoding="utf-8")
        paths.append(path)
    return paths


class RecordingArchive:
    """A stand-in used ONLY for expansion/error-collection tests; storage is tested for real
    below. Mimics the Archive contract: keyed by date, compares the file hash."""

    def __init__(self, fail_on: set[dt.date] | None = None) -> None:
        self.stored: dict[dt.date, tuple[Digest, str, str]] = {}
        self.calls: list[str] = []
        self.fail_on = fail_on or set()

    def store(self, digest: Digest, *, path: str, sha256: str) -> str:
        self.calls.append(path)
        if digest.date in self.fail_on:
            raise ArchiveError("database is locked")
        previous = self.stored.get(digest.date)
        self.stored[digest.date] = (digest, path, sha256)
        if previous is None:
            return "created"
        return "unchanged" if previous[2] == sha256 else "updated"


# -- expansion ------------------------------------------------------------------------------


def test_expand_files_dirs_and_globs_sorted_and_deduplicated(tmp_path: Path) -> None:
    a = write_days(tmp_path / "a", 2, dt.date(2025, 1, 1))
    b = write_days(tmp_path / "b" / "deep", 2, dt.date(2025, 2, 1))
    (tmp_path / "b" / "notes.txt").write_text("not markdown")
    files, missing = expand_paths(
        [
            str(b[1]),
            str(tmp_path / "a"),
            str(tmp_path / "b"),
            str(tmp_path / "*" / "*.md"),
            str(a[0]),
        ]
    )
    assert missing == []
    assert files == sorted([*a, *b], key=str)


def test_expand_relative_to_base_and_recursive_glob(tmp_path: Path) -> None:
    made = write_days(tmp_path / "digests" / "2025", 3)
    files, missing = expand_paths(["digests/**/*.md"], base=tmp_path)
    assert missing == []
    assert [f.resolve() for f in files] == [p.resolve() for p in made]


def test_pattern_matching_nothing_is_reported_by_name(tmp_path: Path) -> None:
    write_days(tmp_path, 1)
    archive = RecordingArchive()
    summary = ingest_paths(
        archive, [str(tmp_path / "*.md"), "nowhere/*.md", str(tmp_path / "x.md")]
    )
    assert summary.files == 1 and summary.created == 1
    assert [p.path for p in summary.errors] == ["nowhere/*.md", str(tmp_path / "x.md")]
    assert all("no digest files match" in p.message for p in summary.errors)
    assert not summary.ok


# -- error collection -----------------------------------------------------------------------


def test_bad_files_do_not_stop_the_others(tmp_path: Path) -> None:
    write_days(tmp_path, 3)
    for name in ("no-date.md", "not-utf8-2026-02-09.md", "broken-items-2026-02-06.md"):
        shutil.copy(DIGESTS / name, tmp_path / name)
    archive = RecordingArchive()
    summary = ingest_paths(archive, [str(tmp_path)])
    assert summary.files == 6
    # 3 good files + the broken-items file (its good items are stored).
    assert summary.created == 4
    assert dt.date(2026, 2, 6) in archive.stored
    assert [i.rank for i in archive.stored[dt.date(2026, 2, 6)][0].items] == [1, 3, 4]
    assert summary.items == 3 * 2 + 3
    failed = sorted((Path(p.path).name, p.line) for p in summary.errors)
    assert failed == [("no-date.md", 1), ("not-utf8-2026-02-09.md", 3)]
    broken = [p for p in summary.problems if p.path.endswith("broken-items-2026-02-06.md")]
    assert [p.line for p in broken] == [9, 15, 21, 23, 27]
    assert len(summary.problems) == 2 + 5
    assert not summary.ok


def test_storage_failure_is_collected(tmp_path: Path) -> None:
    write_days(tmp_path, 3)
    archive = RecordingArchive(fail_on={dt.date(2025, 1, 2)})
    summary = ingest_paths(archive, [str(tmp_path)])
    assert summary.created == 2
    (error,) = summary.errors
    assert error.path.endswith("2025-01-02.md")
    assert "cannot store" in error.message and "database is locked" in error.message


def test_two_files_for_one_date_are_a_problem(tmp_path: Path) -> None:
    first = write_days(tmp_path / "a", 1)[0]
    second = tmp_path / "b" / "copy.md"
    second.parent.mkdir()
    second.write_text(small_digest(dt.date(2025, 1, 1), title="另一份"), encoding="utf-8")
    archive = RecordingArchive()
    summary = ingest_paths(archive, [str(tmp_path)])
    assert archive.calls == [str(first)]
    (error,) = summary.errors
    assert error.path == str(second)
    assert f"same date 2025-01-01 as {first}" in error.message


def test_progress_bar_only_for_many_files(tmp_path: Path) -> None:
    write_days(tmp_path, 6)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    ingest_paths(RecordingArchive(), [str(tmp_path)], progress=True, console=console)
    assert "6/6" in buffer.getvalue()
    few = io.StringIO()
    ingest_paths(
        RecordingArchive(),
        [str(tmp_path / "2025-01-01.md")],
        progress=True,
        console=Console(file=few, force_terminal=True),
    )
    assert few.getvalue() == ""


def test_parallel_parsing_matches_serial(tmp_path: Path) -> None:
    write_days(tmp_path, 70)
    (tmp_path / "no-date.md").write_text("# 没有日期\n")
    serial, parallel = RecordingArchive(), RecordingArchive()
    one = ingest_paths(serial, [str(tmp_path)], workers=0)
    two = ingest_paths(parallel, [str(tmp_path)], workers=2)
    assert serial.calls == parallel.calls and len(serial.calls) == 70
    assert one == two
    assert [p.path for p in two.errors] == [str(tmp_path / "no-date.md")]


# -- the real archive (SQLite file and PostgreSQL) ------------------------------------------


@pytest.fixture
def archive(db_url: str):
    archive = Archive(db_url)
    archive.create_schema()
    yield archive
    archive.close()


def _count(archive: Archive, table) -> int:
    with archive.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_ingest_twice_is_idempotent(archive: Archive, reference_digest_path: Path) -> None:
    first = ingest_paths(archive, [str(reference_digest_path)])
    assert (first.files, first.created, first.updated, first.unchanged) == (1, 1, 0, 0)
    assert first.items == 14 and first.ok
    counts = (_count(archive, digests), _count(archive, items), _count(archive, item_tags))
    assert counts[:2] == (1, 14)
    second = ingest_paths(archive, [str(reference_digest_path)])
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    assert (_count(archive, digests), _count(archive, items), _count(archive, item_tags)) == counts
    stored = archive.digest(dt.date(2026, 2, 3))
    assert stored is not None and len(stored.items) == 14
    assert stored.items[0].orgs == ["腾讯混元", "复旦"]


def test_edited_file_updates_the_day(
    archive: Archive, reference_digest_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "2026-02-03.md"
    shutil.copy(reference_digest_path, copy)
    assert ingest_paths(archive, [str(copy)]).created == 1
    text = copy.read_text(encoding="utf-8")
    copy.write_text(text.replace("[Meta] Vibe Coding 实践", "[Meta] Vibe Coding 新标题"), "utf-8")
    summary = ingest_paths(archive, [str(copy)])
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    stored = archive.digest(dt.date(2026, 2, 3))
    assert stored is not None
    assert stored.items[5].title.startswith("Vibe Coding 新标题")
    assert _count(archive, items) == 14
    assert ingest_paths(archive, [str(copy)]).unchanged == 1


def test_broken_file_among_good_ones(archive: Archive, tmp_path: Path) -> None:
    write_days(tmp_path, 2)
    shutil.copy(DIGESTS / "no-date.md", tmp_path / "no-date.md")
    shutil.copy(DIGESTS / "broken-items-2026-02-06.md", tmp_path / "2026-02-06.md")
    summary = ingest_paths(archive, [str(tmp_path)])
    assert summary.created == 3 and not summary.ok
    assert sorted(archive.dates()) == [
        dt.date(2025, 1, 1),
        dt.date(2025, 1, 2),
        dt.date(2026, 2, 6),
    ]
    day = archive.digest(dt.date(2026, 2, 6))
    assert day is not None and [i.rank for i in day.items] == [1, 3, 4]
    assert [Path(p.path).name for p in summary.errors] == ["no-date.md"]
    assert len(summary.problems) == 1 + 5


# -- bulk storing (Archive.store_many) ---------------------------------------------------------


class PerFile:
    """The archive without ``store_many``: ingest stores file by file."""

    def __init__(self, archive: Archive) -> None:
        self.store = archive.store


def write_reference_days(folder: Path, reference: Path, count: int) -> None:
    """``count`` copies of the reference digest on different days, titles varied by day."""
    folder.mkdir(parents=True, exist_ok=True)
    text = reference.read_text(encoding="utf-8")
    for offset in range(count):
        day = dt.date(2026, 2, 3) - dt.timedelta(days=offset)
        body = text.replace("2026-02-03", day.isoformat()).replace("QAT", f"QAT{offset % 5}")
        (folder / f"{day.isoformat()}.md").write_text(body, encoding="utf-8")


def _answers(archive: Archive) -> list[tuple[list[tuple[dt.date, int]], int]]:
    found = []
    for text in ["QAT", "QAT3", "强化", "tag:RL", "-tag:Agent source:量子位", "智能体 stars:4"]:
        query = parse_query(text, today=dt.date(2026, 2, 3))
        hits = archive.search(query, limit=1000)
        found.append(([(h.date, h.rank) for h in hits], archive.count(query)))
    return found


def test_bulk_ingest_equals_file_by_file(
    db_url: str, tmp_path: Path, reference_digest_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch of 210 items (its text indexed in one statement), then one of 70 (by trigger).
    write_reference_days(tmp_path / "d", reference_digest_path, 20)
    bulk = Archive(db_url)
    bulk.create_schema()
    calls: list[int] = []
    store_many = bulk.store_many

    def counting(entries: list[tuple[Digest, str, str]]) -> list[str]:
        calls.append(len(entries))
        return store_many(entries)

    monkeypatch.setattr(bulk, "store_many", counting)
    summary = ingest_paths(bulk, [str(tmp_path / "d")], workers=0, batch_size=15)
    assert (summary.files, summary.created, summary.items, summary.ok) == (20, 20, 280, True)
    assert calls == [15, 5]
    single = Archive(f"sqlite:///{tmp_path / 'single.db'}")
    single.create_schema()
    one = ingest_paths(PerFile(single), [str(tmp_path / "d")], workers=0)  # type: ignore[arg-type]
    assert one == summary
    assert _answers(bulk) == _answers(single)
    assert ingest_paths(bulk, [str(tmp_path / "d")], workers=0).unchanged == 20
    single.close()
    bulk.close()


class FailingBatches(Archive):
    """A real archive whose database refuses one day (as a broken row or lock would)."""

    bad = dt.date(2025, 1, 3)

    def store_many(self, entries):  # type: ignore[no-untyped-def]
        if any(digest.date == self.bad for digest, _, _ in entries):
            raise ArchiveError("archive x: cannot store 7 files: CHECK constraint failed")
        return super().store_many(entries)

    def store(self, digest: Digest, *, path: str, sha256: str):  # type: ignore[no-untyped-def]
        if digest.date == self.bad:
            raise ArchiveError(f"archive x: cannot store {path}: CHECK constraint failed")
        return super().store(digest, path=path, sha256=sha256)


def test_a_failed_batch_is_stored_file_by_file(db_url: str, tmp_path: Path) -> None:
    write_days(tmp_path, 10)
    archive = FailingBatches(db_url)
    archive.create_schema()
    summary = ingest_paths(archive, [str(tmp_path)], workers=0, batch_size=4)
    assert (summary.files, summary.created, summary.items) == (10, 9, 18)
    (error,) = summary.errors
    assert error.path.endswith("2025-01-03.md") and "CHECK constraint failed" in error.message
    assert len(archive.dates()) == 9 and FailingBatches.bad not in archive.dates()
    archive.close()


def test_formats_json_files_and_coverage_reach_the_archive(
    archive: Archive, tmp_path: Path, reference_digest_path: Path
) -> None:
    """A folder of markdown and contract JSON, a layout from ``formats``, new columns stored."""
    from bot.ingest import Formats, parse_file

    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "2026-03-20.md").write_text(
        "# D\n\n## 🔬 研究\n\n### 1. 第一条\n出处: 某媒体\n评分: 8.3/10\n\n"
        "## 🚀 产品\n\n### 2024 回顾\n出处: 另一家\n\n> 文章摘要生成失败。原标题：2024 回顾\n",
        encoding="utf-8",
    )
    reference = parse_file(reference_digest_path).digest
    (folder / "2026-02-03.json").write_text(reference.model_dump_json(), encoding="utf-8")
    formats = Formats.of({"feed/*.md": "unnumbered"}, {"出处": "source"}, base=tmp_path)
    summary = ingest_paths(archive, [str(folder)], formats=formats, workers=0)
    assert (summary.problems, summary.created, summary.items) == ([], 2, 16)
    md = summary.coverage[str(folder / "2026-03-20.md")]
    assert (md.items, md.dropped, md.fallbacks, md.missing["url"]) == (2, 0, 1, 2)
    assert summary.total.items == 16
    first, second = archive.digest(dt.date(2026, 3, 20)).items  # type: ignore[union-attr]
    assert (first.title, first.source, first.category) == ("1. 第一条", "某媒体", "研究")
    assert (first.score, first.score_scale, first.stars) == (8.3, 10, 4)
    assert (second.category, second.pipeline_failed, second.summary) == ("产品", True, None)
    stored = archive.digest(dt.date(2026, 2, 3))
    assert stored is not None and stored.model_dump_json() == reference.model_dump_json()
    hits = archive.search(parse_query("category:产品", today=dt.date(2026, 3, 20)))
    assert [(h.title, h.pipeline_failed) for h in hits] == [("2024 回顾", True)]
