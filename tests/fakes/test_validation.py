"""The validators behave like the platforms (pure functions, no server)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.slack_validation import (
    MAX_BLOCKS,
    SlackPayloadError,
    check_slack_message,
    find_live_mentions,
    live_mentions,
    validate_slack_message,
)
from tests.fakes.telegram_validation import (
    MAX_TEXT_UTF16,
    TelegramHTMLError,
    check_telegram_html,
    check_telegram_message,
    message_text,
    parse_telegram_html,
    utf16_len,
    validate_reply_markup,
    validate_telegram_html,
    validate_telegram_message,
)

DATA = Path(__file__).resolve().parent.parent / "data"
SLACK = json.loads((DATA / "fakes_slack_messages.json").read_text(encoding="utf-8"))
TELEGRAM = json.loads((DATA / "fakes_telegram_html.json").read_text(encoding="utf-8"))


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str, url: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": "b",
        "text": {"type": "plain_text", "text": text},
    }
    if url is not None:
        button["url"] = url
    return button


def _kb(button: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [[button]]}


# -- Slack --------------------------------------------------------------------------------
@pytest.mark.parametrize("case", SLACK["valid"], ids=lambda c: c["name"])
def test_valid_slack_samples_pass(case: dict[str, Any]) -> None:
    assert validate_slack_message(case["payload"]) == []


@pytest.mark.parametrize("case", SLACK["invalid"], ids=lambda c: c["name"])
def test_invalid_slack_samples_name_the_error_and_place(case: dict[str, Any]) -> None:
    errors = validate_slack_message(case["payload"])
    assert errors, case["name"]
    assert all(e.split(":", 1)[0] == case["error"] for e in errors)
    if "pointer" in case:
        assert any(f"[json-pointer:{case['pointer']}]" in e for e in errors), errors


@pytest.mark.parametrize(
    ("blocks", "pointer", "limit"),
    [
        ([_section("x" * 3001)], "/blocks/0", "3000"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "/blocks/0",
            "150",
        ),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "/blocks/0",
            "10",
        ),
        ([{"type": "actions", "elements": [_button("b" * 76)]}], "/blocks/0", "75"),
        (
            [{"type": "actions", "elements": [_button("b", "https://x.io/" + "u" * 2988)]}],
            "/blocks/0",
            "3000",
        ),
    ],
    ids=["section-3001", "header-151", "context-11", "button-text-76", "button-url-3001"],
)
def test_slack_limits_one_past_the_edge_fail(blocks: list[Any], pointer: str, limit: str) -> None:
    errors = validate_slack_message({"text": "t", "blocks": blocks})
    assert errors and errors[0].startswith("invalid_blocks: ")
    assert f"[json-pointer:{pointer}" in errors[0] and limit in errors[0]


def test_slack_limits_at_the_edge_pass() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        _section("x" * 3000),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [_button("b" * 75, "https://x.io/" + "u" * 2987)]},
    ]
    blocks += [{"type": "divider"}] * (MAX_BLOCKS - len(blocks))
    assert validate_slack_message({"text": "t" * 40_000, "blocks": blocks}) == []


def test_slack_too_many_blocks_and_too_long_text() -> None:
    errors = validate_slack_message({"text": "t", "blocks": [{"type": "divider"}] * 51})
    assert errors == ["invalid_blocks: no more than 50 items allowed [json-pointer:/blocks]"]
    assert validate_slack_message({"text": "t" * 40_001}) == ["msg_too_long"]


def test_slack_blocks_may_be_a_json_string() -> None:
    blocks = [_section("a")]
    assert validate_slack_message({"blocks": json.dumps(blocks)}) == []
    assert validate_slack_message({"blocks": json.dumps([_section("")])}) != []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"text": "hi <!here> and <!channel|channel>"}, ["<!here>", "<!channel|channel>"]),
        ({"text": "<@U123ABC> <#C42|general> <!subteam^S1|@team>"}, 3),
        ({"text": "&lt;!here&gt; is escaped"}, []),
        ({"text": "t", "blocks": [_section("<!everyone>")]}, ["<!everyone>"]),
        (
            {
                "text": "t",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "<!channel>"}}
                ],
            },
            [],
        ),
        ({"text": "@here please"}, []),
        ({"text": "@here please", "link_names": True}, ["@here"]),
        (
            {
                "text": "t",
                "blocks": [
                    {
                        "type": "rich_text",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "broadcast", "range": "here"}],
                            }
                        ],
                    }
                ],
            },
            1,
        ),
        ({"text": "<https://example.com|a link> <!date^1392734382^{date}|Feb 18>"}, []),
    ],
)
def test_find_live_mentions(payload: dict[str, Any], expected: list[str] | int) -> None:
    found = find_live_mentions(payload)
    if isinstance(expected, int):
        assert len(found) == expected, found
    else:
        assert found == expected


# -- Telegram -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", TELEGRAM["valid"], ids=lambda c: c["html"][:30])
def test_telegram_html_valid_samples(case: dict[str, Any]) -> None:
    text, entities = parse_telegram_html(case["html"])
    assert text == case["text"]
    assert entities == case["entities"]
    assert validate_telegram_html(case["html"]) == []


@pytest.mark.parametrize("case", TELEGRAM["invalid"], ids=lambda c: c["html"][:30])
def test_telegram_html_invalid_samples(case: dict[str, Any]) -> None:
    assert validate_telegram_html(case["html"]) == [case["error"]]


def test_utf16_len_counts_surrogate_pairs() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("中文") == 2
    assert utf16_len("😀") == 2
    assert utf16_len("👨‍👩‍👧") == 8


def test_message_length_limit_in_utf16_units_after_parsing() -> None:
    assert message_text("😀" * (MAX_TEXT_UTF16 // 2), "HTML")[0] == "😀" * 2048
    with pytest.raises(ValueError, match="message is too long"):
        message_text("😀" * 2048 + "a", "HTML")
    # markup does not count, escaped characters count once
    assert message_text("<b>" + "&amp;" * 4096 + "</b>", "HTML")[0] == "&" * 4096
    with pytest.raises(ValueError, match="message text is empty"):
        message_text("<b> </b>\n", "HTML")


def test_message_text_strips_and_shifts_entities() -> None:
    text, entities = message_text("  <b>x</b> ", "HTML")
    assert text == "x"
    assert entities == [{"offset": 0, "length": 1, "type": "bold"}]


def test_plain_text_is_not_parsed() -> None:
    assert message_text("<div> & </div>", None) == ("<div> & </div>", [])


@pytest.mark.slow
@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_escaped_text_round_trips(text: str) -> None:
    plain, entities = parse_telegram_html(html.escape(text, quote=False))
    assert plain == text and entities == []


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ({"inline_keyboard": [[{"text": "more", "callback_data": "m" * 64}]]}, None),
        (
            {"inline_keyboard": [[{"text": "more", "callback_data": "m" * 65}]]},
            "BUTTON_DATA_INVALID",
        ),
        (
            {"inline_keyboard": [[{"text": "更多", "callback_data": "更" * 22}]]},
            "BUTTON_DATA_INVALID",
        ),
        ({"inline_keyboard": [[{"text": "open", "url": "https://example.com"}]]}, None),
        ({"inline_keyboard": [[{"text": "open", "url": "javascript:alert(1)"}]]}, "Wrong HTTP URL"),
        ({"inline_keyboard": [[{"text": "plain"}]]}, "text buttons are unallowed"),
        ({"inline_keyboard": [{"text": "x", "url": "https://e.com"}]}, "Array of Arrays"),
        ("{not json", "can't parse reply keyboard markup"),
        (json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}), None),
    ],
)
def test_reply_markup(markup: Any, error: str | None) -> None:
    problems = validate_reply_markup(markup)
    if error is None:
        assert problems == []
    else:
        assert len(problems) == 1 and error in problems[0]


def test_validate_telegram_message_collects_bot_api_descriptions() -> None:
    errors = validate_telegram_message(
        "<b>x", reply_markup={"inline_keyboard": [[{"text": "t", "callback_data": ""}]]}
    )
    assert errors == [
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        "Bad Request: BUTTON_DATA_INVALID",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "<b>unclosed",
        "<b><i>x</b></i>",
        "<script>x</script>",
        '<a href="javascript:alert(1)">x</a>',
        "a < b",
        "a & b",
        "&nbsp;",
        "x" * 4097,
        "🚀" * 2049,
        "   ",
    ],
)
def test_bad_telegram_html_is_rejected(text: str) -> None:
    with pytest.raises(TelegramHTMLError):
        check_telegram_html(text)


def test_good_telegram_html_passes_and_shows_the_visible_text() -> None:
    visible = check_telegram_html(
        '<b>a</b> &lt;&amp;&gt; <a href="https://e.com/?a=1&amp;b=2">l</a>' + "🚀" * 2040
    )
    assert visible.startswith("a <&> l")
    with pytest.raises(TelegramHTMLError, match="parse_mode"):
        check_telegram_message({"text": "x", "parse_mode": None})


@pytest.mark.parametrize(
    "payload",
    [
        {
            "text": "t",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        },
        {
            "text": "t",
            "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        },
        {"text": "t", "blocks": [{"type": "divider"}] * 51},
        {"text": "t", "blocks": [{"type": "bogus"}]},
        {
            "text": "t",
            "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}],
        },
        {
            "text": "t",
            "blocks": [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "b"},
                            "action_id": f"a{i}",
                            "value": "v",
                        }
                        for i in range(26)
                    ],
                }
            ],
        },
    ],
)
def test_bad_slack_payloads_are_rejected(payload: dict[str, Any]) -> None:
    with pytest.raises(SlackPayloadError):
        check_slack_message(payload)


def test_angle_brackets_that_are_not_our_links_are_found() -> None:
    assert live_mentions("hi <!channel> and <@U1> <#C1|x>") == ["<!channel>", "<@U1>", "<#C1|x>"]
    assert live_mentions("<https://e.com|ok> &lt;!here&gt; > quote") == []
    assert live_mentions("<javascript:x|y>") == ["<javascript:x|y>"]
    assert live_mentions("a < b") == ["unbalanced angle bracket"]
