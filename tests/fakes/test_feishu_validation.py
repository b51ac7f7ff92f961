"""The Feishu validators hold cards, posts and text to Feishu's limits and rendering."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.feishu_validation import CARD_INVALID, validate_feishu_message
from tests.fakes.robot_markdown import RobotRefused


def card(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"msg_type": "interactive", "card": {"schema": "2.0", "body": {"elements": elements}}}


def post(*paragraphs: list[dict[str, Any]]) -> dict[str, Any]:
    content = {"zh_cn": {"title": "T", "content": list(paragraphs)}}
    return {"msg_type": "post", "content": {"post": content}}


def nested(depth: int) -> dict[str, Any]:
    element: dict[str, Any] = {"tag": "markdown", "content": "x"}
    for _ in range(depth):
        title = {"title": {"tag": "plain_text", "content": "p"}}
        element = {"tag": "collapsible_panel", "header": title, "elements": [element]}
    return element


def test_a_card_holds_at_most_200_elements() -> None:
    assert validate_feishu_message(card([{"tag": "hr"}] * 200))
    with pytest.raises(RobotRefused, match="exceeds 200") as caught:
        validate_feishu_message(card([{"tag": "hr"}] * 201))
    assert caught.value.code == CARD_INVALID


def test_containers_nest_at_most_five_deep() -> None:
    assert validate_feishu_message(card([nested(5)]))["panels"] == 5
    with pytest.raises(RobotRefused, match="nested deeper than 5"):
        validate_feishu_message(card([nested(6)]))


def test_posts_are_read_as_shown() -> None:
    shown = validate_feishu_message(
        post(
            [{"tag": "text", "text": "hi "}, {"tag": "a", "text": "x", "href": "https://e.com/"}],
            [{"tag": "text", "text": '<at user_id="all">all</at> @所有人'}],
            [{"tag": "at", "user_id": "ou_1"}],
        )
    )
    assert shown["links"] == ["https://e.com/"] and "hi x" in shown["text"]
    assert set(shown["mentions"]) == {'<at user_id="all">', "@所有人", "ou_1"}
    with pytest.raises(RobotRefused, match="post link"):
        validate_feishu_message(post([{"tag": "a", "text": "x", "href": "javascript:alert(1)"}]))
    with pytest.raises(RobotRefused, match="post element"):
        validate_feishu_message(post([{"tag": "script", "text": "x"}]))
