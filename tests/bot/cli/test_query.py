"""``digestbot query``: table and JSON output, paging, errors, empty results."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.archive import Archive
from bot.config import load_settings
from bot.ingest import file_sha256, parse_file
from bot.models import Digest, Item
from tests.conftest import DATA, REFERENCE_DIGEST, ROOT
from tests.support.cli import run as run_cli

SECOND_DAY = DATA / "query_2026-02-04.md"
ROW = re.compile(r"│ (\d{4}-\d\d-\d\d) │\s+(\d+) │")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config whose relative SQLite path lives next to it, with both sample days stored."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "timezone: Asia/Shanghai\narchive:\n  url: sqlite:///archive.db\n", encoding="utf-8"
    )
    archive = Archive.from_settings(load_settings(path, environ={}))
    archive.create_schema()
    for file in (REFERENCE_DIGEST, SECOND_DAY):
        archive.store(parse_file(file).digest, path=str(file), sha256=file_sha256(file))
    archive.close()
    assert (tmp_path / "archive.db").exists()
    return path


def run(config: Path, *args: str) -> int:
    return run_cli(["--config", str(config), "query", *args])


def json_hits(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    assert run(config, *args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_table_lists_hits_newest_first(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "tag:RL") == 0
    output = capsys.readouterr().out
    assert ROW.findall(output) == [("2026-02-04", "1"), ("2026-02-03", "2"), ("2026-02-03", "7")]
    assert "tag:RL — 1-3 of 3" in output
    assert "[强化学习]" in output and "机器之心" in output


def test_json_is_the_item_contract_with_a_date(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hits = json_hits(config, capsys, "QAT")
    assert [(h["date"], h["rank"]) for h in hits] == [("2026-02-03", 2)]
    expected = parse_file(REFERENCE_DIGEST).digest.items[1].model_dump(mode="json")
    assert hits[0] == {**expected, "date": "2026-02-03"}
    assert "line" not in hits[0]


def test_issue_examples_as_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ranks = [h["rank"] for h in json_hits(config, capsys, "source:量子位 date:2026-02-03")]
    assert ranks == [7, 8, 12, 13, 14]
    ranks = [h["rank"] for h in json_hits(config, capsys, "tag:RL date:2026-02-03")]
    assert ranks == [2, 7]


def test_limit_and_offset_page_through(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    every = json_hits(config, capsys, "since:2026-02-01", "--limit", "100")
    page = json_hits(config, capsys, "since:2026-02-01", "--limit", "4", "--offset", "3")
    assert len(every) == 18 and page == every[3:7]


def test_bad_query_fails_with_the_term(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "tga:RL") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    message = " ".join(captured.err.split())
    assert 'error: unknown key "tga" in "tga:RL"; valid keys: tag, source, org' in message


def test_no_results_is_a_clear_message(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "zzz不存在的词") == 0
    assert "No items match zzz不存在的词." in capsys.readouterr().out
    assert json_hits(config, capsys, "zzz不存在的词") == []


def test_today_is_in_the_configured_timezone(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    archive = Archive.from_settings(load_settings(config, environ={}))
    archive.store(
        Digest(date=today, title="t", items=[Item(rank=1, title="今天的条目")]),
        path="t.md",
        sha256="t",
    )
    archive.close()
    hits = json_hits(config, capsys, "date:today")
    assert [(h["date"], h["title"]) for h in hits] == [(today.isoformat(), "今天的条目")]


@pytest.mark.slow
def test_ingest_then_query_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's "done when": ``digestbot ingest`` then ``digestbot query``."""
    config = tmp_path / "config.yaml"
    config.write_text("archive:\n  url: sqlite:///e2e.db\n", encoding="utf-8")
    assert run_cli(["--config", str(config), "ingest", str(REFERENCE_DIGEST)]) == 0
    capsys.readouterr()
    for text, ranks in [
        ("tag:RL", [2, 7]),
        ("QAT", [2]),
        ("source:量子位 date:2026-02-03", [7, 8, 12, 13, 14]),
    ]:
        assert [h["rank"] for h in json_hits(config, capsys, text)] == ranks
    # And once through the real console entry point, in its own process.
    result = subprocess.run(
        [sys.executable, "-m", "bot", "query", "tag:RL", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DIGESTBOT_CONFIG": str(config)},
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [(h["date"], h["rank"]) for h in json.loads(result.stdout)] == [
        ("2026-02-03", 2),
        ("2026-02-03", 7),
    ]


@pytest.mark.parametrize(
    "option", [["--limit", "99999999999999999999"], ["--offset", "99999999999999999999"]]
)
def test_numbers_out_of_range_are_usage_errors(
    config: Path, option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--config", str(config), "query", "tag:RL", *option]) == 2
    err = capsys.readouterr().err
    assert option[0] in err and "Traceback" not in err


def test_too_many_terms_is_a_query_error_not_an_archive_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--config", str(config), "query", " ".join(["x"] * 999)]) == 1
    err = capsys.readouterr().err
    assert "999 terms" in err and "archive" not in err
