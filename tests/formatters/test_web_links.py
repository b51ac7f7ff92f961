"""With ``web.base_url`` set, every item posted to chat links to its page in the reader."""

from __future__ import annotations

import io
import re

from rich.console import Console

from bot.chat import DigestReply, SearchReply
from bot.config import Settings
from bot.models import Digest, Hit
from formatters import console, slack, telegram
from formatters.templates import Templates
from tests.fakes.slack_validation import check_slack_message
from tests.fakes.telegram_validation import check_telegram_message

BASE = "https://news.example.com"


def web_templates(language: str = "zh") -> Templates:
    settings = Settings(language=language, web={"base_url": BASE + "/"})
    return Templates(**settings.template_options())


def hits(digest: Digest, ranks: tuple[int, ...]) -> list[Hit]:
    by_rank = {item.rank: item for item in digest.items}
    return [Hit(date=digest.date, **by_rank[r].model_dump()) for r in ranks]


def test_slack_digest_links_every_item_once_in_its_headline(reference: Digest) -> None:
    messages = slack.render_digest(reference, web_templates())
    parent = messages[0].model_dump(mode="json", exclude_none=True)
    check_slack_message(parent)
    text = "\n".join(b["text"]["text"] for b in parent["blocks"] if b["type"] == "section")
    linked = re.findall(rf"<{re.escape(BASE)}/d/2026-02-03/(\d+)\|网页>", text)
    assert [int(rank) for rank in linked] == [item.rank for item in reference.items]


def test_telegram_digest_and_search_link_to_the_reader(reference: Digest) -> None:
    templates = web_templates("en")
    linked: set[int] = set()
    for message in telegram.render_digest(reference, templates):
        check_telegram_message(message.model_dump(mode="json", exclude_none=True))
        found = re.findall(rf'<a href="{re.escape(BASE)}/d/2026-02-03/(\d+)">Web</a>', message.text)
        linked.update(int(rank) for rank in found)
    assert linked == {item.rank for item in reference.items}
    reply = SearchReply(query="tag:RL", hits=hits(reference, (2, 7)), total=2, limit=5)
    (message,) = telegram.render_reply(reply, templates)
    check_telegram_message(message.model_dump(mode="json", exclude_none=True))
    assert f'<a href="{BASE}/d/2026-02-03/2">Web</a>' in message.text
    assert f'<a href="{BASE}/d/2026-02-03/7">Web</a>' in message.text


def test_console_prints_the_permalink(reference: Digest) -> None:
    out = Console(file=io.StringIO(), width=200, color_system=None)
    for renderable in console.render_reply(DigestReply(digest=reference), web_templates()):
        out.print(renderable)
    printed = out.file.getvalue()  # type: ignore[attr-defined]
    assert f"网页: {BASE}/d/2026-02-03/1" in printed
    assert f"{BASE}/d/2026-02-03/14" in printed


def test_without_base_url_nothing_changes(reference: Digest, templates: Templates) -> None:
    plain = slack.render_digest(reference, templates)
    assert plain == slack.render_digest(reference, Templates(**Settings().template_options()))
    assert "/d/2026-02-03/" not in str([m.model_dump() for m in plain])
