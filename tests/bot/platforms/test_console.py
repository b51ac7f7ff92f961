"""ConsoleTransport: the rich rendering printed to a terminal, one ledger message per block."""

from __future__ import annotations

import io

from rich.console import Console

from bot.channels import Channel
from bot.ingest import parse_file
from bot.platforms.console import ConsoleTransport
from formatters.templates import Templates
from tests.support.delivery_kit import DAY, REFERENCE

TERMINAL = Channel("console", "terminal", "0 9 * * *", "UTC")


async def test_prints_every_item_of_the_digest() -> None:
    buffer = io.StringIO()
    transport = ConsoleTransport(Console(file=buffer, width=120, color_system=None))
    digest = parse_file(REFERENCE).digest
    payloads = transport.render(digest, Templates())
    ids = [
        await transport.send(TERMINAL, i, payload, digest_date=DAY)
        for i, payload in enumerate(payloads)
    ]
    assert ids == [f"2026-02-03#{i}" for i in range(len(payloads))]
    text = buffer.getvalue()
    assert "AI 每日情报" in text
    positions = [text.find(item.title[:12]) for item in digest.items]
    assert -1 not in positions, [
        item.title for item, p in zip(digest.items, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)  # in digest order
    assert await transport.find_posted(TERMINAL, DAY, 0) is None
    assert transport.describe(payloads[0]).startswith("terminal block: ── AI 每日情报")
