"""``digestbot send --week``, ``render --week`` and ``trends`` through the real CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive, Kind, count_trends
from bot.query import IsoWeek, parse_query
from tests.fakes import FakeSlack
from tests.support.cli import run as run_cli
from tests.support.delivery_kit import fast_timings
from tests.support.delivery_kit import write_config as write_kit_config

WEEK = "2026-W06"
MONDAY = dt.date(2026, 2, 2)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_cli(argv)
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


def write_config(directory: Path, **kwargs: Any) -> Path:
    """The kit's config with test timings (no pacing, quick retries, the default max_age)."""
    return write_kit_config(directory, timings=fast_timings(any_age=False), **kwargs)


def test_send_week_posts_the_rollup_once_per_channel_and_week(
    tmp_path: Path, week_dir: Path, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        sources=[str(week_dir / "*.md")],
        slack_url=fake_slack.api_url,
        channels=[
            {"platform": "slack", "id": "C_WEEK", "digest": "weekly"},
            {"platform": "slack", "id": "C_DAILY"},
        ],
    )
    code, out, err = run(["--config", str(config), "send", "--week", WEEK], capsys)
    assert code == 0, err
    posted = fake_slack.messages("C_WEEK")
    assert len(posted) == 11  # the parent, then one thread reply per picked item
    assert fake_slack.messages("C_DAILY") == []  # on `digest: daily`: no rollup
    assert "Weekly" in posted[0]["text"] or "每周精选" in posted[0]["text"]
    assert posted[0]["metadata"]["event_payload"]["date"] == MONDAY.isoformat()
    archive = Archive(f"sqlite:///{tmp_path / 'archive.db'}")
    record = archive.ledger.status("slack", "C_WEEK", MONDAY, kind=Kind.WEEKLY)
    assert record is not None and record.status.value == "done" and len(record.messages) == 11
    assert archive.ledger.status("slack", "C_WEEK", MONDAY) is None  # no daily row
    archive.close()

    code, out, err = run(["--config", str(config), "send", "--week", WEEK], capsys)
    assert code == 0, err
    assert "already delivered" in out
    assert len(fake_slack.messages("C_WEEK")) == 11


def test_send_week_rejects_a_bad_week_and_date_with_week(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, channels=[{"platform": "console", "id": "t"}])
    code, _, err = run(["--config", str(config), "send", "--week", "2026-W60"], capsys)
    assert code == 2 and "--week: '2026-W60' is not an ISO week" in err
    code, _, err = run(
        ["--config", str(config), "send", "--week", WEEK, "--date", "2026-02-03"], capsys
    )
    assert code == 2 and "--date and --week" in err


def test_render_week_json_is_the_slack_rollup(
    tmp_path: Path, week_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, sources=[], extra={"language": "en"})
    assert run(["--config", str(config), "ingest", str(week_dir)], capsys)[0] == 0
    argv = ["--config", str(config), "render", "--week", WEEK, "--platform", "slack", "--json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    payloads = json.loads(out)
    assert "Weekly rollup 2026-W06" in payloads[0]["text"]
    assert [p.get("thread_ts") for p in payloads[1:]] == ["{parent_ts}"] * 10
    code, out, _ = run([*argv[:-3], "--platform", "telegram", "--json"], capsys)
    telegram = json.loads(out)
    assert "Mon 02-02" in telegram[0]["text"] and "<blockquote expandable>" in telegram[1]["text"]
    code, out, _ = run([*argv[:-3], "--platform", "console"], capsys)
    assert code == 0 and "2 repeats dropped" in out


def test_trend_counts_equal_what_query_counts_per_tag_and_week(
    tmp_path: Path, week_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, sources=[])
    assert run(["--config", str(config), "ingest", str(week_dir)], capsys)[0] == 0
    today = dt.date(2026, 2, 8)
    archive = Archive(f"sqlite:///{tmp_path / 'archive.db'}")
    trends = count_trends(archive, parse_query("since:2026-01-19", today=today), today=today)
    archive.close()
    assert [s.tag for s in trends.series] == ["LLM", "RL", "Agent", "Open Source", "Benchmark"]
    assert trends.weeks == ["2026-W04", "2026-W05", "2026-W06"]
    checked = 0
    for series in trends.series:
        for label, count in zip(trends.weeks, series.counts, strict=True):
            week = IsoWeek.parse(label)
            text = f'tag:"{series.tag}" since:{week.monday} until:{week.sunday}'
            code, out, err = run(
                ["--config", str(config), "query", text, "--json", "--limit", "1000"], capsys
            )
            assert code == 0, err
            assert len(json.loads(out)) == count, (series.tag, label)
            checked += count
    assert checked == sum(s.total for s in trends.series) > 20


def test_trends_cli_writes_the_chart(
    tmp_path: Path, week_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    config = write_config(tmp_path, sources=[], extra={"language": "en"})
    assert run(["--config", str(config), "ingest", str(week_dir)], capsys)[0] == 0
    chart = tmp_path / "chart.png"
    argv = ["--config", str(config), "trends", "tag:RL tag:多模态", "--since", "2026-01-19"]
    code, out, err = run([*argv, "--until", "2026-02-08", "--out", str(chart)], capsys)
    assert code == 0, err
    assert "RL: 8 items (+8 vs 0" in out and "多模态: 2 items (+2 vs 0" in out
    with Image.open(chart) as image:
        assert image.size == (1200, 600)
    code, _, err = run(
        ["--config", str(config), "trends", "--since", "2030-01-01", "--out", str(chart)], capsys
    )
    assert code == 1 and "no chart drawn" in err
