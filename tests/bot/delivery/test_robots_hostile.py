"""Hostile digest content delivered to DingTalk and WeCom group robots stays inert.

Real parts end to end: the hostile sample ingested into a real SQLite archive, the real
deliverer and robot transports (aiohttp) posting over HTTP to the fake webhooks, whose
validators read each message as the platform renders it: a live link to anything but
http(s), a raw tag the platform does not render (``<at …>``) or a field that mentions
people refuses the message, and visible ``@all``/``@所有人`` or WeCom's ``<@userid>`` counts
as a mention. Its one item is repeated under its own links so the digest needs several
messages, and every item must arrive.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.channels import load_channels
from bot.config import load_settings
from bot.delivery import Deliverer, Outcome
from bot.ingest import ingest_paths, parse_file
from bot.platforms import Transports
from formatters.templates import Templates
from tests.fakes.robot_server import FakeRobots
from tests.support.delivery_kit import FAST, write_config

DATA = Path(__file__).resolve().parents[2] / "data"
HOSTILE = DATA / "formatters_hostile_robots.md"
DAY = dt.date(2026, 2, 5)
#: Copies of the hostile item, each under its own link: more than one robot message.
COPIES = 30
#: What the hostile item tries, shown to readers as text (zero-width spaces removed).
SHOWN = ("<at id=all></at>", '<at user_id="all">', "<@wangqing>", "@所有人", "@all")


def hostile_digest(directory: Path) -> tuple[Path, list[str]]:
    """The hostile sample's item ``COPIES`` times, ranks 1…N; returns the file and links."""
    head, _, item = HOSTILE.read_text("utf-8").partition("\n### 1. ")
    links = [f"https://example.com/robots/{n}?a=1&b=2" for n in range(1, COPIES + 1)]
    items = [
        f"### {n}. " + item.replace("https://example.com/robots?a=1&b=2", link)
        for n, link in enumerate(links, start=1)
    ]
    path = directory / "hostile" / f"{DAY.isoformat()}.md"
    path.parent.mkdir()
    path.write_text(head + "\n" + "\n".join(items), "utf-8")
    assert len(parse_file(path).digest.items) == COPIES
    return path, links


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
async def test_hostile_items_all_arrive_and_trigger_nothing(
    platform: str, tmp_path: Path, fake_dingtalk: FakeRobots, fake_wecom: FakeRobots
) -> None:
    fake = {"dingtalk": fake_dingtalk, "wecom": fake_wecom}[platform]
    secret = "SEChostile" if platform == "dingtalk" else None
    webhook = fake.add_robot(secret)
    source, links = hostile_digest(tmp_path)
    channel: dict[str, Any] = {"platform": platform, "id": "g", "webhook": webhook}
    if secret:
        channel["secret"] = secret
    settings = load_settings(
        write_config(tmp_path, channels=[channel], sources=[str(source)]), environ={}
    )
    archive = Archive.from_settings(settings)
    archive.create_schema()
    transports = Transports(settings, overrides={platform: {"limits": (), "rate_window": 0.05}})
    try:
        assert ingest_paths(archive, [str(source)]).created == 1
        deliverer = Deliverer(
            archive,
            transports.get,
            templates=Templates(**settings.template_options()),
            aliases=archive.aliases,
            owner="test-owner",
            options=FAST,
        )
        (result,) = await deliverer.deliver_all(
            load_channels(settings, archive.subscriptions), date=DAY
        )
    finally:
        await transports.close()
        archive.close()

    # Delivered at all means the fake refused nothing: no raw <at> or other unrendered
    # tag, no javascript:/data:/ftp: link, no message over the platform's limit.
    assert result.outcome is Outcome.DELIVERED, result.error
    sent = fake.sent(webhook)
    assert len(sent) == result.posted > 1
    assert fake.mentions == [] and all(m["mentions"] == [] for m in sent)
    for message in sent:
        body = message["markdown"]
        assert not re.search(r"<\s*at\b", body, re.IGNORECASE), body
        assert not re.search(r"<@[^>\s]+>", body), body  # WeCom's member mention
    bodies = [call.params["body"] for call in fake.calls_to("send")]
    assert not any(b.get("at") or b.get("markdown", {}).get("mentioned_list") for b in bodies)
    live = [link for m in sent for link in m["links"]]
    assert live and all(re.match(r"^https?://", link) for link in live), live
    assert not any(scheme in link for link in live for scheme in ("javascript:", "data:"))

    # Every item arrives, in order, and its hostile text is shown, not obeyed.
    linked = [next((i for i, m in enumerate(sent) if link in m["links"]), -1) for link in links]
    assert all(i >= 0 for i in linked), dict(zip(links, linked, strict=True))
    assert linked == sorted(linked)
    plain = "\n".join(m["text"] for m in sent).replace("\u200b", "")
    for fragment in SHOWN:
        assert plain.count(fragment) >= COPIES, fragment
