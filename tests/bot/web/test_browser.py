"""The reader in a real browser: what a person sees, and that hostile content stays inert."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import ConsoleMessage, Page, expect

from bot.archive import Archive
from tests.bot.web.browser import CHROMIUM, chromium
from tests.bot.web.conftest import Client, Serve, fill
from tests.conftest import DATA, REFERENCE_DIGEST

pytestmark = [
    pytest.mark.slow,
    # In CI (.ci/run installs it) a missing browser fails the tests instead of skipping them.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]

WEB_HOSTILE = DATA / "web_hostile-2026-02-06.md"


@pytest.fixture
async def reader(sqlite_url: str, serve: Serve) -> AsyncIterator[Client]:
    archive = fill(Archive(sqlite_url), (REFERENCE_DIGEST, WEB_HOSTILE))
    yield await serve(archive)
    archive.close()


@pytest.fixture
async def page(reader: Client) -> AsyncIterator[Page]:
    """A fresh page that records every console error, page error and failed request."""
    async with chromium() as browser:
        context = await browser.new_context(base_url=reader.base)
        tab = await context.new_page()
        problems: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                problems.append(f"console {message.type}: {message.text}")

        tab.on("console", on_console)
        tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        tab.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        tab.problems = problems  # type: ignore[attr-defined]
        yield tab
        await context.close()


async def test_the_day_shows_14_items_and_details_open_on_click(page: Page) -> None:
    await page.goto("/d/2026-02-03")
    await expect(page.locator("article.item")).to_have_count(14)
    first = page.locator("article.item").first
    section = first.locator(".section h3").first
    await expect(section).to_be_hidden()
    await first.locator("details > summary").click()
    await expect(section).to_be_visible()
    await expect(section).to_have_text("🔹 核心技术/实现逻辑")
    await expect(first.locator(".section li").first).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]


async def test_searching_tag_rl_shows_items_2_and_7(page: Page) -> None:
    await page.goto("/d/2026-02-03")
    await page.get_by_role("searchbox").fill("tag:RL")
    await page.get_by_role("searchbox").press("Enter")
    await page.wait_for_url("**/search?q=tag%3ARL")
    hits = page.locator("article.hit")
    await expect(hits).to_have_count(2)
    shown = await hits.evaluate_all("els => els.map(e => [e.dataset.date, e.dataset.rank])")
    assert shown == [["2026-02-03", "2"], ["2026-02-03", "7"]]
    await expect(hits.nth(0).locator(".title")).to_contain_text("INT4 量化感知训练")
    await expect(page.get_by_role("searchbox")).to_have_value("tag:RL")
    assert page.problems == []  # type: ignore[attr-defined]


async def test_no_page_has_console_errors(page: Page) -> None:
    for path in ("/", "/d/2026-02-03", "/d/2026-02-03/2", "/search?q=tag:RL", "/search",
                 "/tags", "/d/2026-02-06"):  # fmt: skip
        response = await page.goto(path, wait_until="networkidle")  # favicon included
        assert response is not None and response.status == 200, path
        for summary in await page.locator("details > summary").all():
            await summary.click()
    assert page.problems == []  # type: ignore[attr-defined]
    # A bad query is answered 400, which Chromium reports; nothing else may be reported.
    response = await page.goto("/search?q=tga:RL", wait_until="networkidle")
    assert response is not None and response.status == 400
    await expect(page.locator(".error .message")).to_contain_text('unknown key "tga"')
    assert [p for p in page.problems if "status of 400" not in p] == []  # type: ignore[attr-defined]


PROBE = "() => window.pwned === undefined && window.parent.pwned === undefined"


async def test_a_hostile_digest_runs_no_script(page: Page) -> None:
    for path in ("/d/2026-02-06", "/d/2026-02-06/1", "/search?q=date:2026-02-06", "/tags"):
        await page.goto(path)
        for summary in await page.locator("details > summary").all():
            await summary.click()
        for element in await page.locator(".body b, .body a, table").all():
            await element.hover()
        assert await page.evaluate(PROBE), path
        assert await page.locator("script, iframe, img, svg").count() == 0, path
    # Its content is there, as text a person can read.
    await page.goto("/d/2026-02-06/1")
    await expect(page.locator("h1.title")).to_contain_text('<script>window.pwned = "headline"')
    for link in await page.locator("main a").all():
        href = await link.get_attribute("href")
        assert href is not None and (href.startswith(("/", "https://", "http://"))), href
    assert page.problems == []  # type: ignore[attr-defined]


async def test_the_hostile_digest_would_run_where_html_is_trusted(page: Page) -> None:
    """The probe can fail: the same file rendered with raw HTML allowed sets the flag."""
    from markdown_it import MarkdownIt

    unsafe = MarkdownIt("commonmark", {"html": True}).render(WEB_HOSTILE.read_text("utf-8"))
    await page.set_content(unsafe)
    await page.wait_for_function("() => window.pwned !== undefined")
    assert not await page.evaluate(PROBE)
