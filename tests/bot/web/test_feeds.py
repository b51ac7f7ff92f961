"""Atom feeds read back by feedparser; conditional requests answered 304."""

from __future__ import annotations

import feedparser
import lxml.etree
import lxml.html

from bot.archive import Archive
from bot.web import FEED_SIZE
from tests.bot.web.conftest import Client, fill
from tests.bot.web.html import foreign_or_unsafe

BASE = "https://reader.example"
ATOM = "{http://www.w3.org/2005/Atom}"


async def fetch(client: Client, query: str | None = None, **headers: str):  # type: ignore[no-untyped-def]
    params = {"q": query} if query is not None else {}
    response = await client.get("/feed.atom", params=params, headers=headers)
    return response, await response.read()


async def test_the_feed_is_valid_atom_with_stable_entries(client: Client) -> None:
    response, body = await fetch(client)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "digestbot"
    assert {link.rel: link.href for link in feed.feed.links} == {
        "alternate": f"{BASE}/",
        "self": f"{BASE}/feed.atom",
    }
    entries = feed.entries
    assert len(entries) == 17 <= FEED_SIZE  # every item of the three days, newest first
    assert entries[0].id == "urn:digestbot:item:2026-02-08:1"
    ids = [entry.id for entry in entries]
    assert len(set(ids)) == len(ids)
    rl = next(e for e in entries if e.id == "urn:digestbot:item:2026-02-03:2")
    assert rl.link == f"{BASE}/d/2026-02-03/2"
    assert rl.title.startswith("2. [SGLang/slime] INT4 量化感知训练")
    assert rl.updated_parsed[:5] == (2026, 2, 3, 10, 35)  # 18:35 in Asia/Shanghai
    assert rl.summary.startswith("受 Kimi K2 启发")
    assert [tag.term for tag in rl.tags] == ["强化学习", "QAT", "模型压缩", "SGLang", "工程实践"]
    assert "INT4" in rl.content[0].value
    _, again = await fetch(client)
    assert [e.id for e in feedparser.parse(again).entries] == ids


async def test_a_query_feed_has_the_matching_items(client: Client) -> None:
    response, body = await fetch(client, "tag:RL")
    assert response.status == 200
    feed = feedparser.parse(body)
    assert not feed.bozo
    assert [e.id for e in feed.entries] == [
        "urn:digestbot:item:2026-02-03:2",
        "urn:digestbot:item:2026-02-03:7",
    ]
    assert feed.feed.title == "digestbot: tag:RL"
    self_link = next(link.href for link in feed.feed.links if link.rel == "self")
    assert self_link == f"{BASE}/feed.atom?q=tag%3ARL"


async def test_a_bad_query_feed_is_a_400_naming_the_term(client: Client) -> None:
    response, body = await fetch(client, "tga:RL")
    assert response.status == 400
    assert 'unknown key "tga"' in body.decode()


async def test_conditional_requests_get_304_until_the_archive_changes(
    client: Client, archive: Archive, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    first, _ = await fetch(client, "tag:RL")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    second, body = await fetch(client, "tag:RL", **{"If-None-Match": etag})
    assert (second.status, body) == (304, b"")
    assert second.headers["ETag"] == etag
    third, _ = await fetch(client, "tag:RL", **{"If-Modified-Since": modified})
    assert third.status == 304
    other, _ = await fetch(client, "tag:Agent", **{"If-None-Match": etag})
    assert other.status == 200  # another query is another document
    stale, _ = await fetch(client, "tag:RL", **{"If-None-Match": '"something-else"'})
    assert stale.status == 200
    new = tmp_path / "2026-02-11.md"
    new.write_text("# AI 每日情报 | 2026-02-11\n\n### 1. New RL item\n**标签**: [RL]\n", "utf-8")
    fill(archive, (new,))
    changed, body = await fetch(client, "tag:RL", **{"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert feedparser.parse(body).entries[0].id == "urn:digestbot:item:2026-02-11:1"


async def test_hostile_content_stays_escaped_inside_the_feed(client: Client) -> None:
    _, body = await fetch(client, "date:2026-02-05")
    root = lxml.etree.fromstring(body)
    (entry,) = root.findall(f"{ATOM}entry")
    content = lxml.html.fromstring(entry.find(f"{ATOM}content").text)
    assert not content.cssselect("script, img, iframe")
    assert not any(name.startswith("on") for el in content.iter() for name in el.attrib)
    assert foreign_or_unsafe(content) == []
    assert '<script>alert("x")</script>' in content.text_content()  # shown, as text
    links = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert all(href.startswith(("https://", "http://")) for href in links)


async def test_without_base_url_links_use_the_request_origin(archive: Archive, serve) -> None:  # type: ignore[no-untyped-def]
    client = await serve(archive)
    _, body = await fetch(client)
    feed = feedparser.parse(body)
    origin = str(client.make_url("/")).rstrip("/")
    assert feed.entries[0].link == f"{origin}/d/2026-02-08/1"
