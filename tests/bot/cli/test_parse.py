"""``digestbot parse``: the JSON contract, the table, and located problems with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run

DIGESTS = Path(__file__).resolve().parents[2] / "data" / "digests"


def test_json_is_the_design_contract(reference_digest_path: Path, capsys) -> None:
    code = run(["parse", str(reference_digest_path), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    # stderr holds only the one-line coverage summary.
    assert captured.err == (
        f"{reference_digest_path}: 14 items, 0 dropped; missing: none; 0 problems\n"
    )
    data = json.loads(captured.out)
    assert (data["date"], data["title"]) == ("2026-02-03", "AI 每日情报")
    assert [item["rank"] for item in data["items"]] == list(range(1, 15))
    first = data["items"][0]
    assert first["orgs"] == ["腾讯混元", "复旦"]
    assert first["published_at"] == "2026-02-03T18:35:00"
    assert first["tags"] == ["Benchmark", "Context Learning", "LLM", "研究论文", "推理"]
    assert first["resources"][0] == {"title": "项目主页", "url": "http://www.clbench.com"}
    assert "line" not in first
    # ensure_ascii=False and indent=2: Chinese is readable, not \\u-escaped.
    assert '  "title": "AI 每日情报"' in captured.out
    assert "\\u" not in captured.out


def test_table_lists_items(reference_digest_path: Path, capsys) -> None:
    code = run(["parse", str(reference_digest_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "AI 每日情报 | 2026-02-03" in out
    assert "🌟🌟🌟🌟🌟" in out
    assert "腾讯混元 / 复旦" in out
    assert "[Benchmark]" in out  # tags are not eaten as rich markup
    assert "14 items, 0 problems" in out


def test_problems_go_to_stderr_and_exit_nonzero(capsys) -> None:
    path = DIGESTS / "broken-items-2026-02-06.md"
    code = run(["parse", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    # What parsed is still printed.
    assert [item["rank"] for item in json.loads(captured.out)["items"]] == [1, 3, 4]
    lines = captured.err.strip().splitlines()
    assert len(lines) == 6
    assert lines[0].startswith(f"{path}:9: item 2 has no title")
    assert lines[4].startswith(f"{path}:27: duplicate item rank 3")
    assert lines[5].startswith(f"{path}: 3 items, 3 dropped; missing: url 3, summary 3,")
    assert lines[5].endswith("; 5 problems")


def test_no_date_is_an_error_naming_file_and_line(capsys) -> None:
    path = DIGESTS / "no-date.md"
    code = run(["parse", str(path)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert f"{path}:1:" in captured.err
    assert "no date" in captured.err


@pytest.mark.parametrize("name", ["bom-crlf-2026-02-04.md", "rich-markdown-2026-02-08.md"])
def test_odd_but_valid_files_exit_zero(name: str, capsys) -> None:
    assert run(["parse", str(DIGESTS / name), "--json"]) == 0
    assert capsys.readouterr().err.count("\n") == 1  # the coverage line only


def test_coverage_names_missing_fields_and_fallbacks(capsys) -> None:
    path = DIGESTS / "layouts" / "placeholders-2026-03-14.md"
    assert run(["parse", str(path), "--json"]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"{path}: 2 items, 0 dropped; missing: stars 1, tags 1, orgs 1; "
        "1 pipeline fallbacks; 0 problems\n"
    )


def test_a_dropped_item_exits_nonzero_with_its_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "2026-03-20.md"
    path.write_text("# D\n\n### 1. 好的\n**来源**: A\n\n### 没有序号\n**来源**: B\n")
    assert run(["parse", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:6: item heading '没有序号' does not start with a number")
    assert err[0].endswith("this item is skipped")
    missing = "url 1, summary 1, published_at 1, stars 1, tags 1, orgs 1"
    assert err[1] == f"{path}: 1 items, 1 dropped; missing: {missing}; 1 problems"


def test_formats_from_the_config_are_used(tmp_path: Path, capsys) -> None:
    (tmp_path / "config.yaml").write_text(
        'formats:\n  layouts:\n    "*.md": unnumbered\n  labels:\n    出处: source\n',
        encoding="utf-8",
    )
    path = tmp_path / "2026-03-20.md"
    path.write_text("# D\n\n### 1. 好的\n出处: A\n\n### 没有序号\n出处: B\n")
    code = run(["--config", str(tmp_path / "config.yaml"), "parse", str(path), "--json"])
    items = json.loads(capsys.readouterr().out)["items"]
    assert code == 0
    assert [(i["title"], i["source"]) for i in items] == [("1. 好的", "A"), ("没有序号", "B")]
