"""Bounds at the parser's entry: long lines cut (and reported where they are), ``data:``
URIs and control characters dropped, oversized files read only up to the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ingest import file_sha256, ingest_paths, limits, parse_file, parse_text
from tests.conftest import REFERENCE_DIGEST

HEADER = "# AI 每日情报 | 2026-02-08\n\n## 📊 今日情报\n\n"


def item(rank: int, body: str = "- point") -> str:
    return (
        f"### {rank}. [Org] Title {rank}\n"
        "**来源**: 机器之心 | **时间**: 2026-02-08 10:00\n"
        "**价值**: 🌟🌟🌟 **标签**: [LLM]\n"
        f"**链接**: https://example.com/{rank}\n\n"
        "#### 🔹 核心技术/实现逻辑\n\n"
        f"{body}\n\n"
    )


def test_a_huge_line_is_cut_located_and_the_other_items_survive() -> None:
    text = HEADER + item(1) + item(2, "- " + "x" * 300_000) + item(3)
    result = parse_text(text, "big.md")
    assert [i.rank for i in result.digest.items] == [1, 2, 3]
    [problem] = result.problems
    huge_line = text.splitlines().index("- " + "x" * 300_000) + 1
    assert (problem.path, problem.line) == ("big.md", huge_line)
    assert "300,002 characters cut to 8,000" in problem.message
    section = result.digest.items[1].sections[0].markdown
    assert len(section) < limits.MAX_LINE_CHARS + 10 and section.endswith(limits.ELLIPSIS)
    assert result.digest.items[1].url == "https://example.com/2"


def test_data_uris_and_control_characters_are_dropped() -> None:
    body = (
        "- ![chart](data:image/png;base64," + "QUJD" * 10_000 + ") and \x1b[2Jclear\x9b31m\n"
        "- [page](data:text/html,<script>x</script>) ok"
    )
    result = parse_text(HEADER + item(1, body), "x.md")
    section = result.digest.items[0].sections[0].markdown
    assert "data:" not in section and "QUJD" not in section
    assert "\x1b" not in section and "\x9b" not in section and "[2Jclear31m" in section
    assert result.problems == []


def test_an_oversized_file_is_read_up_to_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 4_000)
    path = tmp_path / "2026-02-08.md"
    path.write_text(HEADER + "".join(item(rank) for rank in range(1, 40)), encoding="utf-8")
    assert path.stat().st_size > 4_000
    result = parse_file(path)
    assert 5 < len(result.digest.items) < 39
    assert "larger than" in result.problems[-1].message
    assert file_sha256(path) == file_sha256(path)  # hashes what is read, consistently


def test_ingest_reports_the_cut_and_stores_the_day(tmp_path: Path, sqlite_url: str) -> None:
    from bot.archive import Archive

    path = tmp_path / "2026-02-08.md"
    path.write_text(HEADER + item(1, "- " + "y" * 50_000), encoding="utf-8")
    archive = Archive(sqlite_url)
    archive.create_schema()
    summary = ingest_paths(archive, [str(path), str(REFERENCE_DIGEST)], workers=1)
    assert summary.created == 2
    assert [p.line for p in summary.problems] == [12]
    archive.close()
