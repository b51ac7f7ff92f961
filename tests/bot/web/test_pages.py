"""Day, item, latest and 404 pages over real HTTP on a real SQLite archive."""

from __future__ import annotations

from bot.web import CSP
from tests.bot.web.conftest import Client
from tests.bot.web.html import foreign_or_unsafe, items, page, text_of


async def get_page(client: Client, path: str, status: int = 200):  # type: ignore[no-untyped-def]
    response = await client.get(path)
    assert response.status == status, path
    assert response.headers["Content-Type"].startswith("text/html")
    return page(await response.text())


async def test_a_day_shows_every_headline_with_its_sections_folded(client: Client) -> None:
    doc = await get_page(client, "/d/2026-02-03")
    found = items(doc)
    assert [int(a.get("data-rank")) for a in found] == list(range(1, 15))
    first = found[0]
    title = text_of(first.cssselect(".title")[0])
    assert title.startswith("1. [腾讯混元/复旦] CL-bench")
    assert "🌟🌟🌟🌟🌟" in title
    assert first.cssselect(".title a")[0].get("href") == (
        "https://mp.weixin.qq.com/s/NDFL5UvarQmnunNzAJjZCg"
    )
    meta = text_of(first.cssselect(".meta")[0])
    assert "机器之心" in meta and "18:35" in meta
    assert [text_of(t) for t in first.cssselect(".tags a")] == [
        "Benchmark", "Context Learning", "LLM", "研究论文", "推理",
    ]  # fmt: skip
    assert first.cssselect(".tags a")[1].get("href") == "/search?q=tag%3A%22Context+Learning%22"
    assert text_of(first.cssselect(".summary")[0]).startswith("CL-bench 是一个专门用于衡量")
    details = first.cssselect("details")[0]
    assert details.get("open") is None  # folded
    headings = [text_of(h) for h in details.cssselect(".section h3")]
    assert headings[:3] == ["🔹 核心技术/实现逻辑", "📊 实验数据/关键结论", "💡 独家洞察/局限性"]
    assert first.cssselect(".permalink")[0].get("href") == "/d/2026-02-03/1"
    assert doc.cssselect("a[rel=next]")[0].get("href") == "/d/2026-02-05"
    assert not doc.cssselect("a[rel=prev]")  # the first day


async def test_the_front_page_is_the_latest_day(client: Client) -> None:
    doc = await get_page(client, "/")
    assert text_of(doc.cssselect(".day .date")[0]).startswith("2026-02-08")
    assert [int(a.get("data-rank")) for a in items(doc)] == [1, 6]
    assert doc.cssselect("a[rel=prev]")[0].get("href") == "/d/2026-02-05"
    assert not doc.cssselect("a[rel=next]")


async def test_an_item_page_renders_tables_lists_code_and_resources(client: Client) -> None:
    doc = await get_page(client, "/d/2026-02-08/1")
    assert text_of(doc.cssselect("h1.title")[0]).startswith("1. [DeepMind] 公式、表格与嵌套列表")
    body = doc.cssselect(".body")[0]
    table = body.cssselect("table")[0]
    assert [text_of(th) for th in table.cssselect("th")] == ["模型", "FID", "步数"]
    assert [text_of(td) for td in table.cssselect("tbody tr")[0]] == ["pMF", "2.22", "1"]
    assert body.cssselect("ul ol li ul li code")[0].text == "code_span"
    code = body.cssselect("pre code.language-python")[0]
    assert code.text.startswith("### 9. not an item, just code")
    links = {text_of(a): a.get("href") for a in body.cssselect(".section a")}
    assert links["官方博客"] == "https://blog.example.com/pmf"
    assert links["附录"] == "https://example.com/appendix"
    assert "《A Paper Without A Link》" in text_of(body)


async def test_missing_days_items_and_malformed_paths_are_404_pages(client: Client) -> None:
    for path in ("/d/2026-02-04", "/d/2026-13-01", "/d/2026-02-03/15", "/d/2026-02-03/0",
                 "/d/yesterday"):  # fmt: skip
        doc = await get_page(client, path, status=404)
        assert doc.cssselect("section.message")


async def test_an_empty_archive_says_so(serve, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    from bot.archive import Archive

    empty = Archive(sqlite_url)
    empty.create_schema()
    client = await serve(empty)
    doc = await get_page(client, "/")
    assert "归档里还没有简报" in text_of(doc)


async def test_a_hostile_digest_is_shown_as_text_and_links_nowhere_unsafe(
    client: Client,
) -> None:
    for path in ("/d/2026-02-05", "/d/2026-02-05/1"):
        response = await client.get(path)
        html = await response.text()
        doc = page(html)
        assert not doc.cssselect("script, img, iframe, object, embed"), path
        assert not any(el.get("onerror") for el in doc.iter()), path
        assert foreign_or_unsafe(doc) == [], path
        assert "<script>alert(1)</script>" in text_of(doc)  # visible, as text
        assert "javascript:" not in " ".join(str(a.get("href")) for a in doc.iter("a"))
    title = text_of(doc.cssselect("h1.title")[0])
    assert "[Evil <@U123>/Org]" in title and "<!channel>" in title


async def test_every_response_has_the_strict_headers(client: Client) -> None:
    for path in ("/", "/d/2026-02-03/2", "/search?q=x", "/tags", "/feed.atom", "/nowhere",
                 "/static/reader.css"):  # fmt: skip
        response = await client.get(path)
        assert response.headers["Content-Security-Policy"] == CSP, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in CSP and "default-src 'none'" in CSP


async def test_the_pages_follow_the_configured_language(serve, archive) -> None:  # type: ignore[no-untyped-def]
    from bot.config import Settings

    client = await serve(archive, Settings(language="en", web={"enabled": True, "port": 0}))
    doc = await get_page(client, "/d/2026-02-03")
    assert doc.get("lang") == "en"
    assert text_of(doc.cssselect("details summary")[0]) == "Details"
    assert "Source: 机器之心" in text_of(doc.cssselect(".meta")[0])


async def test_an_unreachable_archive_is_a_503_page(serve, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.archive import Archive

    gone = Archive(f"sqlite:///{tmp_path / 'missing' / 'archive.db'}")  # no such folder
    client = await serve(gone)
    for path in ("/", "/d/2026-02-03", "/d/2026-02-03/2", "/search?q=tag:RL", "/tags"):
        doc = await get_page(client, path, status=503)
        assert "暂时无法读取归档" in text_of(doc), path
    feed = await client.get("/feed.atom")
    assert feed.status == 503
    assert (await client.get("/healthz")).status == 503
