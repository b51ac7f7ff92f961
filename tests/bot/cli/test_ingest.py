"""``digestbot ingest``: config sources, explicit paths, summary line and exit codes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.archive import Archive
from tests.support.cli import run

DIGESTS = Path(__file__).resolve().parents[2] / "data" / "digests"


@pytest.fixture
def workdir(tmp_path: Path, reference_digest_path: Path) -> Path:
    """A config whose relative archive and sources live next to it (cwd is elsewhere)."""
    (tmp_path / "digests").mkdir()
    shutil.copy(reference_digest_path, tmp_path / "digests" / "2026-02-03.md")
    (tmp_path / "config.yaml").write_text(
        'archive:\n  url: "sqlite:///archive.db"\nsources:\n  - "digests/*.md"\n',
        encoding="utf-8",
    )
    return tmp_path


def stored_dates(workdir: Path) -> list[dt.date]:
    archive = Archive(f"sqlite:///{workdir / 'archive.db'}")
    try:
        return sorted(archive.dates())
    finally:
        archive.close()


def test_ingest_config_sources_then_again(workdir: Path, capsys) -> None:
    config = str(workdir / "config.yaml")
    assert run(["--config", config, "ingest"]) == 0
    captured = capsys.readouterr()
    assert "1 files: 1 created, 0 updated, 0 unchanged; 14 items; 0 problems" in captured.out
    assert captured.err.endswith("2026-02-03.md: 14 items, 0 dropped; missing: none; 0 problems\n")
    assert captured.err.count("\n") == 1  # one file: no separate total
    assert stored_dates(workdir) == [dt.date(2026, 2, 3)]
    assert run(["--config", config, "ingest"]) == 0
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_explicit_paths_with_a_broken_file(workdir: Path, capsys) -> None:
    broken = DIGESTS / "broken-items-2026-02-06.md"
    code = run(
        ["--config", str(workdir / "config.yaml"), "ingest", str(broken), str(workdir / "digests")]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "2 files: 2 created" in captured.out
    assert "17 items; 5 problems" in captured.out  # 14 + the 3 good items of the broken file
    assert f"{broken}:9: item 2 has no title" in captured.err.splitlines()[0]
    *files, total = captured.err.splitlines()[-3:]
    assert (
        f"{broken}: 3 items, 3 dropped; missing: url 3, summary 3, source 1, "
        "published_at 1, stars 1, tags 2; 5 problems"
    ) in files
    reference = str(workdir / "digests" / "2026-02-03.md")
    assert f"{reference}: 14 items, 0 dropped; missing: none; 0 problems" in files
    assert total.startswith("total: 17 items, 3 dropped; missing: url 3, summary 3,")
    assert stored_dates(workdir) == [dt.date(2026, 2, 3), dt.date(2026, 2, 6)]


def test_unparseable_file_and_missing_pattern(workdir: Path, capsys) -> None:
    nodate = DIGESTS / "no-date.md"
    code = run(["--config", str(workdir / "config.yaml"), "ingest", str(nodate), "nowhere/*.md"])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.err.strip().splitlines()
    assert lines[0] == "nowhere/*.md: no digest files match this path"
    assert lines[1].startswith(f"{nodate}:1: no date in the header")
    assert stored_dates(workdir) == []


def test_progress_bar_goes_to_stderr(workdir: Path, capsys) -> None:
    for day in range(1, 8):
        text = f"# D | 2025-03-0{day}\n\n### 1. [X] 第 {day} 天\n"
        (workdir / "digests" / f"2025-03-0{day}.md").write_text(text, encoding="utf-8")
    assert run(["--config", str(workdir / "config.yaml"), "ingest"]) == 0
    captured = capsys.readouterr()
    assert "8/8" in captured.err
    assert "8 files: 8 created" in captured.out


def test_no_paths_and_no_sources_is_a_config_error(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f'archive:\n  url: "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8")
    assert run(["--config", str(config), "ingest"]) == 1
    assert "sources" in capsys.readouterr().err
