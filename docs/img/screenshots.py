"""Take the README's screenshots of the web reader with Debian's Chromium.

Serves a temporary archive holding the reference digest exactly as ``digestbot run``
does, then saves the day page and a search (desktop, light) and the day page on a phone
(dark) next to this script. Emoji need a colour emoji font (Debian:
``fonts-noto-color-emoji``); the CJK text needs ``fonts-noto-cjk``.

    python docs/img/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from bot.archive import Archive  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.ingest import file_sha256, parse_file  # noqa: E402
from bot.runtime import bound_port, start_http_server  # noqa: E402
from tests.bot.web.browser import chromium  # noqa: E402

DIGEST = ROOT / "examples" / "digests" / "2026-02-03.md"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(f"sqlite:///{Path(tmp) / 'shots.db'}")
        archive.create_schema()
        archive.store(parse_file(DIGEST).digest, path=str(DIGEST), sha256=file_sha256(DIGEST))
        settings = Settings(web={"enabled": True, "port": 0})
        runner = await start_http_server(settings, archive=archive, scheduler=None, listeners=[])
        base = f"http://127.0.0.1:{bound_port(runner)}"
        try:
            async with chromium() as browser:
                desktop = await browser.new_page(
                    viewport={"width": 1100, "height": 900}, device_scale_factor=1
                )
                await desktop.goto(f"{base}/d/2026-02-03")
                await desktop.locator("article.item details > summary").nth(1).click()
                await desktop.locator("#item-2").scroll_into_view_if_needed()
                await desktop.evaluate("window.scrollTo(0, 0)")
                await desktop.screenshot(path=HERE / "reader-day.png")
                await desktop.goto(f"{base}/search?q=tag%3ARL")
                await desktop.screenshot(path=HERE / "reader-search.png")
                phone = await browser.new_page(
                    viewport={"width": 390, "height": 844},
                    device_scale_factor=1,
                    color_scheme="dark",
                )
                await phone.goto(f"{base}/d/2026-02-03")
                await phone.screenshot(path=HERE / "reader-phone-dark.png")
        finally:
            await runner.cleanup()
            archive.close()
    for name in ("reader-day.png", "reader-search.png", "reader-phone-dark.png"):
        print(HERE / name)


if __name__ == "__main__":
    asyncio.run(main())
