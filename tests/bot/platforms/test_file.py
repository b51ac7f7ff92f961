"""FileTransport: JSONL audit lines that can be read back, so resumes never write twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels import Channel
from bot.errors import PermanentDeliveryError
from bot.ingest import parse_file
from bot.platforms.file import FileTransport
from tests.support.delivery_kit import DAY, REFERENCE


def channel(path: str | None) -> Channel:
    return Channel("file", "audit", "0 9 * * *", "UTC", path=path)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_appends_the_digest_as_json_lines(tmp_path: Path) -> None:
    transport = FileTransport(base_dir=tmp_path)
    audit = channel("out/audit.jsonl")  # relative to the config's folder
    digest = parse_file(REFERENCE).digest
    payloads = transport.render(digest, None)
    for index, payload in enumerate(payloads):
        await transport.send(audit, index, payload, digest_date=DAY)
    written = lines(tmp_path / "out" / "audit.jsonl")
    assert [(w["channel"], w["date"], w["index"]) for w in written] == [
        ("audit", "2026-02-03", i) for i in range(15)
    ]
    assert written[0]["payload"] == {
        "kind": "digest",
        "date": "2026-02-03",
        "title": "AI 每日情报",
        "items": 14,
    }
    assert [w["payload"]["rank"] for w in written[1:]] == list(range(1, 15))
    assert written[1]["payload"]["tags"] == digest.items[0].tags
    assert transport.describe(payloads[1]).startswith("item 1: CL-bench")


async def test_find_posted_reads_the_file_back(tmp_path: Path) -> None:
    transport = FileTransport(base_dir=tmp_path)
    audit = channel(str(tmp_path / "audit.jsonl"))
    assert await transport.find_posted(audit, DAY, 0) is None
    await transport.send(audit, 0, {"kind": "digest"}, digest_date=DAY)
    assert await transport.find_posted(audit, DAY, 0) == "2026-02-03#0"
    assert await transport.find_posted(audit, DAY, 1) is None
    other = Channel("file", "other", "0 9 * * *", "UTC", path=audit.path)
    assert await transport.find_posted(other, DAY, 0) is None


async def test_a_rollup_and_a_digest_of_the_same_date_are_told_apart(tmp_path: Path) -> None:
    """A Monday's digest and that week's rollup share the date: the kind keys them."""
    path = tmp_path / "audit.jsonl"
    # A line written before kinds were recorded is a daily one.
    path.write_text('{"channel": "audit", "date": "2026-02-03", "index": 0}\n', encoding="utf-8")
    transport = FileTransport(base_dir=tmp_path)
    daily, weekly = channel(str(path)), channel(str(path)).as_weekly()
    assert await transport.find_posted(daily, DAY, 0) == "2026-02-03#0"
    assert await transport.find_posted(weekly, DAY, 0) is None
    sent = await transport.send(weekly, 0, {"kind": "digest"}, digest_date=DAY)
    assert sent == await transport.find_posted(weekly, DAY, 0) == "2026-02-03/weekly#0"
    assert await transport.find_posted(weekly, DAY, 1) is None
    assert [w.get("kind") for w in lines(path)] == [None, "weekly"]


async def test_a_torn_last_line_from_a_crash_does_not_corrupt_the_next(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"channel": "audit", "date": "2026-02-03", "ind', encoding="utf-8")
    transport = FileTransport(base_dir=tmp_path)
    await transport.send(channel(str(path)), 0, {"kind": "digest"}, digest_date=DAY)
    raw = path.read_text(encoding="utf-8").splitlines()
    assert len(raw) == 2
    assert json.loads(raw[1])["index"] == 0
    assert await transport.find_posted(channel(str(path)), DAY, 0) == "2026-02-03#0"


async def test_a_file_channel_needs_a_path(tmp_path: Path) -> None:
    with pytest.raises(PermanentDeliveryError, match=r"channels\[\]\.path is required"):
        await FileTransport(base_dir=tmp_path).send(channel(None), 0, {}, digest_date=DAY)
