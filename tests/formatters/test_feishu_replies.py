"""The Feishu app bot's search answers: callback buttons the fake open API accepts, with
values the command core decodes, within the 64 bytes every platform's buttons share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.chat import SearchReply, actions
from bot.models import Hit
from formatters import feishu_replies
from formatters.feishu import BODY_LIMIT, body_size
from formatters.templates import Templates
from tests.fakes.feishu_validation import validate_card


def _hit(rank: int, summary: str = "") -> Hit:
    return Hit(
        rank=rank,
        title=f"Title {rank}",
        url=f"https://e.com/{rank}",
        date=dt.date(2026, 2, 3),
        stars=4,
        summary=summary,
    )


def _buttons(cards: list[dict[str, Any]]) -> list[tuple[str, str]]:
    shown = [validate_card(card) for card in cards]
    return [
        (b["label"], b["value"][feishu_replies.BUTTON_KEY]) for s in shown for b in s["buttons"]
    ]


def test_search_answers_end_with_details_and_more(templates_en: Templates) -> None:
    reply = SearchReply(query="tag:RL", hits=[_hit(2), _hit(7)], total=5)
    assert _buttons(feishu_replies.render_reply(reply, templates_en)) == [
        ("Details 1", "d:2026-02-03:2"),
        ("Details 2", "d:2026-02-03:7"),
        ("More ▸", actions.encode_more("tag:RL", 2)),
    ]
    last = SearchReply(query="q", hits=[_hit(1)], total=1)
    assert _buttons(feishu_replies.render_reply(last, templates_en)) == [
        ("Details 1", "d:2026-02-03:1")
    ]
    empty = SearchReply(query="q", hits=[], total=0)
    assert _buttons(feishu_replies.render_reply(empty, templates_en)) == []


def test_a_long_query_pages_by_key_and_values_stay_short(templates_en: Templates) -> None:
    query = "date:2026-02-03 " + "强化学习 " * 12
    reply = SearchReply(query=query, hits=[_hit(1)], total=9, more_key="ab12")
    buttons = _buttons(feishu_replies.render_reply(reply, templates_en))
    assert buttons[-1] == ("More ▸", "k:1:ab12")
    assert all(len(v.encode()) <= actions.CALLBACK_LIMIT for _, v in buttons)
    assert all(actions.decode(v) is not None for _, v in buttons)
    # No key (the query fits nowhere): no "more" button rather than a value too long.
    keyless = SearchReply(query=query, hits=[_hit(1)], total=9)
    assert [label for label, _ in _buttons(feishu_replies.render_reply(keyless, templates_en))] == [
        "Details 1"
    ]


def test_a_full_card_leaves_the_buttons_a_card_of_their_own(templates: Templates) -> None:
    hits = [_hit(n, summary="长" * 3000) for n in range(1, 7)]  # one card, nearly full
    cards = feishu_replies.render_reply(SearchReply(query="q", hits=hits, total=9), templates)
    assert all(body_size({"card": card}) <= BODY_LIMIT for card in cards)
    assert len(cards) == 2 and [e["tag"] for e in cards[1]["body"]["elements"]] == ["column_set"]
    assert len(_buttons(cards)) == 7
