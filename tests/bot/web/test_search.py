"""/search and /tags on both databases: the query language of /ai, newest first, paged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.archive import Archive
from bot.chat import CommandCore, CommandRequest, ErrorReply
from bot.config import Settings
from bot.web import Reader, ReaderRoutes, add_reader
from formatters.templates import Templates
from tests.bot.web.conftest import fill
from tests.bot.web.html import items, page, text_of


@pytest.fixture
def any_archive(db_url: str) -> Iterator[Archive]:
    archive = fill(Archive(db_url))
    yield archive
    archive.close()


def hits(doc) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [(a.get("data-date"), int(a.get("data-rank"))) for a in items(doc)]


async def test_tag_rl_finds_items_2_and_7(any_archive: Archive, serve) -> None:  # type: ignore[no-untyped-def]
    client = await serve(any_archive)
    response = await client.get("/search", params={"q": "tag:RL"})
    assert response.status == 200
    doc = page(await response.text())
    assert hits(doc) == [("2026-02-03", 2), ("2026-02-03", 7)]
    assert doc.cssselect("input[name=q]")[0].get("value") == "tag:RL"
    assert "1–2" in text_of(doc.cssselect(".found")[0])


async def test_results_are_newest_first_and_paged(any_archive: Archive) -> None:
    reader = Reader(any_archive, Templates("en"), page_size=5)
    app = web.Application()
    add_reader(app, ReaderRoutes(reader, base_url=None))
    async with TestClient(TestServer(app)) as client:
        seen: list[tuple[str, int]] = []
        for number in (1, 2, 3, 4):
            response = await client.get("/search", params={"q": "since:2026-01-01", "page": number})
            doc = page(await response.text())
            seen += hits(doc)
            assert f"{number} / 4" in text_of(doc.cssselect(".pager")[0])
            older = doc.cssselect(".pager a[rel=next]")
            assert bool(older) == (number < 4)
        assert len(seen) == 17 == len(set(seen))
        assert seen[:3] == [("2026-02-08", 1), ("2026-02-08", 6), ("2026-02-05", 1)]
        dates = [date for date, _ in seen]
        assert dates == sorted(dates, reverse=True)
        first = await client.get("/search", params={"q": "since:2026-01-01"})
        assert "Older" in text_of(page(await first.text()).cssselect(".pager")[0])


async def test_a_bad_query_shows_the_message_chat_gives(any_archive: Archive, serve) -> None:  # type: ignore[no-untyped-def]
    client = await serve(any_archive)
    core = CommandCore(any_archive, Settings(), clock=lambda: dt.datetime.now(dt.UTC))
    for text in ("tga:RL", "stars:9", 'tag:"RL', "since:2026-02-30"):
        chat = core.handle(CommandRequest("slack", "C1", "U1", True, text))
        assert isinstance(chat.reply, ErrorReply)
        response = await client.get("/search", params={"q": text})
        assert response.status == 400
        doc = page(await response.text())
        assert text_of(doc.cssselect(".error .message")[0]) == " ".join(chat.reply.message.split())


async def test_no_query_explains_the_keys_and_no_match_says_so(any_archive: Archive, serve) -> None:  # type: ignore[no-untyped-def]
    client = await serve(any_archive)
    doc = page(await (await client.get("/search")).text())
    keys = [text_of(code) for code in doc.cssselect(".help code")]
    assert keys == ["tag:", "source:", "org:", "category:", "date:", "since:", "until:", "stars:"]
    doc = page(await (await client.get("/search", params={"q": "不存在的词"})).text())
    assert doc.cssselect(".empty") and not items(doc)


async def test_tags_are_counted_with_aliases_folded(archive: Archive, serve, tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "2026-02-10.md"
    extra.write_text(
        "# AI 每日情报 | 2026-02-10\n\n### 1. One item, two spellings of RL\n"
        "**来源**: 量子位 | **标签**: [RL] [Reinforcement Learning] [Brand New Tag]\n",
        encoding="utf-8",
    )
    fill(archive, (extra,))
    client = await serve(archive)
    doc = page(await (await client.get("/tags")).text())
    counts = {
        text_of(li.cssselect("a")[0]): int(text_of(li.cssselect(".count")[0]))
        for li in doc.cssselect(".tag-cloud li")
    }
    assert counts["RL"] == 3  # items 2 and 7 (强化学习) and the new one, counted once
    assert "强化学习" not in counts and "Reinforcement Learning" not in counts
    assert counts["Brand New Tag"] == 1
    assert counts["AI Coding"] == 3  # 自动编程 once, AI 编程 on two days
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    link = next(a for a in doc.cssselect(".tag-cloud a") if text_of(a) == "Brand New Tag")
    followed = page(await (await client.get(link.get("href"))).text())
    assert hits(followed) == [("2026-02-10", 1)]
